"""Per-endpoint limits on concurrent requests and on request rate, so one slow endpoint never starves others.

A worker asks for a permit before sending; when the endpoint is at its limit it gets none (and a hint of when
to come back) and moves on to other work, leaving the delivery due a moment later. Nobody waits on a busy
endpoint, so a hanging receiver holds at most `max_concurrent` workers for at most the request timeout.

Two implementations with one interface:
- `RedisLimiter`: shared by every worker process; one Lua script checks and takes both limits atomically.
  Concurrency slots are members of a sorted set scored by their expiry, so a worker killed mid-request frees
  its slot when the lease runs out; the rate limit is a token bucket timed by the Redis server clock.
- `LocalLimiter`: the same semantics inside one process, for the embedded mode.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT = 8
DEFAULT_LEASE_SECONDS = 30.0  # longer than the 15 s request timeout, so a live request never loses its slot


@dataclass(frozen=True)
class EndpointLimits:
    """Limits of one endpoint; 0 means unlimited."""

    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    rate_per_second: float = 0.0
    burst: int | None = None  # bucket size; defaults to max(1, ceil(rate))
    lease_seconds: float = DEFAULT_LEASE_SECONDS

    @property
    def bucket(self) -> int:
        """Token bucket capacity."""
        return self.burst or max(1, math.ceil(self.rate_per_second))


@dataclass(frozen=True)
class Permit:
    """The answer to an acquire: granted with a token to release, or refused with a hint in seconds."""

    endpoint: str
    granted: bool
    token: str = ""
    retry_in: float = 0.0
    reason: str = ""


class Limiter(Protocol):
    """Takes and gives back per-endpoint permits."""

    def acquire(self, endpoint: str, limits: EndpointLimits) -> Permit: ...

    def release(self, permit: Permit) -> None: ...


@contextlib.contextmanager
def permit(limiter: Limiter, endpoint: str, limits: EndpointLimits) -> Iterator[Permit]:
    """Acquire, yield the permit (check `.granted`), release on exit when it was granted."""
    p = limiter.acquire(endpoint, limits)
    try:
        yield p
    finally:
        if p.granted:
            limiter.release(p)


_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxc = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
if maxc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= maxc then
    return {0, 0, 1}
  end
end
if rate > 0 then
  local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
  local tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
  if tokens < 1 then
    return {0, math.ceil((1 - tokens) * 1000 / rate), 2}
  end
  redis.call('HSET', KEYS[2], 'tokens', tostring(tokens - 1), 'ts', now)
  redis.call('PEXPIRE', KEYS[2], math.ceil(burst * 1000 / rate) + 1000)
end
if maxc > 0 then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl + 1000)
end
return {1, 0, 0}
"""

_REASONS = {1: "concurrency", 2: "rate"}


def _slot_wait() -> float:
    """When to try a full endpoint again: a slot frees when any request ends, which nobody can predict;
    a short jittered wait keeps the endpoint busy without a herd of retries at the same instant."""
    return random.uniform(0.05, 0.15)


class RedisLimiter:
    """Limits shared across worker processes through Redis."""

    def __init__(self, client: Any, *, prefix: str = "newswatch:limit:") -> None:
        self.redis = client
        self.prefix = prefix
        self._script = client.register_script(_ACQUIRE_LUA)

    def _keys(self, endpoint: str) -> tuple[str, str]:
        return f"{self.prefix}{endpoint}:conc", f"{self.prefix}{endpoint}:rate"

    def acquire(self, endpoint: str, limits: EndpointLimits) -> Permit:
        """Take a concurrency slot and a rate token atomically, or neither."""
        token = uuid.uuid4().hex
        granted, wait_ms, why = self._script(
            keys=list(self._keys(endpoint)),
            args=[
                token,
                limits.max_concurrent,
                int(limits.lease_seconds * 1000),
                limits.rate_per_second,
                limits.bucket,
            ],
        )
        if int(granted):
            return Permit(endpoint, True, token=token)
        wait = int(wait_ms) / 1000 if int(why) == 2 else _slot_wait()
        return Permit(endpoint, False, retry_in=wait, reason=_REASONS.get(int(why), ""))

    def release(self, permit: Permit) -> None:
        """Give the concurrency slot back (the rate token stays spent)."""
        if permit.granted:
            self.redis.zrem(self._keys(permit.endpoint)[0], permit.token)

    def in_flight(self, endpoint: str) -> int:
        """Slots currently held (expired ones excluded)."""
        now_ms = int(time.time() * 1000)
        return int(self.redis.zcount(self._keys(endpoint)[0], now_ms, "+inf"))


@dataclass
class _State:
    leases: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    tokens: float | None = None
    ts: float = 0.0


class LocalLimiter:
    """The same limits inside one process (embedded mode)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}

    def acquire(self, endpoint: str, limits: EndpointLimits) -> Permit:
        """Take a concurrency slot and a rate token together, or neither."""
        now = self._clock()
        with self._lock:
            st = self._states.setdefault(endpoint, _State())
            if limits.max_concurrent > 0:
                for tok, exp in list(st.leases.items()):
                    if exp <= now:
                        del st.leases[tok]
                if len(st.leases) >= limits.max_concurrent:
                    return Permit(endpoint, False, retry_in=_slot_wait(), reason="concurrency")
            if limits.rate_per_second > 0:
                cap = float(limits.bucket)
                tokens = cap if st.tokens is None else st.tokens
                tokens = min(cap, tokens + max(0.0, now - st.ts) * limits.rate_per_second)
                if tokens < 1:
                    return Permit(
                        endpoint, False, retry_in=(1 - tokens) / limits.rate_per_second, reason="rate"
                    )
                st.tokens, st.ts = tokens - 1, now
            token = uuid.uuid4().hex
            if limits.max_concurrent > 0:
                st.leases[token] = now + limits.lease_seconds
            return Permit(endpoint, True, token=token)

    def release(self, permit: Permit) -> None:
        """Give the concurrency slot back."""
        if not permit.granted:
            return
        with self._lock:
            st = self._states.get(permit.endpoint)
            if st is not None:
                st.leases.pop(permit.token, None)

    def in_flight(self, endpoint: str) -> int:
        """Slots currently held."""
        now = self._clock()
        with self._lock:
            st = self._states.get(endpoint)
            return 0 if st is None else sum(1 for exp in st.leases.values() if exp > now)


class FailOpen:
    """A shared limiter that, when Redis is unreachable, lets the send go without the shared limit."""

    def __init__(self, inner: Limiter) -> None:
        self.inner = inner

    def acquire(self, endpoint: str, limits: EndpointLimits) -> Permit:
        """The inner limiter's answer, or a token-less grant when it fails."""
        try:
            return self.inner.acquire(endpoint, limits)
        except Exception as exc:  # redis errors of any kind: the database stays the source of truth
            log.warning("endpoint limiter unavailable (%s); sending without it", exc)
            return Permit(endpoint, True, token="")

    def release(self, permit: Permit) -> None:
        """Give the slot back; a failure only means the lease expires on its own."""
        if permit.token:
            try:
                self.inner.release(permit)
            except Exception as exc:
                log.warning("could not release endpoint slot: %s", exc)


class ProcessGate:
    """An in-process queue in front of the shared limiter, per endpoint.

    At most `max_concurrent` threads of this process ask the shared limiter for one endpoint at a time, and a
    waiting thread wakes the moment one of them finishes. Without it, the threads of one worker competed for
    the endpoint's slots through Redis and slept a jittered 50–150 ms after each refusal, which capped a
    single endpoint far below what it could take. Across processes the shared limiter still decides.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sems: dict[tuple[str, int], threading.BoundedSemaphore] = {}

    def enter(self, endpoint: str, limits: EndpointLimits, timeout: float) -> threading.Semaphore | None:
        """Wait up to `timeout` s for a place; returns what to pass to `leave`, or None when none came."""
        if limits.max_concurrent <= 0:
            return _UNLIMITED
        key = (endpoint, limits.max_concurrent)
        with self._lock:
            sem = self._sems.get(key)
            if sem is None:
                sem = self._sems[key] = threading.BoundedSemaphore(limits.max_concurrent)
        return sem if sem.acquire(timeout=max(0.0, timeout)) else None

    @staticmethod
    def leave(place: threading.Semaphore) -> None:
        """Free the place taken by `enter`."""
        if place is not _UNLIMITED:
            place.release()


_UNLIMITED = threading.Semaphore(1)  # a marker, never acquired


def take(
    limiter: Limiter, gate: ProcessGate, endpoint: str, limits: EndpointLimits, budget: float
) -> tuple[Permit, threading.Semaphore | None]:
    """A permit for one request, waiting at most `budget` s (in the gate, then for the shared limiter).

    Returns (permit, place): release the permit with the limiter and leave the place in the gate when the
    request ends. A refused permit comes with no place and a `retry_in` hint.
    """
    deadline = time.monotonic() + budget
    place = gate.enter(endpoint, limits, budget)
    if place is None:
        return Permit(endpoint, False, retry_in=_slot_wait(), reason="concurrency"), None
    permit = limiter.acquire(endpoint, limits)
    while not permit.granted and time.monotonic() + permit.retry_in < deadline:
        time.sleep(permit.retry_in)
        permit = limiter.acquire(endpoint, limits)
    if not permit.granted:
        gate.leave(place)
        return permit, None
    return permit, place
