"""Per-host politeness: at most N requests in flight to one host and a minimum gap between their starts.

Two implementations of one small interface:
- `RedisHostLimiter`: shared by every worker process. One Lua script checks and takes a slot atomically
  using Redis's own clock; slots are members of a sorted set scored by their expiry, so a worker that dies
  holding a slot frees it after `slot_ttl` seconds.
- `MemoryHostLimiter`: the same rules inside one process (the embedded mode runs one process).

`acquire` waits at most `wait` seconds and returns None when the host stays busy, so the caller can put the
feed back on the schedule instead of blocking a worker.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

__all__ = ["HostLimiter", "MemoryHostLimiter", "RedisHostLimiter", "host_slot"]


class HostLimiter(Protocol):
    """Hands out per-host request slots."""

    def acquire(self, host: str, *, wait: float = 0.0) -> str | None:
        """A slot token, or None when no slot was free within `wait` seconds."""
        ...

    def release(self, host: str, token: str) -> None:
        """Give a slot back (idempotent)."""
        ...


@contextlib.contextmanager
def host_slot(limiter: HostLimiter, host: str, *, wait: float = 0.0) -> Iterator[str | None]:
    """Context manager around acquire/release; yields None when no slot could be had."""
    token = limiter.acquire(host, wait=wait)
    try:
        yield token
    finally:
        if token is not None:
            limiter.release(host, token)


# KEYS[1] slots zset, KEYS[2] next-start key. ARGV: token, max_concurrent, min_gap_ms, slot_ttl_ms.
# Returns 0 when the slot is taken, else the milliseconds to wait before trying again.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local gap = tonumber(ARGV[3])
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then
  return nxt - now
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local until_free = tonumber(first[2]) - now
  if until_free > 250 then until_free = 250 end
  if until_free < 1 then until_free = 1 end
  return until_free
end
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
if gap > 0 then
  redis.call('SET', KEYS[2], now + gap, 'PX', gap + 1000)
end
return 0
"""


class RedisHostLimiter:
    """Host slots shared by all workers through Redis (see module docstring)."""

    def __init__(
        self,
        redis: Any,
        *,
        max_concurrent: int = 2,
        min_gap: float = 1.0,
        slot_ttl: float = 120.0,
        prefix: str = "newswatch:host",
    ) -> None:
        self.redis = redis
        self.max_concurrent = max_concurrent
        self.min_gap = min_gap
        self.slot_ttl = slot_ttl
        self.prefix = prefix
        self._script = redis.register_script(_ACQUIRE_LUA)

    def _keys(self, host: str) -> list[str]:
        host = host.lower()
        return [f"{self.prefix}:{host}:slots", f"{self.prefix}:{host}:next"]

    def acquire(self, host: str, *, wait: float = 0.0) -> str | None:
        """Take a slot, retrying for up to `wait` seconds."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        args = [token, self.max_concurrent, int(self.min_gap * 1000), int(self.slot_ttl * 1000)]
        while True:
            delay_ms = int(self._script(keys=self._keys(host), args=args))
            if delay_ms <= 0:
                return token
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(delay_ms / 1000.0, left))

    def release(self, host: str, token: str) -> None:
        """Free the slot now instead of waiting for its expiry."""
        self.redis.zrem(self._keys(host)[0], token)


class MemoryHostLimiter:
    """Host slots inside one process (embedded mode, tests)."""

    def __init__(self, *, max_concurrent: int = 2, min_gap: float = 1.0, slot_ttl: float = 120.0) -> None:
        self.max_concurrent = max_concurrent
        self.min_gap = min_gap
        self.slot_ttl = slot_ttl
        self._cond = threading.Condition()
        self._slots: dict[str, dict[str, float]] = {}
        self._next: dict[str, float] = {}

    def _try(self, host: str, token: str, now: float) -> float:
        slots = self._slots.setdefault(host, {})
        for t, expiry in list(slots.items()):
            if expiry <= now:
                del slots[t]
        nxt = self._next.get(host, 0.0)
        if nxt > now:
            return nxt - now
        if len(slots) >= self.max_concurrent:
            return min(0.25, max(0.001, min(slots.values()) - now))
        slots[token] = now + self.slot_ttl
        self._next[host] = now + self.min_gap
        return 0.0

    def acquire(self, host: str, *, wait: float = 0.0) -> str | None:
        """Take a slot, waiting up to `wait` seconds."""
        host = host.lower()
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                now = time.monotonic()
                delay = self._try(host, token, now)
                if delay <= 0:
                    return token
                left = deadline - now
                if left <= 0:
                    return None
                self._cond.wait(min(delay, left))

    def release(self, host: str, token: str) -> None:
        """Free the slot and wake waiters."""
        with self._cond:
            self._slots.get(host.lower(), {}).pop(token, None)
            self._cond.notify_all()
