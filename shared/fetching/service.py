"""Fetching one feed: conditional GET, parse, ingest new entries; every failure recorded on the feed."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from shared.articles.schemas import ArticleIn
from shared.articles.service import ingest
from shared.config import Settings
from shared.fetching import store
from shared.fetching.feeds import FeedParseError, parse_feed
from shared.fetching.http import FetchLimits, HttpClient
from shared.fetching.net import BadSchemeError, FetchError
from shared.models import Feed
from shared.models.base import utcnow

SessionFactory = Callable[[], AbstractContextManager[Session]]
MAX_BACKOFF_FACTOR = 64


class FeedExistsError(ValueError):
    """A feed with this URL is stored already."""


@dataclass
class FetchOutcome:
    """What one fetch did: new article ids, or the error recorded on the feed."""

    feed_id: int
    new_article_ids: list[int] = field(default_factory=list)
    error: str | None = None
    not_modified: bool = False


def create_feed(
    *,
    session: Session,
    url: str,
    settings: Settings,
    title: str | None = None,
    check_address: bool = True,
    **extra: object,
) -> Feed:
    """Check the URL against the address policy and store the feed, due now (every fetch checks again)."""
    if check_address:
        settings.address_policy().check_url(url)
    elif not url.startswith(("http://", "https://")):
        raise BadSchemeError(f"only http(s) feeds are allowed: {url!r}")
    if store.by_url(session=session, url=url) is not None:
        raise FeedExistsError(f"feed {url} exists already")
    feed = Feed(url=url, title=title, interval_seconds=settings.feed_default_interval_seconds, **extra)  # type: ignore[arg-type]
    session.add(feed)
    session.flush()
    return feed


def http_client(settings: Settings) -> HttpClient:
    """The fetcher's HTTP client under the configured address policy and limits."""
    limits = FetchLimits(
        read_timeout=settings.fetch_timeout_seconds,
        total_timeout=max(settings.fetch_timeout_seconds * 2, 10.0),
        max_bytes=settings.fetch_max_bytes,
    )
    return HttpClient(
        policy=settings.address_policy(),
        limits=limits,
        user_agent=f"{settings.user_agent} (+{settings.contact_url})",
    )


def _record_error(feed: Feed, error: str, settings: Settings) -> None:
    now = utcnow()
    feed.consecutive_failures += 1
    feed.last_error = error[:2000]
    feed.last_error_at = now
    feed.last_fetched_at = now
    feed.health = "failing" if feed.consecutive_failures >= 3 else "degraded"
    factor = min(2 ** (feed.consecutive_failures - 1), MAX_BACKOFF_FACTOR)
    delay = min(feed.interval_seconds * factor, settings.feed_max_interval_seconds)
    feed.next_fetch_at = now + timedelta(seconds=delay)


def fetch_feed(
    *, feed_id: int, settings: Settings, session_factory: SessionFactory, client: HttpClient | None = None
) -> FetchOutcome:
    """Fetch and ingest one feed; never raises for a bad feed (the error is stored on it)."""
    with session_factory() as session:
        feed = session.get(Feed, feed_id)
        if feed is None or not feed.enabled:
            return FetchOutcome(feed_id, error="no such enabled feed")
        url, etag, last_modified = feed.url, feed.etag, feed.last_modified
    own_client = client is None
    client = client or http_client(settings)
    try:
        result = client.get(url, etag=etag, last_modified=last_modified)
        parsed = (
            None
            if result.not_modified
            else parse_feed(result.content, url=result.url, content_type=result.headers.get("content-type"))
        )
    except (FetchError, FeedParseError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        with session_factory() as session:
            feed = session.get(Feed, feed_id)
            if feed is not None:
                _record_error(feed, message, settings)
                session.add(feed)
        return FetchOutcome(feed_id, error=message)
    finally:
        if own_client:
            client.close()
    with session_factory() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return FetchOutcome(feed_id, error="feed deleted during fetch")
        now = utcnow()
        new_ids: list[int] = []
        if parsed is not None:
            items = [
                ArticleIn(
                    title=e.title or "",
                    text=e.content or e.summary or "",
                    url=e.url,
                    published=e.published,
                    author=e.author,
                    guid=e.guid,
                )
                for e in parsed.entries
                if (e.title or e.content or e.summary)
            ]
            new_ids = ingest(session=session, items=items, source="feed", feed_id=feed_id).new_ids
            feed.title = feed.title or parsed.title
            feed.etag = result.etag
            feed.last_modified = result.last_modified
        if new_ids:
            feed.last_new_item_at = now
        feed.last_fetched_at = now
        feed.last_success_at = now
        feed.consecutive_failures = 0
        feed.health = "ok"
        feed.next_fetch_at = now + timedelta(seconds=feed.interval_seconds)
        session.add(feed)
    return FetchOutcome(feed_id, new_article_ids=new_ids, not_modified=result.not_modified)
