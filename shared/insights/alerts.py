"""Alerts as an analyst reads them: filtered (watch, entity, score, story, time, triage state), grouped by
story so one event is one row, acknowledged, and marked false positive (kept as feedback on the watch).

Only alerts of watches the caller may see are ever read or changed (shared.insights.scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, literal, or_, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, load_only
from sqlmodel import Session, col, select

from shared.alerts.schemas import AlertOut
from shared.errors import NotFound
from shared.insights.schemas import FeedbackOut, StoryAlerts, StoryAlertsPage
from shared.insights.scope import watch_clause
from shared.models import Alert, Article, ArticleSearch, Mention, Watch, WatchFeedback
from shared.models.base import utcnow
from shared.models.feedback import FALSE_POSITIVE
from shared.security.access import Caller

STORY_WALK_PAGE = 200
STORY_WALK_PAGES = 50  # at most 10,000 alerts read to find one page of stories


@dataclass(frozen=True)
class AlertFilters:
    """What narrows an alert list; entity ids already resolved."""

    watch_id: int | None = None
    entity_ids: tuple[int, ...] | None = None
    min_score: float | None = None
    story_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    acknowledged: bool | None = None
    false_positive: bool | None = None


def _attr(column: Any) -> QueryableAttribute[Any]:
    """A model column as the ORM attribute it is (SQLModel types it as the column's value)."""
    assert isinstance(column, QueryableAttribute)
    return column


# AlertOut reads an alert's first article's title and links only: its text (up to megabytes) stays unread
_ARTICLE_HEAD = load_only(*(_attr(c) for c in (Article.title, Article.url, Article.canonical_url)))


def _conditions(f: AlertFilters) -> list[Any]:
    conds: list[Any] = []
    if f.watch_id is not None:
        conds.append(Alert.watch_id == f.watch_id)
    if f.min_score is not None:
        conds.append(col(Alert.score) >= f.min_score)
    if f.story_id is not None:
        conds.append(Alert.story_key == f"s{f.story_id}")
    if f.since is not None:
        conds.append(col(Alert.updated_at) >= f.since)
    if f.until is not None:
        conds.append(col(Alert.created_at) < f.until)
    if f.acknowledged is not None:
        acked = col(Alert.acknowledged_at).is_not(None)
        conds.append(acked if f.acknowledged else ~acked)
    if f.false_positive is not None:
        conds.append(col(Alert.false_positive).is_(f.false_positive))
    if f.entity_ids is not None:
        mentioned = select(Mention.article_id).where(col(Mention.entity_id).in_(list(f.entity_ids)))
        # the alert's first article, or any article of its story, mentions the entity
        stories = select(literal("s") + cast(ArticleSearch.story_id, String)).where(
            col(ArticleSearch.article_id).in_(mentioned)
        )
        conds.append(or_(col(Alert.article_id).in_(mentioned), col(Alert.story_key).in_(stories)))
    return conds


def list_alerts(
    *,
    session: Session,
    caller: Caller,
    filters: AlertFilters,
    limit: int,
    before: int | None,
    alert_id: int | None = None,
) -> list[tuple[Alert, Watch, Article]]:
    """Alerts newest first (by id) with their watch and first article (one alert with `alert_id`)."""
    q = (
        select(Alert, Watch, Article)
        .join(Watch, and_(col(Watch.id) == Alert.watch_id, watch_clause(caller)))
        .join(Article, col(Article.id) == Alert.article_id)
        .options(_ARTICLE_HEAD)
        .where(*_conditions(filters))
        .order_by(col(Alert.id).desc())
        .limit(limit)
    )
    if before is not None:
        q = q.where(col(Alert.id) < before)
    if alert_id is not None:
        q = q.where(Alert.id == alert_id)
    return [(a, w, art) for a, w, art in session.exec(q)]


def grouped_by_story(
    *, session: Session, caller: Caller, filters: AlertFilters, limit: int, before: datetime | None
) -> tuple[list[tuple[str, datetime, list[tuple[Alert, Watch, Article]]]], bool]:
    """((story key, last change, alerts of the story), ...) for the stories whose alerts changed most
    recently (before `before`), and whether more may follow.

    Alerts are walked newest change first through the index on `updated_at`, a page at a time, until
    `limit` stories are found: the cost follows the page, not the size of the alerts table. A story
    already listed on an earlier page (it changed at or after `before`) is not listed again."""
    keys: dict[str, datetime] = {}
    shown: set[str] = set()
    cursor: tuple[datetime, int | None] | None = None  # (updated_at, id) of the last row walked
    more = False
    for _ in range(STORY_WALK_PAGES):
        q = (
            select(Alert.story_key, Alert.updated_at, Alert.id)
            .join(Watch, and_(col(Watch.id) == Alert.watch_id, watch_clause(caller)))
            .where(*_conditions(filters))
            .order_by(col(Alert.updated_at).desc(), col(Alert.id).desc())
            .limit(STORY_WALK_PAGE)
        )
        if before is not None:
            q = q.where(col(Alert.updated_at) < before)
        if cursor is not None:
            q = q.where(
                tuple_(col(Alert.updated_at), col(Alert.id)) < tuple_(literal(cursor[0]), literal(cursor[1]))
            )
        rows = session.exec(q).all()
        if before is not None:
            shown |= _changed_since(
                session, caller, filters, {k for k, _, _ in rows} - set(keys) - shown, before
            )
        for key, changed, _id in rows:
            if key not in keys and key not in shown and len(keys) < limit:
                keys[key] = changed
        more = len(rows) == STORY_WALK_PAGE
        if len(keys) >= limit or not more:
            break
        cursor = (rows[-1][1], rows[-1][2])
    if not keys:
        return [], False
    found = session.exec(
        select(Alert, Watch, Article)
        .join(Watch, and_(col(Watch.id) == Alert.watch_id, watch_clause(caller)))
        .join(Article, col(Article.id) == Alert.article_id)
        .options(_ARTICLE_HEAD)
        .where(col(Alert.story_key).in_(list(keys)), *_conditions(filters))
        .order_by(col(Alert.score).desc(), col(Alert.id))
    ).all()
    by_key: dict[str, list[tuple[Alert, Watch, Article]]] = {k: [] for k in keys}
    for a, w, art in found:
        by_key[a.story_key].append((a, w, art))
    return [(k, t, by_key[k]) for k, t in keys.items()], more or len(keys) >= limit


def _changed_since(
    session: Session, caller: Caller, filters: AlertFilters, keys: set[str], before: datetime
) -> set[str]:
    """Which of these stories have an alert changed at or after `before` (listed on an earlier page)."""
    if not keys:
        return set()
    q = (
        select(Alert.story_key)
        .join(Watch, and_(col(Watch.id) == Alert.watch_id, watch_clause(caller)))
        .where(col(Alert.story_key).in_(list(keys)), col(Alert.updated_at) >= before, *_conditions(filters))
        .distinct()
    )
    return set(session.exec(q).all())


def visible_alert(*, session: Session, caller: Caller, alert_id: int) -> Alert:
    """The alert when its watch is the caller's to see; NotFound otherwise."""
    row = session.exec(
        select(Alert)
        .join(Watch, col(Watch.id) == Alert.watch_id)
        .where(Alert.id == alert_id, watch_clause(caller))
    ).first()
    if row is None:
        raise NotFound("no such alert")
    return row


def acknowledge(*, session: Session, caller: Caller, alert_id: int, acknowledged: bool = True) -> Alert:
    """Mark the alert seen (or not seen again)."""
    alert = visible_alert(session=session, caller=caller, alert_id=alert_id)
    alert.acknowledged_at = utcnow() if acknowledged else None
    alert.acknowledged_by = caller.key_id if acknowledged else None
    session.add(alert)
    session.flush()
    return alert


def mark_false_positive(
    *, session: Session, caller: Caller, alert_id: int, note: str = ""
) -> list[WatchFeedback]:
    """Judge the alert a false positive: every article of it becomes feedback on its watch (for backtests)."""
    alert = visible_alert(session=session, caller=caller, alert_id=alert_id)
    alert.false_positive = True
    alert.acknowledged_at = alert.acknowledged_at or utcnow()
    alert.acknowledged_by = alert.acknowledged_by or caller.key_id
    session.add(alert)
    out = []
    for article_id in dict.fromkeys([alert.article_id, *alert.article_ids]):
        existing = session.exec(
            select(WatchFeedback).where(
                WatchFeedback.watch_id == alert.watch_id,
                WatchFeedback.article_id == article_id,
                WatchFeedback.verdict == FALSE_POSITIVE,
            )
        ).first()
        if existing is not None:
            out.append(existing)
            continue
        row = WatchFeedback(
            watch_id=alert.watch_id,
            article_id=article_id,
            alert_id=alert.id,
            note=note[:2000],
            created_by=caller.key_id,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # a concurrent mark of the same article: it is recorded once either way
            continue
        out.append(row)
    session.flush()
    return out


def unmark_false_positive(*, session: Session, caller: Caller, alert_id: int) -> Alert:
    """Take the judgement back: the alert is a true match again and its feedback rows go."""
    alert = visible_alert(session=session, caller=caller, alert_id=alert_id)
    alert.false_positive = False
    session.add(alert)
    for row in session.exec(
        select(WatchFeedback).where(
            WatchFeedback.watch_id == alert.watch_id,
            col(WatchFeedback.article_id).in_([alert.article_id, *alert.article_ids]),
        )
    ):
        session.delete(row)
    session.flush()
    return alert


def feedback_of(*, session: Session, caller: Caller, watch_id: int) -> list[FeedbackOut]:
    """A watch's false-positive feedback with each article's title, newest first."""
    if session.exec(select(Watch.id).where(Watch.id == watch_id, watch_clause(caller))).first() is None:
        raise NotFound("no such watch")
    q = (
        select(WatchFeedback, Article.title)
        .join(Article, col(Article.id) == WatchFeedback.article_id)
        .where(WatchFeedback.watch_id == watch_id)
        .order_by(col(WatchFeedback.id).desc())
    )
    return [FeedbackOut(**f.model_dump(), title=t) for f, t in session.exec(q)]


def story_page(
    *, session: Session, caller: Caller, filters: AlertFilters, limit: int, before: datetime | None
) -> StoryAlertsPage:
    """The API page of alerts grouped by story: one row per story, its alerts best score first."""
    groups, more = grouped_by_story(
        session=session, caller=caller, filters=filters, limit=limit, before=before
    )
    items = []
    for key, changed, rows in groups:
        outs = [AlertOut.of(*r) for r in rows]
        first = outs[0] if outs else None
        items.append(
            StoryAlerts(
                story_key=key,
                story_id=first.story_id if first else None,
                title=first.title if first else "",
                url=first.url if first else None,
                last_changed=changed,
                max_score=max((o.score for o in outs), default=0.0),
                watches=sorted({o.watch for o in outs}),
                articles=len({i for o in outs for i in o.article_ids}),
                acknowledged=all(o.acknowledged_at is not None for o in outs),
                alerts=outs,
            )
        )
    return StoryAlertsPage(items=items, next_before=items[-1].last_changed if more and items else None)


def alert_out(*, session: Session, caller: Caller, alert_id: int) -> AlertOut:
    """One alert of the caller's watches in its API form."""
    rows = list_alerts(
        session=session, caller=caller, filters=AlertFilters(), limit=1, before=None, alert_id=alert_id
    )
    if not rows:
        raise NotFound("no such alert")
    return AlertOut.of(*rows[0])
