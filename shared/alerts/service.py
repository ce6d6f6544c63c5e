"""Alerts and the outbox: a match becomes (at most) one alert per watch and story, and one delivery per
subscription that wants it, all in the caller's transaction so nothing is sent for work that rolled back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from shared.alerts import payload, store
from shared.alerts.signing import generate_secret
from shared.config import Settings
from shared.models import Alert, Article, Delivery, Match, Subscription, Watch
from shared.models.base import utcnow
from shared.rules import MatchResult
from shared.security.keys import SecretBox


def story_key(article: Article) -> str:
    """The story an article belongs to: its story id, or the article itself before stories exist."""
    return f"s{article.story_id}" if article.story_id is not None else f"a{article.id}"


def new_msg_id() -> str:
    """A webhook-id: unique per delivery, kept for every retry and replay."""
    return "msg_" + uuid.uuid4().hex


def wants(subscription: Subscription, *, event_type: str, watch_id: int | None) -> bool:
    """Does the subscription ask for this event (and this watch)?"""
    if subscription.event_types and event_type not in subscription.event_types:
        return False
    return not (watch_id is not None and subscription.watch_ids and watch_id not in subscription.watch_ids)


def article_ref(article: Article, feed_url: str | None = None) -> payload.ArticleRef:
    return payload.ArticleRef(
        id=article.id or 0,
        url=article.url or article.canonical_url,
        canonical_url=article.canonical_url,
        title=article.title,
        source_feed=feed_url,
        language=article.language,
        published=article.published_at,
        fetched=article.fetched_at,
    )


def alert_facts(
    *,
    alert: Alert,
    watch: Watch,
    article: Article,
    entities: Sequence[payload.EntityRef],
    feed_url: str | None,
) -> payload.AlertFacts:
    terms = [
        payload.MatchedTerm(
            term=t.get("term", ""), field=t.get("field", ""), start=t.get("start"), end=t.get("end")
        )
        for t in alert.terms
    ]
    return payload.AlertFacts(
        alert_id=alert.id or 0,
        watch=payload.WatchRef(id=watch.id or 0, name=watch.name, rule_version=watch.version),
        article=article_ref(article, feed_url),
        score=alert.score,
        story_id=article.story_id,
        terms=_with_snippet(terms, alert.snippet) if alert.snippet else terms,
        entities=entities,
        matched_at=alert.created_at,
    )


def _with_snippet(terms: list[payload.MatchedTerm], snippet: str) -> list[payload.MatchedTerm]:
    return [
        payload.MatchedTerm(term=t.term, field=t.field, start=t.start, end=t.end, snippet=snippet)
        for t in terms
    ]


def enqueue_event(
    *,
    session: Session,
    event_type: str,
    event_key: str,
    data: dict[str, Any],
    watch_id: int | None = None,
    alert_id: int | None = None,
    subscriptions: Sequence[Subscription] | None = None,
) -> list[int]:
    """Write one delivery per interested subscription (idempotent per event key); returns new ids."""
    ids: list[int] = []
    for sub in subscriptions if subscriptions is not None else store.active_subscriptions(session=session):
        if not wants(sub, event_type=event_type, watch_id=watch_id):
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
                next_attempt_at=utcnow(),
            ),
        )
        if row is not None and row.id is not None:
            ids.append(row.id)
    return ids


def record_match(
    *,
    session: Session,
    article: Article,
    watch: Watch,
    result: MatchResult,
    entities: Sequence[payload.EntityRef] = (),
    feed_url: str | None = None,
) -> list[int]:
    """Store the match, raise the alert once per story, write its deliveries; returns new delivery ids."""
    terms = [
        {"term": t.term, "field": t.field, "start": t.start, "end": t.end, "text": t.text}
        for t in result.terms
    ]
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
    alert, created = store.insert_alert(
        session=session,
        alert=Alert(
            watch_id=watch.id or 0,
            article_id=article.id or 0,
            story_key=story_key(article),
            match_id=match_row.id,
            score=result.score,
            terms=terms,
            snippet=result.snippet,
            article_ids=[article.id or 0],
        ),
    )
    if not created:
        return []  # later articles of a story: threading into alert.updated is the delivery issue's work
    facts = alert_facts(alert=alert, watch=watch, article=article, entities=entities, feed_url=feed_url)
    return enqueue_event(
        session=session,
        event_type=payload.ALERT_CREATED,
        event_key=f"{payload.ALERT_CREATED}:{alert.id}",
        data=payload.alert_data(facts),
        watch_id=watch.id,
        alert_id=alert.id,
    )


class SubscriptionError(ValueError):
    """The subscription request is invalid (unknown event type or watch)."""


def create_subscription(
    *,
    session: Session,
    url: str,
    settings: Settings,
    watch_ids: list[int] | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
) -> tuple[Subscription, str]:
    """Check the URL and filters, store the subscription; returns it and its secret (shown once)."""
    settings.address_policy().check_url(url)
    types = event_types or [payload.ALERT_CREATED, payload.ALERT_UPDATED]
    unknown = sorted(set(types) - set(payload.EVENT_TYPES))
    if unknown:
        raise SubscriptionError(f"unknown event types {unknown}; known: {list(payload.EVENT_TYPES)}")
    if watch_ids:
        missing = [w for w in watch_ids if session.get(Watch, w) is None]
        if missing:
            raise SubscriptionError(f"no such watches: {missing}")
    secret = generate_secret()
    box = SecretBox.from_settings(settings.secret_key, settings.data_dir)
    sub = Subscription(
        url=url,
        description=description,
        watch_ids=watch_ids or None,
        event_types=types,
        secret_encrypted=box.encrypt(secret),
    )
    session.add(sub)
    session.flush()
    return sub, secret
