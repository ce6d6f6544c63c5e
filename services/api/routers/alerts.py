"""/api/v1/alerts: newest first, paginated, filterable by watch; `/stream` is the live SSE feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from services.api.deps import KeyDep, ReaderDep, SessionDep, SettingsDep, WriterDep
from services.api.pagination import BeforeQ, LimitQ, Page, page
from services.api.params import IdPath
from shared.alerts import live
from shared.alerts.stream import iter_sse
from shared.db import session_scope
from shared.insights import alerts as triage
from shared.insights.alerts import AlertFilters, split_marks
from shared.insights.errors import NotVisibleError
from shared.models import Alert, Article, Watch
from shared.search.index import source_host
from shared.search.service import resolve_entities, safe_link

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

_TAIL: live.EmbeddedTail | None = None


_ALERT = {
    "id": 9, "watch_id": 1, "watch": "SCO", "article_id": 41, "title": "SCO summit opens in Astana",
    "url": "https://example.org/news/sco-summit", "host": "example.org", "story_key": "s40", "story_id": 40,
    "score": 3.0, "terms": [{"term": "SCO", "field": "title", "start": 0, "end": 3}],
    "snippet": "**SCO** summit opens in Astana", "snippet_text": "SCO summit opens in Astana",
    "highlights": [[0, 3]], "article_ids": [41, 44], "revision": 2, "throttled": False, "is_digest": False,
    "digest_id": None, "created_at": "2026-07-03T08:00:05Z", "updated_at": "2026-07-03T09:10:00Z",
    "acknowledged_at": None, "false_positive": False,
}  # fmt: skip


class AlertOut(BaseModel):
    """An alert: `snippet` marks hits **like this**; `snippet_text` + `highlights` say it as offsets."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ALERT]})
    id: int
    watch_id: int
    watch: str
    article_id: int
    title: str
    url: str | None
    host: str = ""
    story_key: str
    story_id: int | None = None
    score: float
    terms: list[dict[str, Any]]
    snippet: str
    snippet_text: str = ""
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    article_ids: list[int]
    revision: int
    throttled: bool
    is_digest: bool
    digest_id: int | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    false_positive: bool = False


class StoryAlerts(BaseModel):
    """One story's alerts across the caller's watches: one row per event however many watches it touched."""

    story_key: str
    story_id: int | None
    title: str
    url: str | None
    last_changed: datetime
    max_score: float
    watches: list[str]
    articles: int = Field(description="distinct articles over the story's alerts")
    acknowledged: bool = Field(description="every alert of the story is acknowledged")
    alerts: list[AlertOut]


class StoryAlertsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [{"story_key": "s40", "story_id": 40,
                                     "title": "SCO summit opens in Astana", "url": "https://example.org/news/sco-summit",
                                     "last_changed": "2026-07-03T09:10:00Z", "max_score": 3.0,
                                     "watches": ["SCO", "SCO leaders"], "articles": 2, "acknowledged": False,
                                     "alerts": [_ALERT]}],
                          "next_before": "2026-07-03T09:10:00Z"}]
        }
    )  # fmt: skip
    items: list[StoryAlerts]
    next_before: datetime | None = Field(default=None, description="pass as `before` for the next page")


class AckIn(BaseModel):
    acknowledged: bool = True


class FalsePositiveIn(BaseModel):
    note: str = Field(default="", max_length=2000, description="why it should not have matched")


class FeedbackOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 3, "watch_id": 1, "article_id": 12, "alert_id": 9,
                                         "verdict": "false_positive", "note": "The SCO Group, not the SCO",
                                         "title": "SCO Group sues over Linux",
                                         "created_at": "2026-07-03T10:00:00Z"}]}
    )  # fmt: skip
    id: int
    watch_id: int
    article_id: int
    alert_id: int | None
    verdict: str
    note: str
    title: str = ""
    created_at: datetime


def _out(alert: Alert, watch: Watch, article: Article) -> AlertOut:
    text, spans = split_marks(alert.snippet or "")
    return AlertOut(
        id=alert.id or 0,
        watch_id=alert.watch_id,
        watch=watch.name,
        article_id=alert.article_id,
        title=article.title,
        url=safe_link(article.url) or safe_link(article.canonical_url),
        host=source_host(article.canonical_url),
        story_key=alert.story_key,
        story_id=int(alert.story_key[1:])
        if alert.story_key[:1] == "s" and alert.story_key[1:].isdigit()
        else None,
        score=alert.score,
        terms=alert.terms,
        snippet=alert.snippet,
        snippet_text=text,
        highlights=spans,
        article_ids=alert.article_ids,
        revision=alert.revision,
        throttled=alert.throttled,
        is_digest=alert.is_digest,
        digest_id=alert.digest_id,
        created_at=alert.created_at,
        updated_at=alert.updated_at,
        acknowledged_at=alert.acknowledged_at,
        false_positive=alert.false_positive,
    )


def _filters(
    session: SessionDep,
    watch_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="of this watch")] = None,
    entity: Annotated[
        str | None, Query(max_length=500, description="whose story mentions this entity (id, kb id or name)")
    ] = None,
    min_score: Annotated[float | None, Query(ge=-1e9, le=1e9, description="score at least")] = None,
    story_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="of this story")] = None,
    since: Annotated[datetime | None, Query(description="changed at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="raised before (ISO 8601)")] = None,
    acknowledged: Annotated[bool | None, Query(description="only acknowledged (true) or not (false)")] = None,
    false_positive: Annotated[
        bool | None, Query(description="only false positives (true) or not (false)")
    ] = None,
) -> AlertFilters:
    entity_ids = resolve_entities(session=session, ref=entity) if entity else None
    return AlertFilters(watch_id, entity_ids, min_score, story_id, since, until, acknowledged, false_positive)


FiltersDep = Annotated[AlertFilters, Depends(_filters)]


@router.get("", response_model=Page[AlertOut])
def list_alerts(
    session: SessionDep, viewer: ReaderDep, filters: FiltersDep, limit: LimitQ = 50, before: BeforeQ = None
) -> Page[AlertOut]:
    """Alerts of the caller's watches, newest first, filtered."""
    rows = [
        _out(*r)
        for r in triage.list_alerts(
            session=session, viewer=viewer, filters=filters, limit=limit, before=before
        )
    ]
    return page(rows, limit, rows[-1].id if rows else None)


@router.get("/by-story", response_model=StoryAlertsPage)
def alerts_by_story(
    session: SessionDep,
    viewer: ReaderDep,
    filters: FiltersDep,
    limit: LimitQ = 50,
    before: Annotated[
        datetime | None, Query(description="stories last changed before this (next_before)")
    ] = None,
) -> StoryAlertsPage:
    """Alerts grouped by story, the most recently changed story first: one row per event."""
    groups, more = triage.grouped_by_story(
        session=session, viewer=viewer, filters=filters, limit=limit, before=before
    )
    items = []
    for key, changed, rows in groups:
        outs = [_out(*r) for r in rows]
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
    next_before = items[-1].last_changed if more and items else None
    return StoryAlertsPage(items=items, next_before=next_before)


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


def _one(session: SessionDep, viewer: ReaderDep, alert_id: int) -> AlertOut:
    rows = triage.list_alerts(
        session=session, viewer=viewer, filters=AlertFilters(), limit=1, before=None, alert_id=alert_id
    )
    if not rows:
        raise NotVisibleError("no such alert")
    return _out(*rows[0])


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: IdPath, session: SessionDep, viewer: ReaderDep) -> AlertOut:
    """One alert of the caller's watches."""
    return _one(session, viewer, alert_id)


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(
    alert_id: IdPath, session: SessionDep, viewer: WriterDep, body: AckIn | None = None
) -> AlertOut:
    """Mark the alert seen (`{"acknowledged": false}` takes it back)."""
    triage.acknowledge(
        session=session, viewer=viewer, alert_id=alert_id, acknowledged=(body or AckIn()).acknowledged
    )
    session.commit()
    return _one(session, viewer, alert_id)


@router.post("/{alert_id}/false-positive", response_model=list[FeedbackOut])
def mark_false_positive(
    alert_id: IdPath, session: SessionDep, viewer: WriterDep, body: FalsePositiveIn | None = None
) -> list[FeedbackOut]:
    """Judge the alert a false positive: its articles become feedback on the watch, shown in its backtest."""
    rows = triage.mark_false_positive(
        session=session, viewer=viewer, alert_id=alert_id, note=(body or FalsePositiveIn()).note
    )
    session.commit()
    return [FeedbackOut.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/{alert_id}/false-positive", response_model=AlertOut)
def unmark_false_positive(alert_id: IdPath, session: SessionDep, viewer: WriterDep) -> AlertOut:
    """Take a false-positive judgement back (its feedback rows are removed)."""
    triage.unmark_false_positive(session=session, viewer=viewer, alert_id=alert_id)
    session.commit()
    return _one(session, viewer, alert_id)
