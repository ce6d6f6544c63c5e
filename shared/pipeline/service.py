"""Processing a batch of fetched articles: language → entities → watch matching → alerts and outbox.

Everything one batch writes (mentions, matches, alerts, deliveries, the article status) commits together,
so a crash half-way leaves the articles `fetched` for the sweep to find, and a second run changes nothing.

One bad input never stops the rest:
- a watch that fails to compile, or whose evaluation raises on an article, is quarantined (status and
  reason on the watch, a `watch.failed` event) and the batch runs again without it;
- an article that makes the batch fail splits the batch: each article then runs alone, and the one that
  fails again counts a failed attempt (its reason in `error`); after `pipeline_max_attempts` it is
  `failed` (retried through the API), before that the sweep brings it back.
Database errors that pass (a lock, a lost connection) are not anyone's fault: they go up to the task,
which retries the whole batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, func, select

from shared import metrics
from shared.alerts import service as alerts
from shared.alerts.payload import EntityRef
from shared.config import Settings
from shared.db import is_sqlite
from shared.models import Article, Feed, Watch
from shared.models.article import STATUS_FAILED, STATUS_FETCHED, STATUS_PROCESSED
from shared.models.base import to_utc, utcnow
from shared.nlp import ArticleEntities, ArticleInput, EntityExtractor, cached_knowledge_base
from shared.nlp import store as mentions
from shared.rules import DocEntity, EntityResolver, MatchDocument
from shared.rules.service import ENGINES, WatchFailure, describe, failing_watches, quarantine_watch
from shared.search.index import article_time, index_articles

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)  # the database, not the article: the task retries
MAX_WATCH_ROUNDS = 5  # quarantine rounds one batch may go through (each takes at least one watch out)

Sessions = Callable[[], AbstractContextManager[Session]]


class Extractor(Protocol):
    """What the pipeline needs of an entity extractor (EntityExtractor, or a registered one)."""

    @property
    def kb(self) -> EntityResolver | None: ...

    def extract_many(self, items: Sequence[ArticleInput]) -> list[ArticleEntities]: ...


ExtractorFactory = Callable[[Settings], Extractor]


def _default_extractor(settings: Settings) -> Extractor:
    kb = cached_knowledge_base(settings.effective_kb_path)
    return EntityExtractor(kb=kb, model_name=settings.spacy_model)


_lock = threading.Lock()
_factories: dict[str, ExtractorFactory] = {"default": _default_extractor}
_extractors: dict[tuple[str, str, str], Extractor] = {}


def register_extractor(name: str, factory: ExtractorFactory) -> None:
    """Make an extractor selectable as NEWSWATCH_ENTITY_EXTRACTOR=name (plugins and tests add theirs)."""
    with _lock:
        _factories[name] = factory


def extractor_for(settings: Settings) -> Extractor:
    """The process's entity extractor (model and knowledge base loaded once)."""
    key = (settings.entity_extractor, settings.spacy_model, str(settings.effective_kb_path))
    with _lock:
        if key not in _extractors:
            factory = _factories.get(settings.entity_extractor)
            if factory is None:
                raise LookupError(f"no entity extractor named {settings.entity_extractor!r} is registered")
            _extractors[key] = factory(settings)
        return _extractors[key]


_WARM_UP = ArticleInput(
    title="Leaders meet at the Shanghai Cooperation Organisation summit",
    text="The heads of state of the member countries met in Astana, Kazakhstan, on Thursday.",
)


def warm(*, sessions: Sessions, settings: Settings) -> None:
    """Load what every batch needs before the first one arrives: the entity extractor (its model and
    language detector, through one sample article) and the active watches compiled.

    A worker calls this in its main process before its pool forks, so each pool process starts with them
    (shared pages, not a copy each) instead of spending its first batch on them: seconds at 10,000 watches,
    added to the first articles' latency. Whatever fails here is done again, lazily, by the first batch.
    """
    started = time.perf_counter()
    extractor = extractor_for(settings)
    extractor.extract_many([_WARM_UP])
    with sessions() as session:
        rules = ENGINES.get(session=session, resolver=extractor.kb)
    log.info(
        "pipeline warmed in %.2f s: entity extractor %r loaded, %d watches compiled",
        time.perf_counter() - started,
        settings.entity_extractor,
        len(rules.specs),
    )


class WatchFaults(Exception):
    """Watches that failed while a batch ran: quarantine them and run the batch again."""

    def __init__(self, failures: list[WatchFailure]) -> None:
        super().__init__(", ".join(f"watch {f.watch_id}: {f.reason}" for f in failures))
        self.failures = failures


def process_batch(
    *,
    sessions: Sessions,
    article_ids: Sequence[int],
    settings: Settings,
    pick_up: bool = True,
    share: int = 1,
) -> list[int]:
    """Process the still-unprocessed articles among `article_ids`, containing faults; returns delivery ids.

    With `pick_up` (PostgreSQL), the batch is filled with other articles waiting in `fetched` (oldest first,
    fetched within `pipeline_stuck_after_seconds`, never one that failed before, none another worker
    holds): articles pushed one by one are then processed in batches once they queue up, and their own tasks
    find them done. It is filled up to a `share` of the articles waiting (the ones in batches being processed
    included), at most `pipeline_batch_size`: `share` is the number of processes taking from the same
    articles (the worker's pool), so a few waiting articles are split between them and processed side by
    side, in small batches (latency), while a backlog of `share` batches or more is taken in full batches
    (throughput). A task's own ids are always taken, whatever their number.
    Each transaction comes from `sessions()` (commit on success, rollback on error).
    """
    ids = list(article_ids)
    claimed: list[int] = []  # every article the batch held, its picked-up ones included
    fill = _Fill(settings.pipeline_batch_size, max(1, share)) if pick_up else None
    try:
        return _with_quarantine(sessions, ids, settings, fill, claimed)
    except TRANSIENT:
        raise  # the task retries its own ids; a picked-up article's message or the sweep brings it back
    except Exception as exc:
        todo = ids + [i for i in claimed if i not in set(ids)]
        if len(todo) == 1:
            _attempt_failed(sessions, todo[0], exc, settings)
            return []
        log.warning("batch of %d articles failed (%s): processing them one by one", len(todo), describe(exc))
    out: list[int] = []
    for article_id in todo:
        out += process_batch(sessions=sessions, article_ids=[article_id], settings=settings, pick_up=False)
    return out


@dataclass(frozen=True)
class _Fill:
    """How a batch is filled with waiting articles: up to `ceil(waiting / share)`, at most `most`."""

    most: int
    share: int = 1


def _with_quarantine(
    sessions: Sessions, ids: list[int], settings: Settings, fill: _Fill | None, claimed: list[int]
) -> list[int]:
    out: list[int] = []
    for _round in range(MAX_WATCH_ROUNDS):
        try:
            with sessions() as session:
                extractor = extractor_for(settings)
                out += _quarantine(session, ENGINES.get(session=session, resolver=extractor.kb).failures)
            with sessions() as session:
                since = utcnow() - timedelta(seconds=settings.pipeline_stuck_after_seconds)
                batch = _claim(session, ids, fill=fill, fetched_since=since)
                claimed += [a.id for a in batch if a.id is not None and a.id not in claimed]
                return out + _process(session=session, batch=batch, settings=settings)
        except WatchFaults as faults:
            with sessions() as session:
                out += _quarantine(session, faults.failures)
    raise RuntimeError(f"watches kept failing after {MAX_WATCH_ROUNDS} quarantine rounds")


def _quarantine(session: Session, failures: Sequence[WatchFailure]) -> list[int]:
    """Quarantine each failing watch still active; returns the watch.failed deliveries to send."""
    out: list[int] = []
    for failure in failures:
        watch = session.get(Watch, failure.watch_id)
        if watch is not None and quarantine_watch(session=session, watch=watch, reason=failure.reason):
            log.warning("watch %s (%s) quarantined: %s", watch.id, watch.name, failure.reason)
            out += alerts.watch_failed(session=session, watch=watch)
    return out


def _attempt_failed(sessions: Sessions, article_id: int, exc: BaseException, settings: Settings) -> None:
    with sessions() as session:
        article = session.get(Article, article_id)
        if article is None or article.status != STATUS_FETCHED:
            return
        article.attempts += 1
        article.error = describe(exc)
        if article.attempts >= settings.pipeline_max_attempts:
            article.status = STATUS_FAILED
            article.processed_at = utcnow()
            metrics.count(session, "articles", outcome="failed", source=article.source)
        session.add(article)
    log.warning(
        "article %s failed (attempt %d of %d): %s",
        article_id,
        article.attempts,
        settings.pipeline_max_attempts,
        article.error,
        extra={"article_id": article_id},
    )


def retry_article(*, session: Session, article: Article) -> None:
    """Give a failed article a new run: back to `fetched` with its attempts cleared (enqueue after commit)."""
    article.status = STATUS_FETCHED
    article.attempts = 0
    article.error = None
    article.processed_at = None
    session.add(article)
    session.flush()


def _claim(
    session: Session,
    article_ids: Sequence[int],
    *,
    fill: _Fill | None = None,
    fetched_since: datetime | None = None,
) -> list[Article]:
    """The still-`fetched` articles among the ids, row-locked; on PostgreSQL filled (see `_Fill`) with other
    waiting articles fetched since `fetched_since` that never failed (SKIP LOCKED: two workers never hold one
    article). Older ones are the sweep's: an article that kills its worker (a hard time limit, the memory)
    before its failure is counted would otherwise be the oldest waiting one in every batch."""
    q = select(Article).where(col(Article.id).in_(article_ids), Article.status == STATUS_FETCHED)
    if is_sqlite(session):
        return list(session.exec(q.order_by(col(Article.id))))
    # two workers given the same ids must not both process one article
    batch = list(session.exec(q.order_by(col(Article.id)).with_for_update(skip_locked=True)))
    if fill is None or len(batch) >= fill.most:
        return batch
    pickable = (
        Article.status == STATUS_FETCHED,
        Article.attempts == 0,
        col(Article.fetched_at) >= (fetched_since or utcnow()),
    )
    fill_to = fill.most
    if fill.share > 1:  # the articles waiting, held ones included (they are work in the system too)
        waiting = session.exec(select(func.count()).select_from(Article).where(*pickable)).one()
        fill_to = min(fill.most, -(-int(waiting) // fill.share))
    room = fill_to - len(batch)
    if room > 0:
        picked = (
            select(Article)
            .where(*pickable, col(Article.id).not_in(list(article_ids)))
            .order_by(col(Article.id))
            .limit(room)
            .with_for_update(skip_locked=True)
        )
        batch += list(session.exec(picked))
    return batch


def _process(*, session: Session, batch: list[Article], settings: Settings) -> list[int]:
    """Process these claimed articles; returns new delivery ids to send."""
    if not batch:
        return []
    extractor = extractor_for(settings)
    cut = settings.entity_max_chars  # entities come from the start of a long text; the text stays whole
    extracted = extractor.extract_many(
        [
            ArticleInput(title=a.title, text=a.text[:cut], language=a.language, published=a.published_at)
            for a in batch
        ]
    )
    rules = ENGINES.get(session=session, resolver=extractor.kb)
    engine = rules.engine
    feed_urls = {
        f.id: f.url for f in session.exec(select(Feed).where(col(Feed.id).in_({a.feed_id for a in batch})))
    }
    # Everything costly first (matching, snippets), then the writes: on SQLite the write lock is held
    # only for the writes, so API writes meanwhile wait milliseconds, not the batch's matching time.
    matched = []
    for article, result in zip(batch, extracted, strict=True):
        doc = MatchDocument(
            title=article.title,
            text=article.text,
            language=article.language or result.language,
            published=article.published_at,
            entities=[DocEntity(e.entity_id, e.label, e.text, e.canonical) for e in result.entities],
        )
        try:
            found = engine.match(doc)
        except Exception as exc:
            failures = failing_watches(specs=rules.specs, doc=doc, resolver=extractor.kb)
            if failures:
                raise WatchFaults(failures) from exc
            raise  # no watch fails alone: the article is at fault
        for match in found:
            _ = (match.terms, match.snippet, match.score)  # built on first access: build them now
        matched.append((article, result, found))
    now = utcnow()
    # one statement per kind for the whole batch, not one round trip per entity
    mentions.replace_mentions_many(
        session=session,
        items=[
            (article.id, article_time(article.published_at, article.fetched_at), result.entities)
            for article, result, _ in matched
            if article.id is not None
        ],
    )
    watch_ids = {int(m.watch_id) for _, _, found in matched for m in found}  # only the watches that fired
    fired = select(Watch).where(col(Watch.id).in_(watch_ids))
    watches = {w.id: w for w in session.exec(fired)} if watch_ids else {}
    records: list[alerts.MatchRecord] = []
    for article, result, found in matched:
        assert article.id is not None
        article.language = article.language or result.language
        refs = _dedupe(
            [
                EntityRef(text=e.text, label=e.label, canonical=e.canonical, kb_id=e.entity_id)
                for e in result.entities
            ]
        )
        feed_url = feed_urls.get(article.feed_id)
        records += [
            alerts.MatchRecord(article=article, watch=watch, result=match, entities=refs, feed_url=feed_url)
            for match in found
            if (watch := watches.get(int(match.watch_id))) is not None
        ]
        article.status = STATUS_PROCESSED
        article.processed_at = now
        article.error = None
        session.add(article)
    # the batch's matches, alerts and deliveries in a few statements, not a few round trips per match
    delivery_ids = alerts.record_matches(session=session, records=records, settings=settings)
    session.flush()
    index_articles(session=session, articles=batch)  # searchable from the same commit on
    for source in {a.source for a in batch}:
        metrics.count(
            session, "articles", sum(a.source == source for a in batch), outcome="processed", source=source
        )
    fetched = [to_utc(a.fetched_at) for a in batch]
    metrics.observe_on_commit(
        session, "fetched_to_processed", [(now - f).total_seconds() for f in fetched if f is not None]
    )
    return delivery_ids


def _dedupe(refs: list[EntityRef]) -> list[EntityRef]:
    seen: dict[tuple[str, str], EntityRef] = {}
    for r in refs:
        seen.setdefault((r.label, r.kb_id or r.canonical or r.text), r)
    return list(seen.values())


def stuck_article_ids(*, session: Session, older_than_seconds: float, limit: int = 1000) -> list[int]:
    """Articles left `fetched` too long (a lost message, a killed worker): the sweep re-enqueues them."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    q = (
        select(Article.id)
        .where(Article.status == STATUS_FETCHED, col(Article.fetched_at) <= cutoff)
        .order_by(col(Article.id))
        .limit(limit)
    )
    return [i for i in session.exec(q) if i is not None]


__all__ = [
    "Extractor",
    "extractor_for",
    "process_batch",
    "register_extractor",
    "retry_article",
    "stuck_article_ids",
    "warm",
]
