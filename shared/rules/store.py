"""SQL for watches and the rule-set version counter."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from shared.models import RulesetState, Watch


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
    return list(session.exec(select(Watch).where(Watch.enabled).order_by(col(Watch.id))))


def list_watches(*, session: Session) -> list[Watch]:
    return list(session.exec(select(Watch).order_by(col(Watch.id))))


def by_name(*, session: Session, name: str) -> Watch | None:
    return session.exec(select(Watch).where(Watch.name == name)).first()
