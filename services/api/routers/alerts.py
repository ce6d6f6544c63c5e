"""/api/v1/alerts: alerts of the caller's watches, newest first, paginated, filterable by watch; `/stream` is
the live SSE feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.errors import errors_doc
from services.api.params import BeforeQ, IdPath, LimitQ
from services.api.streams import Streams
from shared.alerts import store
from shared.alerts.fanout import sse_events
from shared.alerts.schemas import AlertOut
from shared.errors import NotFound
from shared.rules import store as watch_store
from shared.schemas import MAX_INT, Id, Page

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get("", response_model=Page[AlertOut])
def list_alerts(
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 50,
    before: BeforeQ = None,
    watch_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Page[AlertOut]:
    """Alerts of the caller's watches (an admin key: everyone's), newest first."""
    rows = store.alerts_with_refs(
        session=session, watch_id=watch_id, limit=limit, before=before, owner_id=caller.owner_filter
    )
    return Page.of([AlertOut.of(*r) for r in rows], limit, rows[-1][0].id if rows else None)


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
    rows = store.alerts_with_refs(session=session, alert_id=alert_id, limit=1, owner_id=caller.owner_filter)
    if not rows:
        raise NotFound("no such alert")
    return AlertOut.of(*rows[0])
