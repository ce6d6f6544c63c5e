"""The outbox's send side: claim a due delivery, POST it signed, log the attempt, schedule the next one.

The claim, the request and the result are three steps: the row is locked only while claimed (a lease in
`locked_until`), never during the HTTP request, so a killed worker's delivery is due again once the lease
ends and the periodic sweep finds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlmodel import Session

from shared.alerts import payload, store
from shared.alerts.signing import webhook_headers
from shared.config import Settings
from shared.fetching.net import UnsafeURLError
from shared.fetching.transport import PinnedTransport
from shared.models import Delivery, DeliveryAttempt, Subscription
from shared.models.base import utcnow
from shared.models.delivery import FAILED, SUCCEEDED
from shared.security.keys import SecretBox

SessionFactory = Callable[[], AbstractContextManager[Session]]
BODY_LOG_BYTES = 4096


@dataclass
class SendOutcome:
    """What one deliver step did; `retry_in` is set when the next attempt is due soon."""

    status: str  # "sent", "retry", "failed", "skipped"
    retry_in: float | None = None


@dataclass
class _Claimed:
    url: str
    msg_id: str
    event_type: str
    data: dict
    secrets: list[str]


def _secrets(sub: Subscription, box: SecretBox) -> list[str]:
    out = [box.decrypt(sub.secret_encrypted)]
    exp = sub.previous_secret_expires_at
    if sub.previous_secret_encrypted and exp is not None and exp > utcnow():
        out.append(box.decrypt(sub.previous_secret_encrypted))
    return out


def _claim(session: Session, delivery_id: int, settings: Settings, box: SecretBox) -> _Claimed | None:
    now = utcnow()
    row = store.claim_delivery(session=session, delivery_id=delivery_id, now=now)
    # a countdown may fire a moment early: half a second of slack avoids waiting for the sweep
    if row is None or row.next_attempt_at is None or row.next_attempt_at > now + timedelta(seconds=0.5):
        return None
    sub = session.get(Subscription, row.subscription_id)
    if sub is None or not sub.enabled:
        return None
    row.locked_until = now + timedelta(seconds=settings.delivery_lock_seconds)
    session.add(row)
    return _Claimed(sub.url, row.msg_id, row.event_type, dict(row.payload), _secrets(sub, box))


def _post(claimed: _Claimed, settings: Settings, transport: httpx.BaseTransport | None) -> DeliveryAttempt:
    body = payload.render(claimed.event_type, claimed.data)
    headers = webhook_headers(
        msg_id=claimed.msg_id, timestamp=int(time.time()), body=body, secrets=claimed.secrets
    )
    headers["user-agent"] = settings.user_agent
    attempt = DeliveryAttempt(delivery_id=0)
    started = time.monotonic()
    try:
        with httpx.Client(
            transport=PinnedTransport(settings.address_policy(), inner=transport),
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            resp = client.post(claimed.url, content=body.encode(), headers=headers)
            attempt.status_code = resp.status_code
            attempt.response_headers = dict(resp.headers)
            attempt.response_body = resp.content[:BODY_LOG_BYTES].decode("utf-8", "replace")
    except UnsafeURLError as exc:
        attempt.error = f"refused: {exc}"
    except httpx.HTTPError as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
    attempt.duration_ms = (time.monotonic() - started) * 1000
    return attempt


def _record(session: Session, delivery_id: int, attempt: DeliveryAttempt, settings: Settings) -> SendOutcome:
    row = session.get(Delivery, delivery_id)
    if row is None:
        return SendOutcome("skipped")
    now = utcnow()
    attempt.delivery_id = delivery_id
    attempt.attempted_at = now
    session.add(attempt)
    row.attempts += 1
    row.locked_until = None
    row.last_status_code = attempt.status_code
    ok = attempt.status_code is not None and 200 <= attempt.status_code < 300
    if ok:
        row.status = SUCCEEDED
        row.delivered_at = now
        row.next_attempt_at = None
        row.last_error = None
        outcome = SendOutcome("sent")
    else:
        row.last_error = attempt.error or f"HTTP {attempt.status_code}"
        schedule = settings.retry_schedule
        if row.attempts < len(schedule):
            delay = float(schedule[row.attempts])
            row.next_attempt_at = now + timedelta(seconds=delay)
            outcome = SendOutcome("retry", retry_in=delay)
        else:
            row.status = FAILED
            row.next_attempt_at = None
            outcome = SendOutcome("failed")
    session.add(row)
    return outcome


def deliver(
    *,
    delivery_id: int,
    settings: Settings,
    session_factory: SessionFactory,
    transport: httpx.BaseTransport | None = None,
) -> SendOutcome:
    """One attempt at one delivery, if it is due and no other worker holds it."""
    box = SecretBox.from_settings(settings.secret_key, settings.data_dir)
    with session_factory() as session:
        claimed = _claim(session, delivery_id, settings, box)
    if claimed is None:
        return SendOutcome("skipped")
    attempt = _post(claimed, settings, transport)
    with session_factory() as session:
        return _record(session, delivery_id, attempt, settings)


def due_deliveries(*, session: Session, limit: int = 500) -> list[int]:
    """Ids the sweep should (re)enqueue: pending, due, not held."""
    return store.due_delivery_ids(session=session, now=utcnow(), limit=limit)
