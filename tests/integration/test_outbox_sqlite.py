"""The outbox on SQLite (the embedded mode's database), no PostgreSQL: claim, record, retry scheduling,
the sweep, a lost lease, a stale record, and a 410 that disables the endpoint.

A temporary database migrated with shared.migrations.upgrade; a fake channel at the `fake` scheme stands in
for the receiver (what it answers is set per test), the in-process limiter for Redis.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import shared.models  # noqa: F401  (registers every table)
from shared.alerts import outbox, service
from shared.alerts import outbox_store as ostore
from shared.alerts import subscriptions as subs
from shared.alerts.channels import AttemptResult, Message, registry
from shared.alerts.limits import EndpointLimits, LocalLimiter, Permit
from shared.config import Settings
from shared.db import engine_for
from shared.migrations import upgrade
from shared.models import Delivery, DeliveryAttempt, Subscription
from shared.models.base import to_utc, utcnow
from shared.models.delivery import FAILED, MISSED, PENDING, SUCCEEDED


@dataclass
class FakeChannel:
    """Answers with the next status of `answers` (then the last one again); keeps every message."""

    answers: list[int] = field(default_factory=lambda: [200])
    sent: list[Message] = field(default_factory=list)
    schemes: frozenset[str] = frozenset({"fake"})

    def check(self, target: str) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, message: Message) -> AttemptResult:
        self.sent.append(message)
        status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return AttemptResult(status_code=status, duration_ms=1.0, response_body=f"answer {status}")


@dataclass
class Outbox:
    settings: Settings
    engine: Engine
    channel: FakeChannel
    limiter: LocalLimiter

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s
            s.commit()

    def deliver(self, *ids: int) -> dict[int, outbox.SendOutcome]:
        return outbox.deliver_many(
            delivery_ids=list(ids),
            settings=self.settings,
            session_factory=self.session,
            channels=registry,
            limiter=self.limiter,
        )

    def row(self, delivery_id: int) -> Delivery:
        with self.session() as s:
            d = s.get(Delivery, delivery_id)
            assert d is not None
            return d

    def attempts(self, delivery_id: int) -> list[DeliveryAttempt]:
        with self.session() as s:
            q = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
            return list(s.exec(q.order_by(col(DeliveryAttempt.id))))

    def events(self, n: int, prefix: str = "e") -> list[int]:
        with self.session() as s:
            ids: list[int] = []
            for i in range(n):
                ids += service.enqueue_event(
                    session=s, event_type="alert.created", event_key=f"{prefix}:{i}", data={"alert_id": i}
                )
            return ids


@pytest.fixture
def ob(tmp_path: Path) -> Iterator[Outbox]:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    upgrade(url)
    settings = Settings(
        mode="embedded",
        database_url=url,
        data_dir=tmp_path,
        secret_key="sqlite-outbox-test",
        retry_schedule=[0, 5, 300],
        webhook_retry_jitter=0,
        delivery_sweep_seconds=5,
    )
    channel = FakeChannel()
    registry.register("fake", channel)
    outbox.forget_subscription()
    engine = engine_for(url)
    box = Outbox(settings, engine, channel, LocalLimiter())
    with box.session() as s:
        subs.create_subscription(session=s, url="fake://receiver/hook", settings=settings)
    try:
        yield box
    finally:
        registry.unregister("fake")
        outbox.forget_subscription()
        engine.dispose()


def test_claim_is_exclusive_and_a_delivery_is_recorded(ob: Outbox) -> None:
    [a, b] = ob.events(2)
    now, lease, slack = utcnow(), timedelta(seconds=60), timedelta(0)
    with ob.session() as s:
        first = ostore.claim_deliveries(
            session=s, delivery_ids=[a], token="t1", now=now, lease=lease, slack=slack
        )
    with ob.session() as s:
        second = ostore.claim_deliveries(
            session=s, delivery_ids=[a, b], token="t2", now=now, lease=lease, slack=slack
        )
    assert [r.id for r in first] == [a] and [r.id for r in second] == [b]  # a is held by t1

    # a held delivery is not sent by anyone else; once its lease has run out it is
    assert ob.deliver(a)[a].status == "skipped" and ob.channel.sent == []
    with ob.session() as s:
        row = s.get(Delivery, a)
        assert row is not None
        row.locked_until = utcnow() - timedelta(seconds=1)  # the worker holding it died
        s.add(row)
    assert ob.deliver(a)[a].status == "sent"
    d = ob.row(a)
    assert d.status == SUCCEEDED and d.attempts == 1 and d.lock_token is None and d.delivered_at
    [attempt] = ob.attempts(a)
    assert (attempt.status_code, attempt.response_body, attempt.attempt_number) == (200, "answer 200", 1)
    assert ob.channel.sent[0].msg_id == d.msg_id and ob.channel.sent[0].secrets  # signed


def test_a_batch_is_claimed_and_recorded_together(ob: Outbox) -> None:
    ids = ob.events(5)
    ob.channel.answers = [200, 500, 200, 200, 200]
    out = ob.deliver(*ids, ids[0])  # a repeated id is sent once
    assert sorted(o.status for o in out.values()) == ["retry", "sent", "sent", "sent", "sent"]
    assert len(ob.channel.sent) == 5
    statuses = {i: ob.row(i).status for i in ids}
    assert sorted(statuses.values()) == [PENDING, SUCCEEDED, SUCCEEDED, SUCCEEDED, SUCCEEDED]
    assert all(len(ob.attempts(i)) == 1 for i in ids)


def test_retry_is_scheduled_in_the_database_and_the_sweep_finds_it(ob: Outbox) -> None:
    [d] = ob.events(1)
    ob.channel.answers = [500, 200]
    before = utcnow()
    out = ob.deliver(d)[d]
    assert out.status == "retry" and out.retry_in == pytest.approx(5.0)
    row = ob.row(d)
    due = to_utc(row.next_attempt_at)
    assert row.status == PENDING and row.attempts == 1 and row.last_status_code == 500
    assert due is not None and before + timedelta(seconds=5) <= due <= utcnow() + timedelta(seconds=5)
    assert row.enqueued_until is not None  # a short wait: the countdown message holds it, not the sweep

    # not due yet: a message arriving now changes nothing, and the sweep leaves it alone
    assert ob.deliver(d)[d].status == "skipped" and len(ob.channel.sent) == 1
    with ob.session() as s:
        assert outbox.sweep(session=s, settings=ob.settings) == []
        # once due and its message's grace has passed (the message was lost), the sweep claims it, once
        later = to_utc(row.enqueued_until) + timedelta(seconds=1)  # type: ignore[operator]
        grace = outbox.enqueue_grace(ob.settings)
        assert ostore.claim_due_for_enqueue(session=s, now=later, grace=grace, limit=10) == [d]
        assert ostore.claim_due_for_enqueue(session=s, now=later, grace=grace, limit=10) == []

    with ob.session() as s:  # time passes: make it due now
        r = s.get(Delivery, d)
        assert r is not None
        r.next_attempt_at = utcnow() - timedelta(seconds=1)
        s.add(r)
    assert ob.deliver(d)[d].status == "sent"
    row = ob.row(d)
    assert row.status == SUCCEEDED and row.attempts == 2
    assert [a.status_code for a in ob.attempts(d)] == [500, 200]
    assert {m.msg_id for m in ob.channel.sent} == {row.msg_id}  # the webhook-id never changes


def test_last_attempt_fails_the_delivery(ob: Outbox) -> None:
    [d] = ob.events(1)
    ob.channel.answers = [500]
    for _ in range(3):  # the schedule has three attempts
        with ob.session() as s:
            r = s.get(Delivery, d)
            assert r is not None
            r.next_attempt_at = utcnow() - timedelta(seconds=1)
            r.enqueued_until = None
            s.add(r)
        ob.deliver(d)
    row = ob.row(d)
    assert row.status == FAILED and row.attempts == 3 and row.next_attempt_at is None
    assert len(ob.attempts(d)) == 3


def test_a_stale_record_is_logged_but_not_applied(ob: Outbox) -> None:
    [d] = ob.events(1)
    now = utcnow()
    with ob.session() as s:
        [claimed] = ostore.claim_deliveries(
            session=s, delivery_ids=[d], token="old", now=now, lease=timedelta(0), slack=timedelta(0)
        )
    assert ob.deliver(d)[d].status == "sent"  # the lease had run out: another worker sent it
    attempt = {
        "delivery_id": d,
        "attempt_number": 1,
        "attempted_at": now,
        "status_code": 500,
        "response_headers": {},
    }
    values = {c: None for c in ostore.RESULT_COLUMNS} | {"status": PENDING, "attempts": 1}
    with ob.session() as s:
        applied = ostore.record_attempts(session=s, token="old", attempts=[attempt], results={d: values})
    assert applied == set() and claimed.msg_id == ob.row(d).msg_id
    assert ob.row(d).status == SUCCEEDED and len(ob.attempts(d)) == 2


def test_410_disables_the_endpoint_and_parks_the_rest_as_missed(ob: Outbox) -> None:
    ids = ob.events(3)
    ob.channel.answers = [410]
    out = ob.deliver(ids[0])[ids[0]]
    assert out.status == "disabled"
    with ob.session() as s:
        [sub] = list(s.exec(select(Subscription)))
        assert not sub.enabled and "410" in (sub.disabled_reason or "")
    assert ob.row(ids[0]).status == FAILED
    assert {ob.row(i).status for i in ids[1:]} == {MISSED}
    outbox.forget_subscription()
    assert ob.deliver(*ids[1:]) == {i: outbox.SendOutcome("skipped") for i in ids[1:]}
    assert len(ob.channel.sent) == 1


class CountingLimiter(LocalLimiter):
    """The in-process limiter, counting its calls and the most permits held at once."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {"acquire": 0, "release": 0, "acquire_many": 0, "release_many": 0}
        self.most = 0

    def acquire(self, endpoint: str, limits: EndpointLimits) -> Permit:
        self.calls["acquire"] += 1
        return super().acquire(endpoint, limits)

    def release(self, permit: Permit) -> None:
        self.calls["release"] += 1
        super().release(permit)

    def acquire_many(self, endpoint: str, limits: EndpointLimits, n: int) -> list[Permit]:
        self.calls["acquire_many"] += 1
        got = super().acquire_many(endpoint, limits, n)
        self.most = max(self.most, self.in_flight(endpoint))
        return got

    def release_many(self, permits: Sequence[Permit]) -> None:
        self.calls["release_many"] += 1
        for p in permits:
            super().release(p)


def test_a_batch_takes_its_permits_in_one_call_and_gives_them_back_in_one(ob: Outbox) -> None:
    ob.limiter = CountingLimiter()
    ids = ob.events(20)
    out = ob.deliver(*ids)
    assert {o.status for o in out.values()} == {"sent"} and len(ob.channel.sent) == 20
    assert ob.limiter.calls == {"acquire": 0, "release": 0, "acquire_many": 1, "release_many": 1}
    assert ob.limiter.most == ob.settings.endpoint_max_concurrent  # 8 lanes for 20 deliveries
    assert ob.limiter.in_flight(f"sub{ob.row(ids[0]).subscription_id}") == 0


def test_a_full_endpoint_postpones_the_batch_without_an_attempt(ob: Outbox) -> None:
    ids = ob.events(3)
    sub_id = ob.row(ids[0]).subscription_id
    limits = EndpointLimits(max_concurrent=ob.settings.endpoint_max_concurrent)
    held = ob.limiter.acquire_many(f"sub{sub_id}", limits, limits.max_concurrent)  # another worker
    out = ob.deliver(*ids)
    assert {o.status for o in out.values()} == {"throttled"} and ob.channel.sent == []
    assert all(ob.row(i).attempts == 0 and ob.row(i).status == PENDING for i in ids)
    ob.limiter.release_many(held)
