"""SQL for watches and the rule-set version counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from shared.models import Article, RulesetState, Watch, WatchFeedback
from shared.models.entity import Entity, Mention
from shared.models.feedback import FALSE_POSITIVE
from shared.rules.types import DocEntity


def ruleset_version(*, session: Session) -> int:
    """The current rule-set version (0 before any watch was stored)."""
    row = session.get(RulesetState, 1)
    return row.version if row is not None else 0


def bump_ruleset_version(*, session: Session) -> None:
    """Tell every worker that the rule set changed (they recompile on their next batch)."""
    updated = session.exec(  # type: ignore[call-overload]
        update(RulesetState).where(col(RulesetState.id) == 1).values(version=col(RulesetState.version) + 1)
    )
    if updated.rowcount == 0:
        session.add(RulesetState(id=1, version=1))
    session.flush()


def enabled_watches(*, session: Session) -> list[Watch]:
    """Watches the engine compiles, in id order."""
    return list(session.exec(select(Watch).where(Watch.enabled).order_by(col(Watch.id))))


def list_watches(*, session: Session) -> list[Watch]:
    """Every watch, in id order."""
    return list(session.exec(select(Watch).order_by(col(Watch.id))))


def by_name(*, session: Session, name: str) -> Watch | None:
    """One watch by its unique name."""
    return session.exec(select(Watch).where(Watch.name == name)).first()


def get_watch(*, session: Session, watch_id: int) -> Watch | None:
    """One watch by id."""
    return session.get(Watch, watch_id)


def _when() -> Any:
    # An article's time for backtests: when it was published, else when we fetched it.
    return func.coalesce(Article.published_at, Article.fetched_at)


def articles_in_window(
    *, session: Session, since: datetime, until: datetime, after_id: int, limit: int
) -> list[tuple[int, str, str, str | None, datetime]]:
    """(id, title, text, language, time) of articles in [since, until), by id after `after_id`."""
    when = _when()
    q = (
        select(Article.id, Article.title, Article.text, Article.language, when)
        .where(when >= since, when < until, col(Article.id) > after_id)
        .order_by(col(Article.id))
        .limit(limit)
    )
    return [(int(i), t, x, lang, w) for i, t, x, lang, w in session.exec(q)]  # type: ignore[call-overload]


def entities_for(*, session: Session, article_ids: list[int]) -> dict[int, list[DocEntity]]:
    """The linked entities of these articles, as the engine sees them."""
    out: dict[int, list[DocEntity]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    q = (
        select(Mention.article_id, Mention.label, Mention.text, Entity.kb_id, Entity.name)
        .join(Entity, col(Mention.entity_id) == col(Entity.id))
        .where(col(Mention.article_id).in_(article_ids))
    )
    for article_id, label, text, kb_id, name in session.exec(q):  # type: ignore[call-overload]
        out[article_id].append(DocEntity(kb_id, label, text, name))
    return out


def recent_texts(*, session: Session, limit: int = 500, chars: int = 2000) -> list[str]:
    """Title and the start of the text of the most recent articles (a sample for term frequencies)."""
    q = (
        select(Article.title, func.substr(Article.text, 1, chars))
        .order_by(col(Article.id).desc())
        .limit(limit)
    )
    return [f"{t} {x or ''}" for t, x in session.exec(q)]  # type: ignore[call-overload]


def false_positives(*, session: Session, watch_id: int) -> dict[int, str]:
    """The watch's false-positive feedback: {article id: note}."""
    q = select(WatchFeedback.article_id, WatchFeedback.note).where(
        WatchFeedback.watch_id == watch_id, WatchFeedback.verdict == FALSE_POSITIVE
    )
    return {a: n for a, n in session.exec(q)}
