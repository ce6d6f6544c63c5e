"""/api/v1/alerts: alerts of the caller's watches, newest first, paginated, filterable by watch; `/stream` is
the live SSE feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.errors import errors_doc
from services.api.params import BeforeQ, IdPath, LimitQ
from services.api.streams import Streams
from shared.alerts.fanout import sse_events
from shared.alerts.schemas import AlertOut
from shared.insights import alerts as triage
from shared.insights.alerts import AlertFilters
from shared.insights.schemas import AckIn, FalsePositiveIn, FeedbackOut, StoryAlertsPage
from shared.rules import store as watch_store
from shared.schemas import MAX_INT, Id, Page
from shared.search.service import resolve_entities

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


def _filters(
    session: SessionDep,
    watch_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="of this watch")] = None,
    entity: Annotated[
        str | None, Query(max_length=500, description="whose story mentions this entity (id, kb id or name)")
    ] = None,
    min_score: Annotated[float | None, Query(ge=-1e9, le=1e9, description="score at least")] = None,
    story_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="of this story")] = None,
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
    session: SessionDep, caller: CallerDep, filters: FiltersDep, limit: LimitQ = 50, before: BeforeQ = None
) -> Page[AlertOut]:
    """Alerts of the caller's watches (an admin key: everyone's), newest first, filtered."""
    rows = triage.list_alerts(session=session, caller=caller, filters=filters, limit=limit, before=before)
    return Page.of([AlertOut.of(*r) for r in rows], limit, rows[-1][0].id if rows else None)


@router.get("/by-story", response_model=StoryAlertsPage)
def alerts_by_story(
    session: SessionDep,
    caller: CallerDep,
    filters: FiltersDep,
    limit: LimitQ = 50,
    before: Annotated[
        datetime | None, Query(description="stories last changed before this (next_before)")
    ] = None,
) -> StoryAlertsPage:
    """Alerts grouped by story, the most recently changed story first: one row per event."""
    return triage.story_page(session=session, caller=caller, filters=filters, limit=limit, before=before)


def streams_of(request: Request, settings: SettingsDep) -> Streams:
    """The app's live-stream machinery (made on first use, stopped with the app)."""
    streams = getattr(request.app.state, "streams", None)
    if streams is None:
        streams = request.app.state.streams = Streams(settings)
    return streams


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "alert.created / alert.updated"},
        **errors_doc(429),
    },
)
async def stream_alerts(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    watch_id: Annotated[list[Id] | None, Query(description="only these watches (repeatable)")] = None,
    last_event_id: Annotated[
        str | None, Header(max_length=100, description="resume after this event id")
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events of new and updated alerts of the caller's watches (those when it opened);
    resumable with Last-Event-ID; filter by watch.

    A stream runs on the event loop (no thread of its own), is capped per key (429), and closes within
    NEWSWATCH_STREAM_KEY_CHECK_SECONDS once its key is revoked.
    """
    watches: list[int] | None = watch_id
    if caller.owner_filter is not None:
        mine = set(watch_store.watch_ids_of(session=session, owner_id=caller.owner_filter))
        watches = [w for w in watch_id if w in mine] if watch_id else sorted(mine)
    session.close()  # a stream can last hours: hold no database connection meanwhile
    streams = streams_of(request, settings)
    await streams.ensure_started()
    # past NEWSWATCH_STREAM_MAX_PER_KEY this raises StreamLimitError, a TooMany: 429 with Retry-After
    sub = await streams.fanout.subscribe(key_id=caller.key_id, last_event_id=last_event_id, watch_ids=watches)
    return StreamingResponse(
        sse_events(sub, heartbeat=settings.stream_heartbeat_seconds),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: IdPath, session: SessionDep, caller: CallerDep) -> AlertOut:
    """One alert."""
    return triage.alert_out(session=session, caller=caller, alert_id=alert_id)


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(
    alert_id: IdPath, session: SessionDep, caller: CallerDep, body: AckIn | None = None
) -> AlertOut:
    """Mark the alert seen (`{"acknowledged": false}` takes it back)."""
    triage.acknowledge(
        session=session, caller=caller, alert_id=alert_id, acknowledged=(body or AckIn()).acknowledged
    )
    session.commit()
    return triage.alert_out(session=session, caller=caller, alert_id=alert_id)


@router.post("/{alert_id}/false-positive", response_model=list[FeedbackOut])
def mark_false_positive(
    alert_id: IdPath, session: SessionDep, caller: CallerDep, body: FalsePositiveIn | None = None
) -> list[FeedbackOut]:
    """Judge the alert a false positive: its articles become feedback on the watch, shown in its backtest."""
    note = (body or FalsePositiveIn()).note
    rows = triage.mark_false_positive(session=session, caller=caller, alert_id=alert_id, note=note)
    session.commit()
    return [FeedbackOut.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/{alert_id}/false-positive", response_model=AlertOut)
def unmark_false_positive(alert_id: IdPath, session: SessionDep, caller: CallerDep) -> AlertOut:
    """Take a false-positive judgement back (its feedback rows are removed)."""
    triage.unmark_false_positive(session=session, caller=caller, alert_id=alert_id)
    session.commit()
    return triage.alert_out(session=session, caller=caller, alert_id=alert_id)
