"""Alert facts from stored rows: what alert events carry, for the outbox and the live stream alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from shared.alerts import payload
from shared.models import Alert, Article, Watch


def article_ref(article: Article, feed_url: str | None = None) -> payload.ArticleRef:
    """The payload's view of an article."""
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
    sources: Sequence[payload.ArticleRef] = (),
    new_sources: Sequence[payload.ArticleRef] = (),
) -> payload.AlertFacts:
    """Everything the alert events carry."""
    terms = [
        payload.MatchedTerm(
            term=t.get("term", ""),
            field=t.get("field", ""),
            start=t.get("start"),
            end=t.get("end"),
            snippet=alert.snippet or None,
        )
        for t in alert.terms
    ]
    return payload.AlertFacts(
        alert_id=alert.id or 0,
        watch=payload.WatchRef(id=watch.id or 0, name=watch.name, rule_version=watch.version),
        article=article_ref(article, feed_url),
        score=alert.score,
        story_id=article.story_id,
        terms=terms,
        entities=entities,
        sources=sources,
        new_sources=new_sources,
        matched_at=alert.created_at,
    )


def live_data(*, session: Session, alert: Alert) -> tuple[str, dict[str, Any]]:
    """The live-stream event for an alert as it is now: alert.created at revision 1, else alert.updated."""
    watch = session.get(Watch, alert.watch_id)
    first = session.get(Article, alert.article_id)
    sources = [article_ref(a) for a in (session.get(Article, i) for i in alert.article_ids) if a is not None]
    if watch is None or first is None:
        return payload.ALERT_UPDATED, {"alert_id": alert.id}
    facts = alert_facts(alert=alert, watch=watch, article=first, entities=(), feed_url=None, sources=sources)
    data = payload.alert_data(facts)
    data["revision"] = alert.revision
    return (payload.ALERT_CREATED if alert.revision == 1 else payload.ALERT_UPDATED), data
