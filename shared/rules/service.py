"""Watches as a product: CRUD with validation, and the compiled engine per rule-set version."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlmodel import Session

from shared.errors import Conflict
from shared.models import Watch
from shared.models.base import utcnow
from shared.rules import Engine, EntityResolver, WatchSpec, canonical, compile_watches, store
from shared.rules.stats import document_frequencies
from shared.rules.validation import MIN_SAMPLE

FREQUENCY_SAMPLE = 500  # recent articles whose word frequencies pick each rule's presearch anchor


class WatchExistsError(Conflict):
    """A watch with this name exists already."""

    code = "name_taken"


def create_watch(
    *,
    session: Session,
    name: str,
    query: str,
    description: str | None = None,
    enabled: bool = True,
    max_alerts_per_hour: int | None = None,
) -> Watch:
    """Validate the query (RuleSyntaxError names the position) and store the watch."""
    canon = canonical(query)
    if store.by_name(session=session, name=name) is not None:
        raise WatchExistsError(f"a watch named {name!r} exists already")
    watch = Watch(
        name=name,
        query=query,
        canonical_query=canon,
        description=description,
        enabled=enabled,
        max_alerts_per_hour=max_alerts_per_hour,
    )
    session.add(watch)
    session.flush()
    store.bump_ruleset_version(session=session)
    return watch


def update_watch(*, session: Session, watch: Watch, changes: dict[str, object]) -> Watch:
    """Apply changes; a new query is validated and bumps the watch's version."""
    if "query" in changes and changes["query"] != watch.query:
        query = str(changes["query"])
        watch.canonical_query = canonical(query)
        watch.query = query
        watch.version += 1
    for key in ("name", "description", "enabled", "max_alerts_per_hour"):
        if key in changes:
            setattr(watch, key, changes[key])
    watch.updated_at = utcnow()
    session.add(watch)
    session.flush()
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
