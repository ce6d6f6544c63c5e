"""SQL for watches and the rule-set version counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from shared.db import select_columns
from shared.models import Article, Match, RulesetState, Watch, WatchFeedback
from shared.models.entity import Entity, Mention
from shared.models.feedback import FALSE_POSITIVE
from shared.models.watch import WATCH_ACTIVE, WATCH_QUARANTINED
from shared.rules.types import DocEntity


def ruleset_version(*, session: Session) -> int:
    """The current rule-set version (0 before any watch was stored)."""
    row = session.get(RulesetState, 1)
    return row.version if row is not None else 0


def bump_ruleset_version(*, session: Session) -> None:
    """Tell every worker that the rule set changed (they recompile on their next batch)."""
    updated = session.exec(
        update(RulesetState).where(col(RulesetState.id) == 1).values(version=col(RulesetState.version) + 1)
    )
    if updated.rowcount == 0:
        session.add(RulesetState(id=1, version=1))
    session.flush()


def mark_quarantined(*, session: Session, watch_id: int, reason: str, at: datetime) -> bool:
    """Quarantine an active watch in one statement; False when another worker did it first."""
    updated = session.exec(
        update(Watch)
        .where(col(Watch.id) == watch_id, col(Watch.status) == WATCH_ACTIVE)
        .values(status=WATCH_QUARANTINED, status_reason=reason, failed_at=at)
    )
    return bool(updated.rowcount)


def enabled_watches(*, session: Session) -> list[Watch]:
    """Watches the engine compiles (enabled, not quarantined), in id order."""
    q = select(Watch).where(Watch.enabled, Watch.status == WATCH_ACTIVE).order_by(col(Watch.id))
    return list(session.exec(q))


def list_watches(*, session: Session, owner_id: int | None = None) -> list[Watch]:
    """Every watch (of one owner when given), in id order."""
    q = select(Watch).order_by(col(Watch.id))
    if owner_id is not None:
        q = q.where(Watch.owner_id == owner_id)
    return list(session.exec(q))


def watch_ids_of(*, session: Session, owner_id: int) -> list[int]:
    """The ids of an owner's watches."""
    return [i for i in session.exec(select(Watch.id).where(Watch.owner_id == owner_id)) if i is not None]


def by_name(*, session: Session, name: str, owner_id: int) -> Watch | None:
    """One watch by its name, unique per owner."""
    return session.exec(select(Watch).where(Watch.name == name, Watch.owner_id == owner_id)).first()


def get_watch(*, session: Session, watch_id: int, owner_id: int | None = None) -> Watch | None:
    """One watch by id (None when it belongs to another owner than `owner_id`, if given)."""
    watch = session.get(Watch, watch_id)
    if watch is None or (owner_id is not None and watch.owner_id != owner_id):
        return None
    return watch


def _when() -> Any:
    # An article's time for backtests: when it was published, else when we fetched it.
    return func.coalesce(Article.published_at, Article.fetched_at)


def articles_in_window(
    *, session: Session, since: datetime, until: datetime, after_id: int, limit: int
) -> list[tuple[int, str, str, str | None, datetime]]:
    """(id, title, text, language, time) of articles in [since, until), by id after `after_id`."""
    when = _when()
    q = (
        select_columns(Article.id, Article.title, Article.text, Article.language, when)
        .where(when >= since, when < until, col(Article.id) > after_id)
        .order_by(col(Article.id))
        .limit(limit)
    )
    return [(int(i), t, x, lang, w) for i, t, x, lang, w in session.exec(q)]


def entities_for(*, session: Session, article_ids: list[int]) -> dict[int, list[DocEntity]]:
    """The linked entities of these articles, as the engine sees them."""
    out: dict[int, list[DocEntity]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    q = (
        select_columns(Mention.article_id, Mention.label, Mention.text, Entity.kb_id, Entity.name)
        .join(Entity, col(Mention.entity_id) == col(Entity.id))
        .where(col(Mention.article_id).in_(article_ids))
    )
    for article_id, label, text, kb_id, name in session.exec(q):
        out[article_id].append(DocEntity(kb_id, label, text, name))
    return out


def recent_texts(*, session: Session, limit: int = 500, chars: int = 2000) -> list[str]:
    """Title and the start of the text of the most recent articles (a sample for term frequencies)."""
    q = (
        select(Article.title, func.substr(Article.text, 1, chars))
        .order_by(col(Article.id).desc())
        .limit(limit)
    )
    return [f"{t} {x or ''}" for t, x in session.exec(q)]


def false_positives(*, session: Session, watch_id: int) -> dict[int, str]:
    """The watch's false-positive feedback: {article id: note}."""
    q = select(WatchFeedback.article_id, WatchFeedback.note).where(
        WatchFeedback.watch_id == watch_id, WatchFeedback.verdict == FALSE_POSITIVE
    )
    return {a: n for a, n in session.exec(q)}


def matches_of_article(
    *, session: Session, article_id: int, owner_id: int | None
) -> list[tuple[Match, Watch]]:
    """The matches of one article with their watches (only one owner's watches when given)."""
    q = (
        select(Match, Watch)
        .join(Watch, col(Watch.id) == Match.watch_id)
        .where(Match.article_id == article_id)
    )
    if owner_id is not None:
        q = q.where(Watch.owner_id == owner_id)
    return [(m, w) for m, w in session.exec(q.order_by(col(Match.id)))]
