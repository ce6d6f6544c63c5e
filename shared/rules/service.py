"""Watches as a product: CRUD with validation, quarantine, and the compiled engine per rule-set version.

Fault containment: a watch that fails to compile is left out of the engine and reported (`EngineCache.get`
returns it among the failures); one whose evaluation raises on an article is found by `failing_watches`.
The caller quarantines such watches (`quarantine_watch`), so every other watch goes on matching.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.errors import Conflict, NotFound
from shared.models import Watch
from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import utcnow
from shared.models.watch import WATCH_ACTIVE, WATCH_QUARANTINED
from shared.rules import (
    Engine,
    EntityResolver,
    MatchDocument,
    WatchSpec,
    canonical,
    compile_watches,
    store,
)
from shared.rules.stats import Frequencies, document_frequencies
from shared.rules.validation import MIN_SAMPLE

log = logging.getLogger(__name__)

FREQUENCY_SAMPLE = 500  # recent articles whose word frequencies pick each rule's presearch anchor


class WatchExistsError(Conflict):
    """A watch with this name exists already."""

    code = "name_taken"


def get_watch(*, session: Session, watch_id: int, owner_id: int | None = None) -> Watch:
    """One watch; NotFound when there is none, or it belongs to another owner than `owner_id`."""
    watch = store.get_watch(session=session, watch_id=watch_id, owner_id=owner_id)
    if watch is None:
        raise NotFound("no such watch")
    return watch


def _flush_unique(session: Session, watch: Watch) -> None:
    # the name check before is for the message; the unique constraint decides under concurrent writes
    try:
        with session.begin_nested():
            session.add(watch)
            session.flush()
    except IntegrityError as exc:
        raise WatchExistsError(f"a watch named {watch.name!r} exists already") from exc


def create_watch(
    *,
    session: Session,
    name: str,
    query: str,
    description: str | None = None,
    enabled: bool = True,
    max_alerts_per_hour: int | None = None,
    owner_id: int = SYSTEM_ACCOUNT_ID,
) -> Watch:
    """Validate the query (RuleSyntaxError names the position) and store the watch for its owner."""
    canon = canonical(query)
    if store.by_name(session=session, name=name, owner_id=owner_id) is not None:
        raise WatchExistsError(f"a watch named {name!r} exists already")
    watch = Watch(
        owner_id=owner_id,
        name=name,
        query=query,
        canonical_query=canon,
        description=description,
        enabled=enabled,
        max_alerts_per_hour=max_alerts_per_hour,
    )
    _flush_unique(session, watch)
    store.bump_ruleset_version(session=session)
    return watch


def update_watch(*, session: Session, watch: Watch, changes: dict[str, object]) -> Watch:
    """Apply changes; a new query is validated and bumps the watch's version; a taken name is a conflict."""
    if "query" in changes and changes["query"] != watch.query:
        query = str(changes["query"])
        watch.canonical_query = canonical(query)
        watch.query = query
        watch.version += 1
        _activate(watch)  # a new query gets a new chance
    name = changes.get("name")
    taken = name is not None and name != watch.name
    if taken and store.by_name(session=session, name=str(name), owner_id=watch.owner_id) is not None:
        raise WatchExistsError(f"a watch named {name!r} exists already")
    for key in ("name", "description", "enabled", "max_alerts_per_hour"):
        if key in changes:
            setattr(watch, key, changes[key])
    watch.updated_at = utcnow()
    _flush_unique(session, watch)
    store.bump_ruleset_version(session=session)
    return watch


def delete_watch(*, session: Session, watch: Watch) -> None:
    """Delete a watch (its matches and alerts go with it)."""
    session.delete(watch)
    session.flush()
    store.bump_ruleset_version(session=session)


def _activate(watch: Watch) -> None:
    watch.status = WATCH_ACTIVE
    watch.status_reason = None
    watch.failed_at = None


def quarantine_watch(*, session: Session, watch: Watch, reason: str) -> bool:
    """Take a failing watch out of matching, with the reason; False when it was quarantined already
    (by this or another worker: exactly one of them wins and raises the event)."""
    if watch.status == WATCH_QUARANTINED or watch.id is None:
        return False
    if not store.mark_quarantined(session=session, watch_id=watch.id, reason=reason[:2000], at=utcnow()):
        return False
    session.refresh(watch)
    store.bump_ruleset_version(session=session)
    return True


def resume_watch(*, session: Session, watch: Watch) -> Watch:
    """Put a quarantined watch back into matching (after the cause was fixed)."""
    _activate(watch)
    watch.updated_at = utcnow()
    session.add(watch)
    session.flush()
    store.bump_ruleset_version(session=session)
    return watch


def describe(exc: BaseException) -> str:
    """A one-line reason for a fault, as stored and shown in the API."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


@dataclass
class WatchFailure:
    """A watch that could not be compiled or evaluated, and why."""

    watch_id: int
    reason: str


@dataclass
class CompiledRules:
    """One rule-set version compiled: the engine of the watches that compile, and those that did not."""

    version: int
    engine: Engine
    specs: list[WatchSpec]
    failures: list[WatchFailure] = field(default_factory=list)


def _compile_each(
    specs: Sequence[WatchSpec], resolver: EntityResolver | None, freq: Frequencies | None
) -> tuple[list[WatchSpec], list[WatchFailure]]:
    """The specs that compile on their own, and a failure for each one that does not."""
    good: list[WatchSpec] = []
    bad: list[WatchFailure] = []
    for spec in specs:
        try:
            compile_watches([spec], resolver=resolver, frequencies=freq)
        except Exception as exc:  # any fault of one rule (syntax, depth, resolver) is that rule's alone
            bad.append(WatchFailure(int(spec.id), f"does not compile: {describe(exc)}"))
        else:
            good.append(spec)
    return good, bad


def failing_watches(
    *, specs: Sequence[WatchSpec], doc: MatchDocument, resolver: EntityResolver | None
) -> list[WatchFailure]:
    """The watches whose own evaluation raises on this document (called after the engine raised on it).

    Empty when the document fails even with no rule at all, or when no watch fails alone: then the article,
    not a watch, is at fault.
    """
    try:
        compile_watches([]).match(doc)
    except Exception:
        return []
    out = []
    for spec in specs:
        try:
            compile_watches([spec], resolver=resolver).match(doc)
        except Exception as exc:
            out.append(WatchFailure(int(spec.id), f"fails to evaluate: {describe(exc)}"))
    return out


class EngineCache:
    """One compiled engine per process, recompiled when the rule-set version in the database moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: CompiledRules | None = None

    def get(self, *, session: Session, resolver: EntityResolver | None) -> CompiledRules:
        """The active watches compiled for the current rule-set version (compiled once per version)."""
        version = store.ruleset_version(session=session)
        with self._lock:
            if self._cached is None or self._cached.version != version:
                started = time.perf_counter()
                watches = store.enabled_watches(session=session)
                specs = [
                    WatchSpec(id=w.id or 0, name=w.name, query=w.query, version=w.version) for w in watches
                ]
                # Anchoring each rule on its truly rarest words (frequencies of recent articles) keeps the
                # presearch's candidates few; without enough articles yet, longer words count as rarer.
                texts = store.recent_texts(session=session, limit=FREQUENCY_SAMPLE)
                freq = document_frequencies(texts) if len(texts) >= MIN_SAMPLE else None
                failures: list[WatchFailure] = []
                try:
                    engine = compile_watches(specs, resolver=resolver, frequencies=freq)
                except Exception:  # one bad rule: find it, and compile the others without it
                    specs, failures = _compile_each(specs, resolver, freq)
                    engine = compile_watches(specs, resolver=resolver, frequencies=freq)
                self._cached = CompiledRules(version, engine, specs, failures)
                log.info(
                    "compiled %d watches of rule set version %d in %.2f s (%d failed)",
                    len(specs),
                    version,
                    time.perf_counter() - started,
                    len(failures),
                )
            return self._cached


ENGINES = EngineCache()
