"""/api/v1/alerts: newest first, paginated, filterable by watch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from sqlmodel import col, select

from services.api.deps import KeyDep, SessionDep
from services.api.pagination import BeforeQ, LimitQ, Page, page
from shared.models import Alert, Article, Watch

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class AlertOut(BaseModel):
    id: int
    watch_id: int
    watch: str
    article_id: int
    title: str
    url: str | None
    story_key: str
    score: float
    terms: list[dict[str, Any]]
    snippet: str
    article_ids: list[int]
    revision: int
    created_at: datetime
    updated_at: datetime


def _out(alert: Alert, watch: Watch, article: Article) -> AlertOut:
    return AlertOut(
        id=alert.id or 0,
        watch_id=alert.watch_id,
        watch=watch.name,
        article_id=alert.article_id,
        title=article.title,
        url=article.url,
        story_key=alert.story_key,
        score=alert.score,
        terms=alert.terms,
        snippet=alert.snippet,
        article_ids=alert.article_ids,
        revision=alert.revision,
        created_at=alert.created_at,
        updated_at=alert.updated_at,
    )


def _query():  # type: ignore[no-untyped-def]
    return (
        select(Alert, Watch, Article)
        .join(Watch, col(Watch.id) == Alert.watch_id)
        .join(Article, col(Article.id) == Alert.article_id)
    )


@router.get("", response_model=Page[AlertOut])
def list_alerts(
    session: SessionDep, _: KeyDep, limit: LimitQ = 50, before: BeforeQ = None, watch_id: int | None = None
) -> Page[AlertOut]:
    q = _query().order_by(col(Alert.id).desc()).limit(limit)
    if before is not None:
        q = q.where(col(Alert.id) < before)
    if watch_id is not None:
        q = q.where(Alert.watch_id == watch_id)
    rows = [_out(a, w, art) for a, w, art in session.exec(q)]
    return page(rows, limit, rows[-1].id if rows else None)


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: int, session: SessionDep, _: KeyDep) -> AlertOut:
    row = session.exec(_query().where(Alert.id == alert_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert")
    return _out(*row)
