"""/api/v1/watches: stored rules; an invalid query is refused with 422 naming the position."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field

from services.api.deps import KeyDep, ReaderDep, SessionDep, SettingsDep
from services.api.params import IdPath
from services.api.routers.alerts import FeedbackOut
from shared.insights import alerts as triage
from shared.models import Watch
from shared.nlp import cached_knowledge_base
from shared.rules import RuleSyntaxError, service, store, validate
from shared.rules.backtest import MAX_LIMIT, BacktestWindowError, backtest
from shared.rules.stats import document_frequencies

router = APIRouter(prefix="/api/v1/watches", tags=["watches"])


class WatchIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=20_000)
    description: str | None = None
    enabled: bool = True
    max_alerts_per_hour: int | None = Field(default=None, ge=1)


class WatchPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    query: str | None = Field(default=None, min_length=1, max_length=20_000)
    description: str | None = None
    enabled: bool | None = None
    max_alerts_per_hour: int | None = Field(default=None, ge=1)


class WatchOut(BaseModel):
    id: int
    name: str
    query: str
    canonical_query: str
    description: str | None
    enabled: bool
    version: int
    max_alerts_per_hour: int | None
    created_at: datetime
    updated_at: datetime


class QueryIn(BaseModel):
    query: str = Field(min_length=1, max_length=20_000)


class ValidationOut(BaseModel):
    valid: bool
    canonical: str
    folded: str = Field(description="the canonical query as it is matched: Traditional Chinese as Simplified")
    terms: list[str]
    warnings: list[str]


class WindowIn(BaseModel):
    since: str | None = Field(default=None, description="ISO date or date-time; default 30 days before until")
    until: str | None = Field(default=None, description="ISO date (whole day) or date-time; default now")


class DraftBacktestIn(WindowIn):
    query: str = Field(min_length=1, max_length=20_000)
    watch_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="report this watch's false positives against the draft"
    )


def syntax_error(exc: RuleSyntaxError) -> HTTPException:
    """422 with the message, the position and what was expected."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        {"message": str(exc), "position": exc.position, "expected": exc.expected},
    )


def _get(session: SessionDep, watch_id: int) -> Watch:
    watch = session.get(Watch, watch_id)
    if watch is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such watch")
    return watch


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WatchOut)
def create_watch(body: WatchIn, session: SessionDep, _: KeyDep) -> Watch:
    try:
        watch = service.create_watch(session=session, **body.model_dump())
    except RuleSyntaxError as exc:
        raise syntax_error(exc) from exc
    except service.WatchExistsError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return watch


@router.post("/validate", response_model=ValidationOut)
def validate_query(body: QueryIn, session: SessionDep, _: KeyDep) -> ValidationOut:
    """Parse a query: its canonical form, terms and warnings (422 with the position when invalid).

    Terms are also checked against the most recent stored articles: one found in a fifth of them floods.
    """
    try:
        v = validate(
            body.query, frequencies=document_frequencies(store.recent_texts(session=session, limit=500))
        )
    except RuleSyntaxError as exc:
        raise syntax_error(exc) from exc
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
    try:
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
    except RuleSyntaxError as exc:
        raise syntax_error(exc) from exc
    except BacktestWindowError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": str(exc)}) from exc
    return result.to_dict()


@router.post("/backtest")
def backtest_draft(
    body: DraftBacktestIn,
    session: SessionDep,
    settings: SettingsDep,
    _: KeyDep,
    limit: int = Query(100, ge=0, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Run a draft query over stored articles: total, counts per day, matches (paginated)."""
    if body.watch_id is not None:
        _get(session, body.watch_id)
    return _backtest(session, settings, body.query, body, limit, offset, "draft", body.watch_id)


@router.post("/{watch_id}/backtest")
def backtest_watch(
    watch_id: int,
    session: SessionDep,
    settings: SettingsDep,
    _: KeyDep,
    body: WindowIn | None = None,
    limit: int = Query(100, ge=0, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Run a stored watch over stored articles: total, counts per day, matches (paginated)."""
    watch = _get(session, watch_id)
    return _backtest(session, settings, watch.query, body or WindowIn(), limit, offset, watch.name, watch.id)


@router.get("/{watch_id}/feedback", response_model=list[FeedbackOut])
def watch_feedback(watch_id: IdPath, session: SessionDep, viewer: ReaderDep) -> list[FeedbackOut]:
    """The watch's false positives, as marked on its alerts (shown again in every backtest of it)."""
    rows = triage.feedback_of(session=session, viewer=viewer, watch_id=watch_id)
    return [FeedbackOut(**f.model_dump(), title=title) for f, title in rows]


@router.get("", response_model=list[WatchOut])
def list_watches(session: SessionDep, _: KeyDep) -> list[Watch]:
    return store.list_watches(session=session)


@router.get("/{watch_id}", response_model=WatchOut)
def get_watch(watch_id: int, session: SessionDep, _: KeyDep) -> Watch:
    return _get(session, watch_id)


@router.patch("/{watch_id}", response_model=WatchOut)
def update_watch(watch_id: int, body: WatchPatch, session: SessionDep, _: KeyDep) -> Watch:
    watch = _get(session, watch_id)
    try:
        watch = service.update_watch(
            session=session, watch=watch, changes=body.model_dump(exclude_unset=True)
        )
    except RuleSyntaxError as exc:
        raise syntax_error(exc) from exc
    session.commit()
    return watch


@router.delete("/{watch_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_watch(watch_id: int, session: SessionDep, _: KeyDep) -> Response:
    service.delete_watch(session=session, watch=_get(session, watch_id))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
