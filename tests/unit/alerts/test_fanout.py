"""The async fan-out behind GET /alerts/stream: order, resume, filters, the per-key cap, closing."""

from __future__ import annotations

import asyncio

import pytest

from shared.alerts.fanout import Fanout, StreamLimitError, sse_events, watch_keys
from shared.alerts.stream import LocalAlertStream, StreamEvent


def _fanout(local: LocalAlertStream, max_per_key: int = 3) -> Fanout:
    async def backlog(after: str) -> list[StreamEvent]:
        return local.after(after)

    return Fanout(backlog=backlog, max_per_key=max_per_key, queue_size=4)


def test_live_events_resume_and_filters() -> None:
    async def run() -> None:
        local = LocalAlertStream()
        fanout = _fanout(local)
        local.add_listener(fanout.publish)
        ids = [local.publish("alert.created", {"n": i}, watch_id=i % 2) for i in range(3)]
        resumed = await fanout.subscribe(key_id=1, last_event_id=ids[0])
        only_odd = await fanout.subscribe(key_id=1, watch_ids=[1])
        later = local.publish("alert.created", {"n": 3}, watch_id=1)
        got = [await resumed.get(timeout=1) for _ in range(3)]
        assert [e.id for e in got if e] == [*ids[1:], later]  # backlog, then live, nothing twice
        odd = await only_odd.get(timeout=1)
        assert odd is not None and odd.id == later
        assert await resumed.get(timeout=0.01) is None

    asyncio.run(run())


def test_cap_per_key_and_a_closed_stream_frees_its_slot() -> None:
    async def run() -> None:
        fanout = _fanout(LocalAlertStream(), max_per_key=2)
        a = await fanout.subscribe(key_id=7)
        await fanout.subscribe(key_id=7)
        with pytest.raises(StreamLimitError):
            await fanout.subscribe(key_id=7)
        await fanout.subscribe(key_id=8)  # another key has its own allowance
        a.close()
        assert fanout.count(7) == 1
        await fanout.subscribe(key_id=7)

    asyncio.run(run())


def test_a_stream_too_far_behind_is_closed() -> None:
    async def run() -> None:
        local = LocalAlertStream()
        fanout = _fanout(local)
        local.add_listener(fanout.publish)
        sub = await fanout.subscribe(key_id=1)
        for i in range(10):  # the queue holds 4
            local.publish("alert.created", {"n": i})
        assert sub.closed_reason is not None and "behind" in sub.closed_reason

    asyncio.run(run())


def test_sse_text_heartbeat_and_revocation() -> None:
    async def run() -> None:
        local = LocalAlertStream()
        fanout = _fanout(local)
        local.add_listener(fanout.publish)
        sub = await fanout.subscribe(key_id=5)
        chunks = sse_events(sub, heartbeat=0.01)
        assert (await chunks.__anext__()).startswith("retry:")
        eid = local.publish("alert.created", {"a": 1})
        assert await chunks.__anext__() == f'id: {eid}\nevent: alert.created\ndata: {{"a":1}}\n\n'
        assert await chunks.__anext__() == ": keepalive\n\n"

        async def active(ids: set[int]) -> set[int]:
            return set()  # every key revoked

        checker = asyncio.create_task(watch_keys(fanout, active=active, every=0.01))
        rest = [c async for c in chunks]
        checker.cancel()
        assert rest[-1] == ": closed: the API key was revoked\n\n"
        assert fanout.count() == 0

    asyncio.run(run())
