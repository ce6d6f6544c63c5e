"""/api/v1/subscriptions: webhook endpoints; the secret is returned once, at creation."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from services.api.deps import KeyDep, SessionDep, SettingsDep
from shared.alerts import service
from shared.fetching.net import UnsafeURLError
from shared.models import Subscription

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000)
    watches: list[int] | None = Field(default=None, description="watch ids; omitted or empty: every watch")
    event_types: list[str] | None = Field(default=None, description="default: alert.created, alert.updated")
    description: str | None = Field(default=None, max_length=500)


class SubscriptionOut(BaseModel):
    id: int
    url: str
    description: str | None
    watches: list[int] | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="whsec_…: shown this once; store it to verify signatures")


def sub_out(s: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id or 0,
        url=s.url,
        description=s.description,
        watches=s.watch_ids,
        event_types=s.event_types,
        enabled=s.enabled,
        disabled_reason=s.disabled_reason,
        created_at=s.created_at,
    )


def _get(session: SessionDep, sub_id: int) -> Subscription:
    sub = session.get(Subscription, sub_id)
    if sub is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such subscription")
    return sub


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
def create_subscription(
    body: SubscriptionIn, session: SessionDep, settings: SettingsDep, _: KeyDep
) -> SubscriptionCreated:
    try:
        sub, secret = service.create_subscription(
            session=session,
            url=body.url,
            settings=settings,
            watch_ids=body.watches,
            event_types=body.event_types,
            description=body.description,
        )
    except UnsafeURLError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"url refused: {exc}") from exc
    except service.SubscriptionError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    session.commit()
    return SubscriptionCreated(**sub_out(sub).model_dump(), secret=secret)


@router.get("", response_model=list[SubscriptionOut])
def list_subscriptions(session: SessionDep, _: KeyDep) -> list[SubscriptionOut]:
    return [sub_out(s) for s in session.exec(select(Subscription).order_by(col(Subscription.id)))]


@router.get("/{sub_id}", response_model=SubscriptionOut)
def get_subscription(sub_id: int, session: SessionDep, _: KeyDep) -> SubscriptionOut:
    return sub_out(_get(session, sub_id))


@router.delete("/{sub_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(sub_id: int, session: SessionDep, _: KeyDep) -> Response:
    session.delete(_get(session, sub_id))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
