"""/api/v1/alerts: newest first, paginated, filterable by watch; `/stream` is the live SSE feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from services.api.deps import KeyDep, SessionDep, SettingsDep
from services.api.pagination import BeforeQ, LimitQ, Page, page
from shared.alerts import live, store
from shared.alerts.stream import iter_sse
from shared.db import session_scope
from shared.errors import NotFound
from shared.models import Alert, Article, Watch

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

_TAIL: live.EmbeddedTail | None = None


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
    throttled: bool
    is_digest: bool
    digest_id: int | None
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
        throttled=alert.throttled,
        is_digest=alert.is_digest,
        digest_id=alert.digest_id,
        created_at=alert.created_at,
        updated_at=alert.updated_at,
    )


@router.get("", response_model=Page[AlertOut])
def list_alerts(
    session: SessionDep, _: KeyDep, limit: LimitQ = 50, before: BeforeQ = None, watch_id: int | None = None
) -> Page[AlertOut]:
    """Alerts, newest first."""
    rows = [
        _out(*r)
        for r in store.alerts_with_refs(session=session, watch_id=watch_id, limit=limit, before=before)
    ]
    return page(rows, limit, rows[-1].id if rows else None)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "alert.created / alert.updated"}},
)
def stream_alerts(
    session: SessionDep,
    settings: SettingsDep,
    _: KeyDep,
    watch_id: Annotated[list[int] | None, Query(description="only these watches (repeatable)")] = None,
    last_event_id: Annotated[str | None, Header(description="resume after this event id")] = None,
) -> StreamingResponse:
    """Server-Sent Events of new and updated alerts; resumable with Last-Event-ID; filter by watch."""
    global _TAIL
    session.close()  # a stream can last hours: hold no database connection meanwhile
    if settings.mode == "embedded" and _TAIL is None:
        _TAIL = live.EmbeddedTail(session_factory=session_scope)
        _TAIL.start()
    sub = live.stream_for(settings).subscribe(last_event_id=last_event_id, watch_ids=watch_id)
    return StreamingResponse(
        iter_sse(sub),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: int, session: SessionDep, _: KeyDep) -> AlertOut:
    """One alert."""
    rows = store.alerts_with_refs(session=session, alert_id=alert_id, limit=1)
    if not rows:
        raise NotFound("no such alert")
    return _out(*rows[0])
