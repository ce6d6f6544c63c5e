"""Alerts and the outbox: a match becomes (at most) one alert per watch and story, and one delivery per
subscription that wants it, all in the caller's transaction so nothing is sent for work that rolled back.

Story threading: the first matching article of a story raises `alert.created`; later articles of the same
story add themselves to that alert and raise `alert.updated` listing the new sources. Throttle: a watch raises
at most `max_alerts_per_hour` alerts an hour; the rest are kept (throttled) and summarised later in one digest
alert (`digest_throttled`, run by the sweep).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from shared import metrics
from shared.alerts import live, payload, store
from shared.alerts.facts import alert_facts, article_ref
from shared.config import Settings
from shared.fetching.events import FeedUnhealthy
from shared.models import Alert, Article, Delivery, Match, Subscription, Watch
from shared.models.base import utcnow
from shared.models.delivery import MISSED, PENDING
from shared.rules import MatchResult

log = logging.getLogger(__name__)


def story_key(article: Article) -> str:
    """The story an article belongs to: its story id, or the article itself before stories exist."""
    return f"s{article.story_id}" if article.story_id is not None else f"a{article.id}"


def new_msg_id() -> str:
    """A webhook-id: unique per delivery, kept for every retry and replay."""
    return "msg_" + uuid.uuid4().hex


def wants(
    subscription: Subscription, *, event_type: str, watch_id: int | None, owner_id: int | None = None
) -> bool:
    """Does the subscription ask for this event? Pings always go; a subscription that names watches gets
    theirs; otherwise it gets the events of its own account's resources (`owner_id`; None: anyone's)."""
    if event_type == payload.PING:
        return True
    if subscription.event_types and event_type not in subscription.event_types:
        return False
    if not subscription.event_types and event_type in payload.OPT_IN_EVENT_TYPES:
        return False
    if watch_id is not None and subscription.watch_ids:
        return watch_id in subscription.watch_ids
    return owner_id is None or subscription.owner_id == owner_id


def enqueue_event(
    *,
    session: Session,
    event_type: str,
    event_key: str,
    data: dict[str, Any],
    watch_id: int | None = None,
    alert_id: int | None = None,
    subscriptions: Sequence[Subscription] | None = None,
    owner_id: int | None = None,
) -> list[int]:
    """One delivery per interested subscription (idempotent per event key); returns the ids to enqueue.

    `owner_id` is the account whose watch or feed raised the event: only its subscriptions (and those
    naming the watch) get it. Disabled subscriptions get the delivery too, as `missed`, so re-enabling
    can replay what they missed.
    """
    ids: list[int] = []
    now = utcnow()
    grace = timedelta(seconds=30)  # the caller enqueues right after commit; the sweep covers a lost message
    subs = subscriptions if subscriptions is not None else store.all_subscriptions(session=session)
    for sub in subs:
        if not wants(sub, event_type=event_type, watch_id=watch_id, owner_id=owner_id):
            continue
        row = store.insert_delivery(
            session=session,
            delivery=Delivery(
                msg_id=new_msg_id(),
                subscription_id=sub.id or 0,
                alert_id=alert_id,
                event_type=event_type,
                event_key=event_key,
                payload=data,
                status=PENDING if sub.enabled else MISSED,
                next_attempt_at=now if sub.enabled else None,
                enqueued_until=now + grace if sub.enabled else None,
            ),
        )
        if row is not None and row.id is not None and sub.enabled:
            ids.append(row.id)
    return ids


def _throttled(session: Session, watch: Watch, settings: Settings) -> bool:
    per_hour = watch.max_alerts_per_hour
    if per_hour is None:
        per_hour = settings.watch_max_alerts_per_hour
    if per_hour <= 0:
        return False
    since = utcnow() - timedelta(hours=1)
    return store.count_recent_alerts(session=session, watch_id=watch.id or 0, since=since) >= per_hour


def record_match(
    *,
    session: Session,
    article: Article,
    watch: Watch,
    result: MatchResult,
    entities: Sequence[payload.EntityRef] = (),
    settings: Settings,
    feed_url: str | None = None,
) -> list[int]:
    """Store the match, raise or update the story's alert, write its deliveries; returns new delivery ids.

    `settings` (the watch throttle) are the caller's: the pipeline's, never this process's globals."""
    terms = result.term_dicts()
    match = Match(
        watch_id=watch.id or 0,
        article_id=article.id or 0,
        score=result.score,
        terms=terms,
        snippet=result.snippet,
    )
    match_row = store.insert_match(session=session, match=match)
    if match_row is None:
        return []  # this watch matched this article before: nothing new to say
    metrics.count(session, "matches", kind="watch")
    key = story_key(article)
    existing = store.alert_for(session=session, watch_id=watch.id or 0, story_key=key, lock=True)
    if existing is None:
        alert, created = store.insert_alert(
            session=session,
            alert=Alert(
                watch_id=watch.id or 0,
                article_id=article.id or 0,
                story_key=key,
                match_id=match_row.id,
                score=result.score,
                terms=terms,
                snippet=result.snippet,
                article_ids=[article.id or 0],
                throttled=_throttled(session, watch, settings),
            ),
        )
    else:
        alert, created = existing, False
    if created:
        metrics.count(session, "alerts", kind="throttled" if alert.throttled else "alert")
        log.info(
            "alert %s: watch %s matched article %s",
            alert.id,
            watch.id,
            article.id,
            extra={"alert_id": alert.id, "watch_id": watch.id, "article_id": article.id},
        )
        if alert.throttled:
            return []  # kept, and summarised later in the watch's digest
        facts = alert_facts(alert=alert, watch=watch, article=article, entities=entities, feed_url=feed_url)
        data = payload.alert_data(facts)
        return _announce(session, payload.ALERT_CREATED, f"{alert.id}", data, watch=watch, alert_id=alert.id)
    return _thread_into(session, alert, watch, article, entities, feed_url)


def _announce(
    session: Session,
    event_type: str,
    key: str,
    data: dict[str, Any],
    *,
    watch: Watch,
    alert_id: int | None,
) -> list[int]:
    """An alert event: to the live stream after commit, and to the outbox (event key `<type>:<key>`)."""
    live.after_commit(session, event_type, data, watch_id=watch.id)
    return enqueue_event(
        session=session,
        event_type=event_type,
        event_key=f"{event_type}:{key}",
        data=data,
        watch_id=watch.id,
        alert_id=alert_id,
        owner_id=watch.owner_id,
    )


def _thread_into(
    session: Session,
    alert: Alert,
    watch: Watch,
    article: Article,
    entities: Sequence[payload.EntityRef],
    feed_url: str | None,
) -> list[int]:
    """A later article of the story: add it to the alert and raise alert.updated with the new source."""
    if (article.id or 0) in alert.article_ids:
        return []
    alert.article_ids = [*alert.article_ids, article.id or 0]
    alert.revision += 1
    alert.updated_at = utcnow()
    session.add(alert)
    session.flush()
    if alert.throttled:
        return []
    first = session.get(Article, alert.article_id) or article
    sources = [article_ref(a) for a in (session.get(Article, i) for i in alert.article_ids) if a is not None]
    facts = alert_facts(
        alert=alert,
        watch=watch,
        article=first,
        entities=entities,
        feed_url=None,
        sources=sources,
        new_sources=[article_ref(article, feed_url)],
    )
    data = payload.alert_data(facts)
    data["revision"] = alert.revision
    key = f"{alert.id}:{alert.revision}"
    return _announce(session, payload.ALERT_UPDATED, key, data, watch=watch, alert_id=alert.id)


def digest_throttled(*, session: Session, settings: Settings, window: float | None = None) -> list[int]:
    """Summarise each watch's throttled alerts in one digest alert once `window` seconds (an hour) passed."""
    if window is None:
        window = settings.watch_digest_after_seconds
    ids: list[int] = []
    for watch_id, alerts in store.undigested(
        session=session, older_than=utcnow() - timedelta(seconds=window)
    ).items():
        watch = session.get(Watch, watch_id)
        if watch is None:
            continue
        first = session.get(Article, alerts[0].article_id)
        if first is None:
            continue
        digest = Alert(
            watch_id=watch_id,
            article_id=first.id or 0,
            story_key=f"digest:{alerts[0].id}",
            score=max(a.score for a in alerts),
            terms=[],
            article_ids=[a.article_id for a in alerts],
            is_digest=True,
        )
        session.add(digest)
        session.flush()
        metrics.count(session, "alerts", kind="digest")
        for a in alerts:
            a.digest_id = digest.id
            session.add(a)
        titles = [t.title for t in (session.get(Article, a.article_id) for a in alerts) if t is not None]
        facts = payload.AlertFacts(
            alert_id=digest.id or 0,
            watch=payload.WatchRef(id=watch_id, name=watch.name, rule_version=watch.version),
            article=article_ref(first),
            score=digest.score,
            matched_at=digest.created_at,
            digest={"count": len(alerts), "alert_ids": [a.id for a in alerts], "titles": titles[:50]},
        )
        data = payload.alert_data(facts)
        ids += _announce(
            session, payload.ALERT_CREATED, f"{digest.id}", data, watch=watch, alert_id=digest.id
        )
    return ids


def feed_unhealthy(*, session: Session, event: FeedUnhealthy) -> list[int]:
    """Raise feed.unhealthy for the feed owner's subscriptions that want it (once per stored feed event).

    Fetching's feed-health listener, registered by the fetcher tasks (fetching does not import alerts).
    """
    data = payload.feed_unhealthy_data(
        feed_id=event.feed_id, url=event.url, reason=f"{event.health}: {event.reason}", since=event.since,
        failures=event.failures,
    )  # fmt: skip
    data["health"] = event.health
    key = f"{payload.FEED_UNHEALTHY}:{event.event_id}"
    return enqueue_event(
        session=session, event_type=payload.FEED_UNHEALTHY, event_key=key, data=data, owner_id=event.owner_id
    )


def watch_failed(*, session: Session, watch: Watch) -> list[int]:
    """Raise watch.failed for the owner's subscriptions that want it and cover the watch (once per
    quarantine)."""
    data = payload.watch_failed_data(
        watch=payload.WatchRef(id=watch.id or 0, name=watch.name, rule_version=watch.version),
        reason=watch.status_reason or "",
        failed_at=watch.failed_at,
    )
    key = f"{payload.WATCH_FAILED}:{watch.id}:{payload.iso(watch.failed_at)}"
    return enqueue_event(
        session=session,
        event_type=payload.WATCH_FAILED,
        event_key=key,
        data=data,
        watch_id=watch.id,
        owner_id=watch.owner_id,
    )
