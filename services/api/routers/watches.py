"""/api/v1/watches: the caller's stored rules; an invalid query is refused with 422 naming the position."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.errors import errors_doc
from services.api.params import IdPath
from shared.insights import alerts as triage
from shared.insights.schemas import FeedbackOut
from shared.models import Watch
from shared.nlp import cached_knowledge_base
from shared.rules import service, store, validate
from shared.rules.backtest import MAX_LIMIT, backtest
from shared.rules.schemas import (
    BacktestOut,
    DraftBacktestIn,
    QueryIn,
    ValidationOut,
    WatchIn,
    WatchOut,
    WatchPatch,
    WindowIn,
)
from shared.rules.stats import document_frequencies
from shared.schemas import MAX_INT

router = APIRouter(prefix="/api/v1/watches", tags=["watches"])
LimitQ = Annotated[int, Query(ge=0, le=MAX_LIMIT)]
OffsetQ = Annotated[int, Query(ge=0, le=MAX_INT)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WatchOut, responses=errors_doc(409))
def create_watch(body: WatchIn, session: SessionDep, caller: CallerDep) -> Watch:
    """A new watch of the caller's account (422 with the position when the query is invalid)."""
    watch = service.create_watch(session=session, owner_id=caller.account_id, **body.model_dump())
    session.commit()
    return watch


@router.post("/validate", response_model=ValidationOut)
def validate_query(body: QueryIn, session: SessionDep, _: CallerDep) -> ValidationOut:
    """Parse a query: its canonical form, terms and warnings (422 with the position when invalid).

    Terms are also checked against the most recent stored articles: one found in a fifth of them floods.
    """
    v = validate(body.query, frequencies=document_frequencies(store.recent_texts(session=session, limit=500)))
    return ValidationOut(
        valid=True, canonical=v.canonical, folded=v.folded, terms=v.terms, warnings=v.warnings
    )


def _backtest(
    session: SessionDep,
    settings: SettingsDep,
    query: str,
    window: WindowIn,
    limit: int,
    offset: int,
    name: str,
    watch_id: int | None = None,
) -> dict[str, Any]:
    feedback = store.false_positives(session=session, watch_id=watch_id) if watch_id is not None else None
    result = backtest(
        session=session,
        query=query,
        since=window.since,
        until=window.until,
        limit=limit,
        offset=offset,
        resolver=cached_knowledge_base(settings.effective_kb_path),
        name=name,
        false_positives=feedback,
    )
    return result.to_dict()


@router.post("/backtest", response_model=BacktestOut, responses=errors_doc(404))  # body.watch_id unknown
def backtest_draft(
    body: DraftBacktestIn,
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
) -> dict[str, Any]:
    """Run a draft query over stored articles: total, counts per day, matches (paginated); with `watch_id`,
    also whether the draft still matches each false positive marked on that watch."""
    if body.watch_id is not None:
        service.get_watch(session=session, watch_id=body.watch_id, owner_id=caller.owner_filter)
    return _backtest(session, settings, body.query, body, limit, offset, "draft", body.watch_id)


@router.post("/{watch_id}/backtest", response_model=BacktestOut)
def backtest_watch(
    watch_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    body: WindowIn | None = None,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
) -> dict[str, Any]:
    """Run a stored watch over stored articles: total, counts per day, matches (paginated)."""
    watch = service.get_watch(session=session, watch_id=watch_id, owner_id=caller.owner_filter)
    return _backtest(session, settings, watch.query, body or WindowIn(), limit, offset, watch.name, watch.id)


@router.get("/{watch_id}/feedback", response_model=list[FeedbackOut])
def watch_feedback(watch_id: IdPath, session: SessionDep, caller: CallerDep) -> list[FeedbackOut]:
    """The watch's false positives, as marked on its alerts (shown again in every backtest of it)."""
    return triage.feedback_of(session=session, caller=caller, watch_id=watch_id)


@router.get("", response_model=list[WatchOut])
def list_watches(session: SessionDep, caller: CallerDep) -> list[Watch]:
    """The caller's watches (an admin key: everyone's)."""
    return store.list_watches(session=session, owner_id=caller.owner_filter)


@router.get("/{watch_id}", response_model=WatchOut)
def get_watch(watch_id: IdPath, session: SessionDep, caller: CallerDep) -> Watch:
    """One watch."""
    return service.get_watch(session=session, watch_id=watch_id, owner_id=caller.owner_filter)


@router.patch("/{watch_id}", response_model=WatchOut, responses=errors_doc(409))
def update_watch(watch_id: IdPath, body: WatchPatch, session: SessionDep, caller: CallerDep) -> Watch:
    """Change the fields given (a new query is validated and bumps the version; a taken name is 409)."""
    watch = service.get_watch(session=session, watch_id=watch_id, owner_id=caller.owner_filter)
    watch = service.update_watch(session=session, watch=watch, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return watch


@router.post("/{watch_id}/retry", response_model=WatchOut)
def retry_watch(watch_id: IdPath, session: SessionDep, caller: CallerDep) -> Watch:
    """Put a quarantined watch back into matching (it is quarantined again if it still fails)."""
    watch = service.get_watch(session=session, watch_id=watch_id, owner_id=caller.owner_filter)
    watch = service.resume_watch(session=session, watch=watch)
    session.commit()
    return watch


@router.delete("/{watch_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_watch(watch_id: IdPath, session: SessionDep, caller: CallerDep) -> Response:
    """Delete the watch (its matches and alerts go with it)."""
    watch = service.get_watch(session=session, watch_id=watch_id, owner_id=caller.owner_filter)
    service.delete_watch(session=session, watch=watch)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
