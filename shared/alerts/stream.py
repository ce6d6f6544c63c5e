"""Live fan-out of alert events for Server-Sent Events, resumable with Last-Event-ID.

- `RedisAlertStream` (distributed): one Lua script appends the event to a capped Redis stream and publishes
  it on a pub/sub channel, atomically, so pub/sub order equals stream order. A subscriber subscribes first,
  then reads the stream after its Last-Event-ID, then takes live messages, skipping ids it has already sent:
  no gap and no duplicate between the catch-up and the live part.
- `LocalAlertStream` (embedded): a ring buffer and a condition variable in one process.

Event ids look like Redis stream ids (`<ms>-<seq>`) in both, and compare as integer pairs.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_MAXLEN = 10_000
HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True)
class StreamEvent:
    """One event of the live stream."""

    id: str
    type: str
    data: Mapping[str, Any]
    watch_id: str | None = None

    def sse(self) -> str:
        """The event in text/event-stream form."""
        body = json.dumps(dict(self.data), ensure_ascii=False, separators=(",", ":"), default=str)
        return f"id: {self.id}\nevent: {self.type}\ndata: {body}\n\n"


def parse_id(value: str | None) -> tuple[int, int] | None:
    """`<ms>-<seq>` → (ms, seq); None when absent or malformed."""
    if not value:
        return None
    ms, _, seq = value.strip().partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return None


def _wanted(watch_ids: frozenset[str] | None, watch_id: str | None) -> bool:
    return watch_ids is None or (watch_id is not None and watch_id in watch_ids)


class Subscription(Protocol):
    """A subscriber's view: events after its cursor, filtered by watch."""

    def get(self, timeout: float) -> StreamEvent | None: ...

    def close(self) -> None: ...


LiveEvent = tuple[str, Mapping[str, Any], Any]  # (event type, data, watch id) to publish


class AlertStream(Protocol):
    """Publishes events and opens subscriptions."""

    def publish(self, event_type: str, data: Mapping[str, Any], *, watch_id: Any = None) -> str: ...

    def publish_many(self, events: Sequence[LiveEvent]) -> list[str]: ...

    def subscribe(
        self, *, last_event_id: str | None = None, watch_ids: Collection[Any] | None = None
    ) -> Subscription: ...


# --- Redis -------------------------------------------------------------------------------------------------

_PUBLISH_LUA = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2], 'd', ARGV[3], 'w', ARGV[4])
redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[3])
return id
"""


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisAlertStream:
    """Redis stream (for resumption) + pub/sub (for live fan-out)."""

    def __init__(self, client: Any, *, key: str = "newswatch:alerts:stream", maxlen: int = DEFAULT_MAXLEN):
        self.redis = client
        self.key = key
        self.channel = key + ":live"
        self.maxlen = maxlen
        self._script = client.register_script(_PUBLISH_LUA)

    def publish(self, event_type: str, data: Mapping[str, Any], *, watch_id: Any = None) -> str:
        """Append and broadcast; returns the event id."""
        return _s(self._script(keys=[self.key, self.channel], args=self._args(event_type, data, watch_id)))

    def publish_many(self, events: Sequence[LiveEvent]) -> list[str]:
        """Append and broadcast several events in order, in one round trip (a pipeline); their ids."""
        if not events:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for event_type, data, watch_id in events:
            self._script(
                keys=[self.key, self.channel], args=self._args(event_type, data, watch_id), client=pipe
            )
        return [_s(i) for i in pipe.execute()]

    def _args(self, event_type: str, data: Mapping[str, Any], watch_id: Any) -> list[Any]:
        body = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"), default=str)
        return [self.maxlen, event_type, body, "" if watch_id is None else str(watch_id)]

    def subscribe(
        self, *, last_event_id: str | None = None, watch_ids: Collection[Any] | None = None
    ) -> _RedisSubscription:
        """Open a subscription; with `last_event_id`, events after it come first."""
        return _RedisSubscription(self, last_event_id, watch_ids)


class _RedisSubscription:
    def __init__(
        self, stream: RedisAlertStream, last_event_id: str | None, watch_ids: Collection[Any] | None
    ) -> None:
        self._stream = stream
        self._watch_ids = None if watch_ids is None else frozenset(str(w) for w in watch_ids)
        self._pubsub = stream.redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(stream.channel)  # subscribe before reading the backlog: no gap
        self._backlog: deque[StreamEvent] = deque()
        self._last = parse_id(last_event_id) or (0, 0)
        if last_event_id is not None and parse_id(last_event_id) is not None:
            for raw_id, fields in stream.redis.xrange(stream.key, min=f"({last_event_id.strip()}", max="+"):
                f = {_s(k): _s(v) for k, v in fields.items()}
                self._backlog.append(
                    StreamEvent(_s(raw_id), f.get("t", ""), json.loads(f.get("d", "{}")), f.get("w") or None)
                )

    def get(self, timeout: float) -> StreamEvent | None:
        """The next wanted event, or None after `timeout` seconds."""
        while self._backlog:
            ev = self._backlog.popleft()
            self._last = parse_id(ev.id) or self._last
            if _wanted(self._watch_ids, ev.watch_id):
                return ev
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            msg = self._pubsub.get_message(timeout=left)
            if msg is None or msg.get("type") != "message":
                continue
            ev_id, ev_type, wid, body = _s(msg["data"]).split("\n", 3)
            pid = parse_id(ev_id)
            if pid is None or pid <= self._last:
                continue  # already sent from the backlog
            self._last = pid
            if _wanted(self._watch_ids, wid or None):
                return StreamEvent(ev_id, ev_type, json.loads(body), wid or None)

    def close(self) -> None:
        """Unsubscribe and free the connection."""
        try:
            self._pubsub.unsubscribe()
        finally:
            self._pubsub.close()


# --- In-process --------------------------------------------------------------------------------------------


class LocalAlertStream:
    """Ring buffer + condition variable, for the embedded mode (one process)."""

    def __init__(self, *, maxlen: int = DEFAULT_MAXLEN) -> None:
        self._buf: deque[StreamEvent] = deque(maxlen=maxlen)
        self._cond = threading.Condition()
        self._last = (0, 0)
        self._listeners: list[Callable[[StreamEvent], None]] = []

    def add_listener(self, fn: Callable[[StreamEvent], None]) -> None:
        """Call `fn` with every event published from now on (it must not block: it runs under the lock)."""
        with self._cond:
            self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[StreamEvent], None]) -> None:
        """Stop calling `fn`."""
        with self._cond:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def after(self, last_event_id: str) -> list[StreamEvent]:
        """Buffered events after an event id (the backlog of a resumed stream)."""
        with self._cond:
            return self._after(parse_id(last_event_id) or (0, 0))

    def _next_id(self) -> tuple[int, int]:
        ms = int(time.time() * 1000)
        self._last = (ms, 0) if ms > self._last[0] else (self._last[0], self._last[1] + 1)
        return self._last

    def publish_many(self, events: Sequence[LiveEvent]) -> list[str]:
        """publish() each event in order; their ids."""
        return [self.publish(t, data, watch_id=w) for t, data, w in events]

    def publish(self, event_type: str, data: Mapping[str, Any], *, watch_id: Any = None) -> str:
        """Append and wake subscribers; returns the event id."""
        with self._cond:
            ms, seq = self._next_id()
            wid = None if watch_id is None else str(watch_id)
            ev = StreamEvent(f"{ms}-{seq}", event_type, dict(data), wid)
            self._buf.append(ev)
            self._cond.notify_all()
            for fn in self._listeners:
                fn(ev)
            return ev.id

    def subscribe(
        self, *, last_event_id: str | None = None, watch_ids: Collection[Any] | None = None
    ) -> _LocalSubscription:
        """Open a subscription; with `last_event_id`, buffered events after it come first."""
        with self._cond:
            start = parse_id(last_event_id) or self._last
        return _LocalSubscription(self, start, watch_ids)

    def _after(self, cursor: tuple[int, int]) -> list[StreamEvent]:
        out = []
        for ev in reversed(self._buf):
            if (parse_id(ev.id) or (0, 0)) <= cursor:
                break
            out.append(ev)
        out.reverse()
        return out


class _LocalSubscription:
    def __init__(
        self, stream: LocalAlertStream, cursor: tuple[int, int], watch_ids: Collection[Any] | None
    ) -> None:
        self._stream = stream
        self._cursor = cursor
        self._watch_ids = None if watch_ids is None else frozenset(str(w) for w in watch_ids)
        self._closed = False

    def get(self, timeout: float) -> StreamEvent | None:
        """The next wanted event, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        cond = self._stream._cond
        with cond:
            while not self._closed:
                for ev in self._stream._after(self._cursor):
                    self._cursor = parse_id(ev.id) or self._cursor
                    if _wanted(self._watch_ids, ev.watch_id):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                cond.wait(left)
        return None

    def close(self) -> None:
        """Stop; a blocked get returns None."""
        with self._stream._cond:
            self._closed = True
            self._stream._cond.notify_all()
