"""Watches as a product: CRUD with validation, and the compiled engine per rule-set version."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.errors import Conflict, NotFound
from shared.models import Watch
from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import utcnow
from shared.rules import Engine, EntityResolver, WatchSpec, canonical, compile_watches, store
from shared.rules.stats import document_frequencies
from shared.rules.validation import MIN_SAMPLE

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
    session.delete(watch)
    session.flush()
    store.bump_ruleset_version(session=session)


@dataclass
class _Cached:
    version: int
    engine: Engine


class EngineCache:
    """One compiled engine per process, recompiled when the rule-set version in the database moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: _Cached | None = None

    def get(self, *, session: Session, resolver: EntityResolver | None) -> Engine:
        version = store.ruleset_version(session=session)
        with self._lock:
            if self._cached is None or self._cached.version != version:
                watches = store.enabled_watches(session=session)
                specs = [
                    WatchSpec(id=w.id or 0, name=w.name, query=w.query, version=w.version) for w in watches
                ]
                # Anchoring each rule on its truly rarest words (frequencies of recent articles) keeps the
                # presearch's candidates few; without enough articles yet, longer words count as rarer.
                texts = store.recent_texts(session=session, limit=FREQUENCY_SAMPLE)
                freq = document_frequencies(texts) if len(texts) >= MIN_SAMPLE else None
                engine = compile_watches(specs, resolver=resolver, frequencies=freq)
                self._cached = _Cached(version, engine)
            return self._cached.engine


ENGINES = EngineCache()
