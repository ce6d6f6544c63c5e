"""Live alert events to many SSE clients from one event loop: no thread and no Redis connection per stream.

One `Fanout` per API process: a single source feeds it (`redis_source`: one Redis pub/sub connection in
distributed mode; in embedded mode the local ring buffer's listener), and each open stream is an
`AsyncSubscription` with a bounded queue. A subscriber registers before it reads the backlog after its
Last-Event-ID, then skips live ids it has already sent: no gap and no duplicate between the two. A stream
that falls `queue_size` events behind is closed (its client reconnects with Last-Event-ID).

Streams are capped per API key (`StreamLimitError` past `max_per_key`), and `watch_keys` closes the
streams of a key that is no longer valid within one check period.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from typing import Any

from shared.alerts.stream import StreamEvent, parse_id
from shared.errors import TooMany

log = logging.getLogger(__name__)

Backlog = Callable[[str], Awaitable[list[StreamEvent]]]


class StreamLimitError(TooMany):
    """The key has as many open streams as it may (429 with Retry-After)."""


class AsyncSubscription:
    """One open stream: wanted events after its cursor, in order."""

    def __init__(
        self, fanout: Fanout, key_id: int, watch_ids: Collection[Any] | None, queue_size: int
    ) -> None:
        self.fanout = fanout
        self.key_id = key_id
        self.watch_ids = None if watch_ids is None else frozenset(str(w) for w in watch_ids)
        self.cursor = (0, 0)
        self.closed_reason: str | None = None
        self._queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=queue_size)
        self._backlog: list[StreamEvent] = []

    def wants(self, ev: StreamEvent) -> bool:
        """True for an event of a watch this stream follows (all watches when no filter)."""
        return self.watch_ids is None or (ev.watch_id is not None and ev.watch_id in self.watch_ids)

    def offer(self, ev: StreamEvent) -> None:
        """Queue a live event (loop thread); a stream too far behind is closed."""
        if self.closed_reason is not None:
            return
        try:
            self._queue.put_nowait(ev)
        except asyncio.QueueFull:
            self.close("too far behind: reconnect with Last-Event-ID")

    async def get(self, timeout: float) -> StreamEvent | None:
        """The next wanted event, or None after `timeout` seconds or once closed."""
        ev: StreamEvent | None
        while self._backlog:
            ev = self._backlog.pop(0)
            self.cursor = parse_id(ev.id) or self.cursor
            if self.wants(ev):
                return ev
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.closed_reason is None:
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                ev = await asyncio.wait_for(self._queue.get(), left)
            except TimeoutError:
                return None
            if ev is None:
                break
            pid = parse_id(ev.id)
            if pid is None or pid <= self.cursor:
                continue  # sent from the backlog already
            self.cursor = pid
            if self.wants(ev):
                return ev
        return None

    def close(self, reason: str = "closed") -> None:
        """End the stream: a waiting `get` returns None; the key's slot is freed."""
        if self.closed_reason is None:
            self.closed_reason = reason
            self.fanout.forget(self)
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)


class Fanout:
    """In-process fan-out of live events to async subscribers, capped per key."""

    def __init__(self, *, backlog: Backlog, max_per_key: int, queue_size: int = 1000) -> None:
        self.backlog = backlog
        self.max_per_key = max_per_key
        self.queue_size = queue_size
        self._subs: dict[int, set[AsyncSubscription]] = {}

    def publish(self, ev: StreamEvent) -> None:
        """Hand a live event to every open stream (call on the loop's thread)."""
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.offer(ev)

    async def subscribe(
        self, *, key_id: int, last_event_id: str | None = None, watch_ids: Collection[Any] | None = None
    ) -> AsyncSubscription:
        """Open a stream for a key; with `last_event_id`, events after it come first."""
        subs = self._subs.setdefault(key_id, set())
        if len(subs) >= self.max_per_key:
            raise StreamLimitError(
                f"this key has {len(subs)} open streams, the most it may have", retry_after=5
            )
        sub = AsyncSubscription(self, key_id, watch_ids, self.queue_size)
        subs.add(sub)  # registered before the backlog is read: nothing published meanwhile is lost
        start = parse_id(last_event_id)
        if start is not None and last_event_id is not None:
            sub.cursor = start
            try:
                sub._backlog = await self.backlog(last_event_id.strip())
            except BaseException:
                sub.close("backlog unavailable")
                raise
        return sub

    def forget(self, sub: AsyncSubscription) -> None:
        """Drop a closed subscription (its key's count goes down)."""
        subs = self._subs.get(sub.key_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.key_id]

    def count(self, key_id: int | None = None) -> int:
        """Open streams of one key, or of all keys."""
        if key_id is not None:
            return len(self._subs.get(key_id, ()))
        return sum(len(s) for s in self._subs.values())

    def key_ids(self) -> set[int]:
        """The keys with open streams."""
        return set(self._subs)

    def close_key(self, key_id: int, reason: str) -> int:
        """Close every stream of a key; returns how many."""
        subs = list(self._subs.get(key_id, ()))
        for sub in subs:
            sub.close(reason)
        return len(subs)


async def sse_events(sub: AsyncSubscription, *, heartbeat: float) -> AsyncIterator[str]:
    """SSE text chunks of a subscription, a comment line as heartbeat; ends when the stream is closed."""
    try:
        yield "retry: 2000\n\n"
        while sub.closed_reason is None:
            ev = await sub.get(timeout=heartbeat)
            if ev is not None:
                yield ev.sse()
            elif sub.closed_reason is None:
                yield ": keepalive\n\n"
        yield f": closed: {sub.closed_reason}\n\n"
    finally:
        sub.close()


async def watch_keys(
    fanout: Fanout, *, active: Callable[[set[int]], Awaitable[set[int]]], every: float
) -> None:
    """Forever: close the streams of keys that are no longer active (revoked or deleted)."""
    while True:
        await asyncio.sleep(every)
        ids = fanout.key_ids()
        if not ids:
            continue
        try:
            alive = await active(ids)
        except Exception as exc:  # the database may be down for a moment: check again next period
            log.warning("stream key check failed: %s", exc)
            continue
        for key_id in ids - alive:
            fanout.close_key(key_id, "the API key was revoked")


def decode_live(raw: str | bytes) -> StreamEvent | None:
    """A pub/sub message of RedisAlertStream (`id\\ntype\\nwatch\\nbody`) as an event; None if malformed."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    parts = text.split("\n", 3)
    if len(parts) != 4:
        return None
    ev_id, ev_type, wid, body = parts
    return StreamEvent(ev_id, ev_type, json.loads(body), wid or None)


def decode_entries(entries: Iterable[tuple[Any, dict[Any, Any]]]) -> list[StreamEvent]:
    """XRANGE entries of RedisAlertStream as events."""
    out = []
    for raw_id, fields in entries:
        f = {_s(k): _s(v) for k, v in fields.items()}
        out.append(StreamEvent(_s(raw_id), f.get("t", ""), json.loads(f.get("d", "{}")), f.get("w") or None))
    return out


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def redis_source(
    fanout: Fanout, client: Any, channel: str, *, ready: asyncio.Event | None = None, retry: float = 1.0
) -> None:
    """Forever: one pub/sub subscription (redis.asyncio) feeding the fan-out; reconnects after errors.

    `ready` is set once subscribed: events published from then on reach the streams.
    """
    while True:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            if ready is not None:
                ready.set()
            while True:
                msg = await pubsub.get_message(timeout=5.0)
                if msg is not None and msg.get("type") == "message":
                    ev = decode_live(msg["data"])
                    if ev is not None:
                        fanout.publish(ev)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis restarted or unreachable: streams wait, the source comes back
            log.warning("live stream source: %s (retrying)", exc)
            await asyncio.sleep(retry)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
