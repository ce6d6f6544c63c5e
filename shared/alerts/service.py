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
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from shared import metrics
from shared.alerts import live, payload, store
from shared.alerts.facts import alert_facts, article_ref
from shared.config import Settings
from shared.fetching.events import FeedUnhealthy
from shared.models import Alert, Article, Subscription, Watch
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
    subs = subscriptions if subscriptions is not None else store.all_subscriptions(session=session)
    rows = _deliveries(
        subs, event_type, event_key, data, watch_id=watch_id, alert_id=alert_id, owner_id=owner_id
    )
    return _to_send(store.insert_deliveries(session=session, deliveries=rows))


def _deliveries(
    subscriptions: Sequence[Subscription],
    event_type: str,
    event_key: str,
    data: dict[str, Any],
    *,
    watch_id: int | None,
    alert_id: int | None,
    owner_id: int | None,
) -> list[store.DeliveryRow]:
    """The delivery rows of one event (pending for an enabled subscription, missed for a disabled one)."""
    now = utcnow()
    grace = timedelta(seconds=30)  # the caller enqueues right after commit; the sweep covers a lost message
    return [
        store.DeliveryRow(
            msg_id=new_msg_id(),
            subscription_id=sub.id or 0,
            alert_id=alert_id,
            event_type=event_type,
            event_key=event_key,
            payload=data,
            status=PENDING if sub.enabled else MISSED,
            next_attempt_at=now if sub.enabled else None,
            enqueued_until=now + grace if sub.enabled else None,
        )
        for sub in subscriptions
        if wants(sub, event_type=event_type, watch_id=watch_id, owner_id=owner_id)
    ]


def _to_send(inserted: Sequence[store.DeliveryRow]) -> list[int]:
    """The ids of the new deliveries to enqueue (pending ones: a missed one waits for a replay)."""
    return [d.id for d in inserted if d.id is not None and d.status == PENDING]


def _per_hour(watch: Watch, settings: Settings) -> int:
    """The watch's hourly alert limit (0 or less: none)."""
    per_hour = watch.max_alerts_per_hour
    return settings.watch_max_alerts_per_hour if per_hour is None else per_hour


def _throttled(session: Session, watch: Watch, settings: Settings) -> bool:
    per_hour = _per_hour(watch, settings)
    if per_hour <= 0:
        return False
    since = utcnow() - timedelta(hours=1)
    return store.count_recent_alerts(session=session, watch_id=watch.id or 0, since=since) >= per_hour


@dataclass(frozen=True)
class MatchRecord:
    """One watch that matched one article, with what its alert carries (record_matches' input)."""

    article: Article
    watch: Watch
    result: MatchResult
    entities: Sequence[payload.EntityRef] = ()
    feed_url: str | None = None


StoryOfWatch = tuple[int, str]  # (watch id, story key): one alert each


def _key(record: MatchRecord) -> StoryOfWatch:
    return (record.watch.id or 0, story_key(record.article))


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
    record = MatchRecord(article=article, watch=watch, result=result, entities=entities, feed_url=feed_url)
    return record_matches(session=session, records=[record], settings=settings)


def record_matches(*, session: Session, records: Sequence[MatchRecord], settings: Settings) -> list[int]:
    """record_match for many matches, as if recorded one after the other in order; returns new delivery ids.

    In the common case (stories without an alert yet) a batch costs a fixed number of statements whatever
    its size: one INSERT of the matches, one locking SELECT of their stories' alerts, one count for the
    throttle, one flush of the new alerts, one read of the subscriptions, one INSERT of the deliveries.
    A later article of a story that has its alert joins it one by one (alert.updated).
    """
    matches = [
        store.MatchRow(
            watch_id=r.watch.id or 0,
            article_id=r.article.id or 0,
            score=r.result.score,
            terms=_terms(r.result),
            snippet=r.result.snippet,
        )
        for r in records
    ]
    inserted = {id(m) for m in store.insert_matches(session=session, matches=matches)}
    # a watch that matched an article before has nothing new to say about it
    fresh = [(r, m) for r, m in zip(records, matches, strict=True) if id(m) in inserted]
    if not fresh:
        return []
    metrics.count(session, "matches", len(fresh), kind="watch")
    subs = store.all_subscriptions(session=session)
    keys = list(dict.fromkeys(_key(r) for r, _ in fresh))
    alerts = store.alerts_for(session=session, keys=keys, lock=True)
    firsts: dict[StoryOfWatch, tuple[MatchRecord, store.MatchRow]] = {}
    for r, m in fresh:
        if _key(r) not in alerts:
            firsts.setdefault(_key(r), (r, m))
    raised = _raise_alerts(session, list(firsts.values()), alerts, settings)
    rows: list[store.DeliveryRow] = []
    out: list[int] = []
    for r, m in fresh:
        alert = alerts[_key(r)]
        if raised.get(_key(r)) is not m:
            out += _thread_into(session, alert, r.watch, r.article, r.entities, r.feed_url, subs)
            continue
        metrics.count(session, "alerts", kind="throttled" if alert.throttled else "alert")
        log.info(
            "alert %s: watch %s matched article %s",
            alert.id,
            r.watch.id,
            r.article.id,
            extra={"alert_id": alert.id, "watch_id": r.watch.id, "article_id": r.article.id},
        )
        if alert.throttled:
            continue  # kept, and summarised later in the watch's digest
        facts = alert_facts(
            alert=alert, watch=r.watch, article=r.article, entities=r.entities, feed_url=r.feed_url
        )
        data = payload.alert_data(facts)
        live.after_commit(session, payload.ALERT_CREATED, data, watch_id=r.watch.id)
        rows += _deliveries(
            subs,
            payload.ALERT_CREATED,
            f"{payload.ALERT_CREATED}:{alert.id}",
            data,
            watch_id=r.watch.id,
            alert_id=alert.id,
            owner_id=r.watch.owner_id,
        )
    return out + _to_send(store.insert_deliveries(session=session, deliveries=rows))


def _terms(result: MatchResult) -> list[dict[str, Any]]:
    # Built in C once per hit and shared by the article's matches (read only: serialised as JSON).
    return result.term_dicts()


def _new_alert(record: MatchRecord, match: store.MatchRow, *, throttled: bool) -> Alert:
    return Alert(
        watch_id=record.watch.id or 0,
        article_id=record.article.id or 0,
        story_key=story_key(record.article),
        match_id=match.id,
        score=match.score,
        terms=match.terms,
        snippet=match.snippet,
        article_ids=[record.article.id or 0],
        throttled=throttled,
    )


def _raise_alerts(
    session: Session,
    firsts: Sequence[tuple[MatchRecord, store.MatchRow]],
    alerts: dict[StoryOfWatch, Alert],
    settings: Settings,
) -> dict[StoryOfWatch, store.MatchRow]:
    """Raise the alert of each story that has none (its first match's); the new rows go into `alerts`.

    Returns story → the match that raised its alert (a story another worker raised meanwhile is not one).
    The throttle counts each watch's alerts of the last hour once, and then the ones raised here.
    """
    if not firsts:
        return {}
    limits = {r.watch.id or 0: _per_hour(r.watch, settings) for r, _ in firsts}
    since = utcnow() - timedelta(hours=1)
    counts = store.recent_alert_counts(
        session=session, watch_ids=[w for w, n in limits.items() if n > 0], since=since
    )
    new: list[tuple[StoryOfWatch, Alert, store.MatchRow]] = []
    for r, m in firsts:
        w = r.watch.id or 0
        throttled = limits[w] > 0 and counts.get(w, 0) >= limits[w]
        if not throttled:
            counts[w] = counts.get(w, 0) + 1
        new.append((_key(r), _new_alert(r, m, throttled=throttled), m))
    if store.insert_alerts(session=session, alerts=[a for _, a, _ in new]):
        alerts.update({k: a for k, a, _ in new})
        return {k: m for k, _, m in new}
    # another worker raised one of these stories' alerts meanwhile: one by one, each finding its own
    raised: dict[StoryOfWatch, store.MatchRow] = {}
    for r, m in firsts:
        alert = _new_alert(r, m, throttled=_throttled(session, r.watch, settings))
        alerts[_key(r)], created = store.insert_alert(session=session, alert=alert)
        if created:
            raised[_key(r)] = m
    return raised


def _announce(
    session: Session,
    event_type: str,
    key: str,
    data: dict[str, Any],
    *,
    watch: Watch,
    alert_id: int | None,
    subscriptions: Sequence[Subscription] | None = None,
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
        subscriptions=subscriptions,
    )


def _thread_into(
    session: Session,
    alert: Alert,
    watch: Watch,
    article: Article,
    entities: Sequence[payload.EntityRef],
    feed_url: str | None,
    subscriptions: Sequence[Subscription],
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
    return _announce(
        session, payload.ALERT_UPDATED, key, data, watch=watch, alert_id=alert.id, subscriptions=subscriptions
    )


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
