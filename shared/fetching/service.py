"""Fetching one feed: politeness, conditional GET, parse (feed or sitemap), optional full text, stories,
adaptive schedule and health; every failure is recorded on the feed and never raised.

Keyword-only functions; the Celery tasks in services/fetcher call them with ids.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.config import Settings
from shared.errors import Conflict, NotFound
from shared.fetching import events, store
from shared.fetching.events import FeedUnhealthy
from shared.fetching.feeds import FeedEntry, FeedParseError
from shared.fetching.pages import extract_page, needs_extraction
from shared.fetching.politeness import HostLimiter, MemoryHostLimiter, RedisHostLimiter
from shared.fetching.polling import (
    UNHEALTHY,
    FeedHealth,
    PollPolicy,
    PollState,
    after_failure,
    after_success,
    is_unhealthy_transition,
)
from shared.fetching.sources import UnknownSourceKind, source_kind
from shared.ingestion.schemas import is_link
from shared.ingestion.service import entry_to_article, store_entries
from shared.models import Feed
from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import storable, to_utc, utcnow
from shared.outbound.http import FetchLimits, HttpClient, HTTPStatusError, default_user_agent
from shared.outbound.policy import BadSchemeError, FetchError

log = logging.getLogger(__name__)
SessionFactory = Callable[[], AbstractContextManager[Session]]
MAX_PAGES_PER_FETCH = 100


class FeedExistsError(Conflict):
    """A feed with this URL is stored already."""

    code = "url_taken"


@dataclass
class FetchOutcome:
    """What one fetch did: new article ids, or the error recorded on the feed."""

    feed_id: int
    new_article_ids: list[int] = field(default_factory=list)
    error: str | None = None
    not_modified: bool = False
    deferred: bool = False
    health: str | None = None
    delivery_ids: list[int] = field(default_factory=list)
    websub_subscribe: bool = False


def create_feed(
    *,
    session: Session,
    url: str,
    settings: Settings,
    title: str | None = None,
    check_address: bool = True,
    owner_id: int = SYSTEM_ACCOUNT_ID,
    **extra: Any,
) -> Feed:
    """Check the URL against the address policy and store the owner's feed, due now (every fetch checks
    again); FeedExistsError when the owner has this URL already."""
    if check_address:
        settings.address_policy().check_url(url)
    elif not url.startswith(("http://", "https://")):
        raise BadSchemeError(f"only http(s) feeds are allowed: {url!r}")
    if store.by_url(session=session, url=url, owner_id=owner_id) is not None:
        raise FeedExistsError(f"feed {url} exists already")
    feed = Feed(
        url=url,
        title=title,
        owner_id=owner_id,
        interval_seconds=settings.feed_default_interval_seconds,
        **extra,
    )
    try:
        with session.begin_nested():  # the unique constraint decides under concurrent writes
            session.add(feed)
            session.flush()
    except IntegrityError as exc:
        raise FeedExistsError(f"feed {url} exists already") from exc
    return feed


def get_feed(*, session: Session, feed_id: int, owner_id: int | None = None) -> Feed:
    """One feed; NotFound when there is none, or it belongs to another owner than `owner_id`."""
    feed = store.get_feed(session=session, feed_id=feed_id, owner_id=owner_id)
    if feed is None:
        raise NotFound("no such feed")
    return feed


def http_client(settings: Settings) -> HttpClient:
    """The fetcher's HTTP client under the configured address policy and limits."""
    limits = FetchLimits(
        read_timeout=settings.fetch_timeout_seconds,
        total_timeout=max(settings.fetch_timeout_seconds * 2, 10.0),
        max_bytes=settings.fetch_max_bytes,
        max_decompressed_bytes=settings.fetch_max_bytes * 4,
    )
    user_agent = default_user_agent(settings.contact_url).replace("Newswatch/0.1", settings.user_agent, 1)
    return HttpClient(policy=settings.address_policy(), limits=limits, user_agent=user_agent)


def poll_policy(settings: Settings) -> PollPolicy:
    """Schedule bounds from the settings."""
    return PollPolicy(
        floor=float(settings.feed_min_interval_seconds),
        ceiling=float(settings.feed_max_interval_seconds),
        default=float(settings.feed_default_interval_seconds),
        max_backoff=float(max(settings.feed_max_interval_seconds, 3600)),
    )


@functools.cache
def _memory_limiter(concurrency: int, gap: float) -> MemoryHostLimiter:
    return MemoryHostLimiter(max_concurrent=concurrency, min_gap=gap)


@functools.cache
def _redis_limiter(url: str, concurrency: int, gap: float) -> RedisHostLimiter:
    import redis

    return RedisHostLimiter(redis.Redis.from_url(url), max_concurrent=concurrency, min_gap=gap)


def host_limiter(settings: Settings) -> HostLimiter:
    """Redis-backed per-host slots in the distributed mode, in-process ones in the embedded mode."""
    concurrency = settings.fetch_host_concurrency
    gap = settings.fetch_host_min_gap_seconds
    if settings.mode == "embedded":
        return _memory_limiter(concurrency, gap)
    return _redis_limiter(settings.redis_url, concurrency, gap)


def _state(feed: Feed) -> PollState:
    return PollState(
        interval=float(feed.interval_seconds),
        consecutive_failures=feed.consecutive_failures,
        health=FeedHealth(feed.health) if feed.health in FeedHealth._value2member_map_ else FeedHealth.OK,
        usual_gap=feed.usual_gap_seconds,
        last_success_at=to_utc(feed.last_success_at),
        last_new_item_at=to_utc(feed.last_new_item_at),
        last_error=feed.last_error,
        next_poll_at=to_utc(feed.next_fetch_at),
    )


def _apply(feed: Feed, state: PollState, now: datetime) -> None:
    feed.interval_seconds = round(state.interval)
    feed.consecutive_failures = state.consecutive_failures
    feed.health = state.health.value
    feed.usual_gap_seconds = state.usual_gap
    feed.last_success_at = state.last_success_at
    feed.last_new_item_at = state.last_new_item_at
    feed.last_error = state.last_error
    feed.last_fetched_at = now
    feed.next_fetch_at = state.next_poll_at or now + timedelta(seconds=state.interval)


def _health_change(session: Session, feed: Feed, old: FeedHealth, reason: str, now: datetime) -> list[int]:
    """Store the event of a health change; a move into failing/stale also goes to subscriptions."""
    new = FeedHealth(feed.health)
    assert feed.id is not None
    if is_unhealthy_transition(old, new):
        feed.unhealthy_since = now
        event = store.add_event(
            session=session, feed_id=feed.id, type="feed.unhealthy", health=new, reason=reason
        )
        assert event.id is not None
        trouble = FeedUnhealthy(
            feed_id=feed.id, url=feed.url, health=new.value, reason=reason, since=now,
            failures=feed.consecutive_failures, event_id=event.id, owner_id=feed.owner_id,
        )  # fmt: skip
        return events.report_unhealthy(session=session, event=trouble)
    if old in UNHEALTHY and new not in UNHEALTHY:
        feed.unhealthy_since = None
        store.add_event(session=session, feed_id=feed.id, type="feed.recovered", health=new, reason=reason)
    return []


def _with_pages(
    entries: list[FeedEntry], *, client: HttpClient, limiter: HostLimiter | None, always: bool
) -> list[tuple[FeedEntry, str | None, str | None]]:
    """(entry, text, language) with the page's extracted text where the entry has only a summary."""
    out: list[tuple[FeedEntry, str | None, str | None]] = []
    fetched = 0
    for entry in entries:
        wanted = always or needs_extraction(entry.summary, entry.content)
        if not entry.url or fetched >= MAX_PAGES_PER_FETCH or not wanted:
            out.append((entry, None, None))
            continue
        fetched += 1
        host = urlsplit(entry.url).hostname or ""
        token = limiter.acquire(host, wait=10.0) if limiter is not None else None
        if limiter is not None and token is None:
            out.append((entry, None, None))  # host too busy: keep the summary
            continue
        summary = entry.content or entry.summary
        try:
            page = client.get(entry.url, accept="text/html,application/xhtml+xml")
            extracted = extract_page(
                page.content, url=page.url, summary=summary, content_type=page.content_type
            )
        except FetchError as exc:
            log.info("page %s not fetched: %s", entry.url, exc)
            out.append((entry, None, None))
            continue
        finally:
            if limiter is not None and token is not None:
                limiter.release(host, token)
        if extracted.ok:
            entry.title = entry.title or (extracted.title or "")
            entry.author = entry.author or extracted.author
            entry.published = entry.published or extracted.published
            if extracted.canonical_url and is_link(extracted.canonical_url):
                entry.url = extracted.canonical_url  # a page's own canonical link, when it is a web link
        out.append((entry, extracted.text if extracted.ok else None, extracted.language))
    return out


def _record_failure(*, session_factory: SessionFactory, feed_id: int, message: str, retry_after: float | None,
                    status: int | None, settings: Settings, now: datetime) -> FetchOutcome:  # fmt: skip
    message = storable(message)  # an error quoting the document may hold what no database stores
    with session_factory() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return FetchOutcome(feed_id, error=message)
        old = FeedHealth(feed.health) if feed.health in FeedHealth._value2member_map_ else FeedHealth.OK
        policy = poll_policy(settings)
        state = after_failure(_state(feed), now=now, error=message, retry_after=retry_after, policy=policy)
        _apply(feed, state, now)
        feed.last_error_at = now
        feed.last_status = status
        deliveries = _health_change(session, feed, old, message, now)
        session.add(feed)
        return FetchOutcome(feed_id, error=message, health=feed.health, delivery_ids=deliveries)


def fetch_feed(
    *,
    feed_id: int,
    settings: Settings,
    session_factory: SessionFactory,
    client: HttpClient | None = None,
    limiter: HostLimiter | None = None,
    now: datetime | None = None,
) -> FetchOutcome:
    """Fetch and ingest one feed; never raises for a bad feed (the error is stored on it)."""
    with session_factory() as session:
        feed = session.get(Feed, feed_id)
        if feed is None or not feed.enabled:
            return FetchOutcome(feed_id, error="no such enabled feed")
        url, etag, last_modified, kind = feed.url, feed.etag, feed.last_modified, feed.kind
        extract, websub_verified = feed.extract_full_text, feed.websub_state == "verified"
    own_client = client is None
    client = client or http_client(settings)
    host = urlsplit(url).hostname or ""
    token = limiter.acquire(host, wait=5.0) if limiter is not None else None
    if limiter is not None and token is None:
        # The host is busy with other workers: come back soon instead of holding this worker.
        with session_factory() as session:
            feed = session.get(Feed, feed_id)
            if feed is not None:
                feed.next_fetch_at = utcnow() + timedelta(seconds=15)
                session.add(feed)
        return FetchOutcome(feed_id, deferred=True)
    try:
        try:
            source = source_kind(kind)  # the kind's parser (shared/fetching/sources/)
            result = client.get(url, etag=etag, last_modified=last_modified)
            parsed = None if result.not_modified else source.parse(result, client=client)
        finally:
            if limiter is not None and token is not None:
                limiter.release(host, token)
        with session_factory() as session:
            entries = parsed.entries if parsed is not None else []
            known = store.known_guids(session=session, feed_id=feed_id, guids=[e.guid for e in entries])
        fresh = [e for e in entries if e.guid not in known]
        if source.max_new_per_fetch is not None:
            fresh = fresh[: source.max_new_per_fetch]  # the rest stay unknown and come with the next polls
        prepared = (
            _with_pages(fresh, client=client, limiter=limiter, always=source.always_extract)
            if extract or source.always_extract
            else [(e, None, None) for e in fresh]
        )
    except (FetchError, FeedParseError, UnknownSourceKind) as exc:
        status = exc.status if isinstance(exc, HTTPStatusError) else None
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        return _record_failure(
            session_factory=session_factory, feed_id=feed_id, message=f"{type(exc).__name__}: {exc}",
            retry_after=retry_after, status=status, settings=settings, now=now or utcnow(),
        )  # fmt: skip
    finally:
        if own_client:
            client.close()
    now = now or utcnow()
    with session_factory() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return FetchOutcome(feed_id, error="feed deleted during fetch")
        old = FeedHealth(feed.health) if feed.health in FeedHealth._value2member_map_ else FeedHealth.OK
        store.relaxed_commit(session=session)
        items = [a for e, text, lang in prepared if (a := entry_to_article(e, text=text, language=lang))]
        new_ids = store_entries(session=session, items=items, source="feed", feed_id=feed_id).new_ids
        policy = poll_policy(settings)
        state = after_success(
            _state(feed),
            now=now,
            new_items=len(new_ids),
            published=[e.published for e in entries],
            ttl_minutes=parsed.ttl_minutes if parsed else None,
            headers=result.headers,
            policy=policy,
        )
        if websub_verified:
            # Pushed items arrive by WebSub; polling is only the safety net.
            later = now + timedelta(seconds=policy.ceiling)
            state = replace(state, interval=policy.ceiling, next_poll_at=later)
        _apply(feed, state, now)
        feed.last_status = result.status
        if parsed is not None:
            feed.title = feed.title or (storable(parsed.title) if parsed.title else None)
            feed.etag = result.etag
            feed.last_modified = result.last_modified
        subscribe = False
        if parsed is not None and parsed.hub:
            hub_changed = parsed.hub[:2000] != feed.hub_url
            feed.hub_url = parsed.hub[:2000]
            feed.websub_topic = (parsed.self_url or url)[:2000]
            subscribe = hub_changed or feed.websub_state == "none"
        deliveries = _health_change(session, feed, old, "no new item for longer than usual", now)
        session.add(feed)
    return FetchOutcome(
        feed_id,
        new_article_ids=new_ids,
        not_modified=result.not_modified,
        health=state.health.value,
        delivery_ids=deliveries,
        websub_subscribe=subscribe,
    )
