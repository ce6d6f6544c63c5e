"""The outbox: one delivery per event and subscription, and the log of every attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import json_column, text_column, utcnow

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"  # a dead letter: every attempt failed, or the endpoint answered 410
MISSED = "missed"  # written or parked while the subscription was disabled; replayable
STATUSES = (PENDING, SUCCEEDED, FAILED, MISSED)


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_key", name="uq_delivery_sub_event"),)

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(max_length=64, unique=True, description="webhook-id, stable across retries")
    subscription_id: int = Field(foreign_key="subscriptions.id", index=True, ondelete="CASCADE")
    alert_id: int | None = Field(default=None, foreign_key="alerts.id", index=True, ondelete="CASCADE")
    event_type: str = Field(max_length=50)
    event_key: str = Field(max_length=200, description="what makes the event unique per subscription")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    status: str = Field(default=PENDING, max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, index=True)
    locked_until: datetime | None = Field(default=None, description="a worker's claim lease")
    lock_token: str | None = Field(default=None, max_length=32, description="which claim holds the lease")
    enqueued_until: datetime | None = Field(default=None, description="a message is in flight until then")
    replays: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=text_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    delivered_at: datetime | None = None


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="deliveries.id", index=True, ondelete="CASCADE")
    attempt_number: int = 1
    attempted_at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    duration_ms: float = 0.0
    response_headers: dict[str, str] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    response_body: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    error: str | None = Field(default=None, sa_column=text_column(nullable=True))
