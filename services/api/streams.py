"""The API process's live streams: one fan-out on the event loop, its source, and the key check.

Started on the first `GET /api/v1/alerts/stream` and stopped with the app. Distributed: one redis.asyncio
pub/sub connection feeds every stream, and a resumed stream reads its backlog from the Redis stream.
Embedded: the alerts-table tail (one thread for the process) publishes to the local ring buffer, whose
listener hands each event to the loop. Either way an open stream holds no thread and no connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis

from shared.alerts import live
from shared.alerts.fanout import Fanout, decode_entries, redis_source, watch_keys
from shared.alerts.stream import LocalAlertStream, StreamEvent
from shared.config import Settings
from shared.db import session_scope
from shared.models.base import utcnow
from shared.security.accounts import revoked_since

READY_SECONDS = 5.0  # how long the first stream waits for the pub/sub subscription


class Streams:
    """The live-stream machinery of one API process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fanout = Fanout(backlog=self._backlog, max_per_key=settings.stream_max_per_key)
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: Any = None
        self._local: LocalAlertStream | None = None
        self._listener: Any = None
        self._tail: live.EmbeddedTail | None = None
        self._lock = asyncio.Lock()
        # A key revoked before its stream opened could not open it: the revocations since the machinery
        # started (a minute of margin for clocks) are all the check needs, in one query.
        self._since = utcnow() - timedelta(minutes=1)

    @property
    def embedded(self) -> bool:
        """True in embedded mode (no Redis: the local ring buffer is the source)."""
        return self.settings.mode == "embedded"

    async def ensure_started(self) -> None:
        """Start the source and the key check once, on the running loop."""
        async with self._lock:
            if self._tasks:
                return
            loop = asyncio.get_running_loop()
            if self.embedded:
                local = live.stream_for(self.settings)
                assert isinstance(local, LocalAlertStream)
                self._local = local

                def listener(ev: StreamEvent) -> None:
                    loop.call_soon_threadsafe(self.fanout.publish, ev)

                self._listener = listener
                local.add_listener(listener)
                self._tail = live.EmbeddedTail(session_factory=session_scope, stream=local)
                self._tail.start()
            else:
                self._redis = aioredis.Redis.from_url(
                    self.settings.redis_url, socket_connect_timeout=5, socket_timeout=None
                )
                channel = live.live_channel(self.settings)
                ready = asyncio.Event()
                self._tasks.append(
                    asyncio.create_task(redis_source(self.fanout, self._redis, channel, ready=ready))
                )
                with contextlib.suppress(TimeoutError):  # Redis down: streams open, events come later
                    await asyncio.wait_for(ready.wait(), READY_SECONDS)
            self._tasks.append(
                asyncio.create_task(
                    watch_keys(self.fanout, active=self._active, every=self.settings.stream_key_check_seconds)
                )
            )

    async def _backlog(self, last_event_id: str) -> list[StreamEvent]:
        if self._local is not None:
            return self._local.after(last_event_id)
        entries = await self._redis.xrange(live.stream_key(self.settings), min=f"({last_event_id}", max="+")
        return decode_entries(entries)

    async def _active(self, ids: set[int]) -> set[int]:
        def check() -> set[int]:
            with session_scope() as session:
                return ids - revoked_since(session=session, since=self._since)

        return await asyncio.to_thread(check)  # one short query per period for all streams

    async def stop(self) -> None:
        """Close every stream and stop the background work."""
        for key_id in self.fanout.key_ids():
            self.fanout.close_key(key_id, "the server is stopping")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._local is not None and self._listener is not None:
            self._local.remove_listener(self._listener)
        if self._tail is not None:
            self._tail.stop()
        if self._redis is not None:
            await self._redis.aclose()
