"""/api/v1/feeds: create (address-checked), list with health, read, update, delete, events, fetch now."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from services.api.deps import KeyDep, SessionDep, SettingsDep
from services.queue import send
from shared.fetching import service, store
from shared.models import Feed
from shared.models.base import utcnow
from shared.models.feed import FeedEvent
from shared.outbound.policy import UnsafeURLError

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])


class FeedIn(BaseModel):
    url: str = Field(max_length=2000)
    title: str | None = Field(default=None, max_length=500)
    kind: Literal["rss", "sitemap"] = "rss"
    extract_full_text: bool = False
    enabled: bool = True


class FeedPatch(BaseModel):
    title: str | None = None
    enabled: bool | None = None
    extract_full_text: bool | None = None


class FeedOut(BaseModel):
    id: int
    url: str
    title: str | None
    kind: str
    enabled: bool
    extract_full_text: bool
    interval_seconds: int
    next_fetch_at: datetime
    health: str
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    created_at: datetime
    usual_gap_seconds: float | None = None
    last_status: int | None = None
    unhealthy_since: datetime | None = None
    hub_url: str | None = None
    websub_state: str = "none"
    websub_renew_at: datetime | None = None
    websub_error: str | None = None


class FeedEventOut(BaseModel):
    id: int
    feed_id: int
    type: str
    health: str
    reason: str
    created_at: datetime


def _get(session: SessionDep, feed_id: int) -> Feed:
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    return feed


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FeedOut)
def create_feed(body: FeedIn, session: SessionDep, settings: SettingsDep, _: KeyDep) -> Feed:
    try:
        feed = service.create_feed(
            session=session,
            url=body.url,
            settings=settings,
            title=body.title,
            kind=body.kind,
            extract_full_text=body.extract_full_text,
            enabled=body.enabled,
        )
    except UnsafeURLError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"url refused: {exc}") from exc
    except service.FeedExistsError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return feed


@router.get("", response_model=list[FeedOut])
def list_feeds(
    session: SessionDep, _: KeyDep, health: Literal["ok", "degraded", "failing", "stale"] | None = None
) -> list[Feed]:
    return store.list_feeds(session=session, health=health)


@router.get("/events", response_model=list[FeedEventOut])
def list_all_events(session: SessionDep, _: KeyDep, limit: int = 100) -> list[FeedEvent]:
    return store.list_events(session=session, limit=min(max(limit, 1), 1000))


@router.get("/{feed_id}", response_model=FeedOut)
def get_feed(feed_id: int, session: SessionDep, _: KeyDep) -> Feed:
    return _get(session, feed_id)


@router.get("/{feed_id}/events", response_model=list[FeedEventOut])
def list_feed_events(feed_id: int, session: SessionDep, _: KeyDep, limit: int = 100) -> list[FeedEvent]:
    _get(session, feed_id)
    return store.list_events(session=session, feed_id=feed_id, limit=min(max(limit, 1), 1000))


@router.post("/{feed_id}/fetch", status_code=status.HTTP_202_ACCEPTED, response_model=FeedOut)
def fetch_now(feed_id: int, session: SessionDep, _: KeyDep) -> Feed:
    feed = _get(session, feed_id)
    feed.next_fetch_at = utcnow()
    session.add(feed)
    session.commit()
    send("fetcher.fetch", [feed_id])
    return feed


@router.patch("/{feed_id}", response_model=FeedOut)
def update_feed(feed_id: int, body: FeedPatch, session: SessionDep, _: KeyDep) -> Feed:
    feed = _get(session, feed_id)
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(feed, key, value)
    session.add(feed)
    session.commit()
    return feed


@router.delete("/{feed_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_feed(feed_id: int, session: SessionDep, _: KeyDep) -> Response:
    session.delete(_get(session, feed_id))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
