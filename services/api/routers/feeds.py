"""/api/v1/feeds: the caller's feeds: create (address-checked), list with health, read, update, delete,
health events, fetch now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.errors import errors_doc
from services.api.params import IdPath
from services.dispatch import enqueue_fetch
from shared.fetching import service, store
from shared.fetching.schemas import FeedEventOut, FeedIn, FeedOut, FeedPatch, Health
from shared.models import Feed
from shared.models.base import utcnow
from shared.models.feed import FeedEvent

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])
EventLimitQ = Annotated[int, Query(ge=1, le=1000, description="how many events, newest first")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FeedOut, responses=errors_doc(409))
def create_feed(body: FeedIn, session: SessionDep, settings: SettingsDep, caller: CallerDep) -> Feed:
    """A new feed of the caller's account (422 when the URL is refused, 409 when the account has it)."""
    feed = service.create_feed(
        session=session,
        url=body.url,
        settings=settings,
        title=body.title,
        kind=body.kind,
        extract_full_text=body.extract_full_text,
        enabled=body.enabled,
        owner_id=caller.account_id,
    )
    session.commit()
    return feed


@router.get("", response_model=list[FeedOut])
def list_feeds(session: SessionDep, caller: CallerDep, health: Health | None = None) -> list[Feed]:
    """The caller's feeds (an admin key: everyone's), optionally by health."""
    return store.list_feeds(session=session, health=health, owner_id=caller.owner_filter)


@router.get("/events", response_model=list[FeedEventOut])
def list_all_events(session: SessionDep, caller: CallerDep, limit: EventLimitQ = 100) -> list[FeedEvent]:
    """Health events of the caller's feeds, newest first."""
    return store.list_events(session=session, limit=limit, owner_id=caller.owner_filter)


@router.get("/{feed_id}", response_model=FeedOut)
def get_feed(feed_id: IdPath, session: SessionDep, caller: CallerDep) -> Feed:
    """One feed with its health."""
    return service.get_feed(session=session, feed_id=feed_id, owner_id=caller.owner_filter)


@router.get("/{feed_id}/events", response_model=list[FeedEventOut])
def list_feed_events(
    feed_id: IdPath, session: SessionDep, caller: CallerDep, limit: EventLimitQ = 100
) -> list[FeedEvent]:
    """One feed's health events, newest first."""
    service.get_feed(session=session, feed_id=feed_id, owner_id=caller.owner_filter)
    return store.list_events(session=session, feed_id=feed_id, limit=limit)


@router.post("/{feed_id}/fetch", status_code=status.HTTP_202_ACCEPTED, response_model=FeedOut)
def fetch_now(feed_id: IdPath, session: SessionDep, caller: CallerDep) -> Feed:
    """Fetch the feed now (queued)."""
    feed = service.get_feed(session=session, feed_id=feed_id, owner_id=caller.owner_filter)
    feed.next_fetch_at = utcnow()
    session.add(feed)
    session.commit()
    enqueue_fetch([feed_id])
    return feed


@router.patch("/{feed_id}", response_model=FeedOut)
def update_feed(feed_id: IdPath, body: FeedPatch, session: SessionDep, caller: CallerDep) -> Feed:
    """Change the fields given."""
    feed = service.get_feed(session=session, feed_id=feed_id, owner_id=caller.owner_filter)
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(feed, key, value)
    session.add(feed)
    session.commit()
    return feed


@router.delete("/{feed_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_feed(feed_id: IdPath, session: SessionDep, caller: CallerDep) -> Response:
    """Delete the feed (its articles stay: they are the shared corpus)."""
    session.delete(service.get_feed(session=session, feed_id=feed_id, owner_id=caller.owner_filter))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
