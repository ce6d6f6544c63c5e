"""Per-endpoint limits on concurrent requests and on request rate, so one slow endpoint never starves others.

A worker asks for a permit before sending; when the endpoint is at its limit it gets none (and a hint of when
to come back) and moves on to other work, leaving the delivery due a moment later. Nobody waits on a busy
endpoint, so a hanging receiver holds at most `max_concurrent` workers for at most the request timeout.

Two implementations with one interface:
- `RedisLimiter`: shared by every worker process; one Lua script checks and takes both limits atomically.
  Concurrency slots are members of a sorted set scored by their expiry, so a worker killed mid-request frees
  its slot when the lease runs out; the rate limit is a token bucket timed by the Redis server clock.
- `LocalLimiter`: the same semantics inside one process, for the embedded mode.

Both also take permits for a batch (`acquire_many`: up to n slots and n rate tokens in one step, as many as
the limits allow now, at least one or none; `release_many`), so a notifier task sending 50 deliveries to one
endpoint makes one Redis call to take its slots and one to give them back, not two per delivery. Each slot
taken that way is one request in flight at a time, so the concurrency limit means the same; with a rate
limit, the batch's tokens pay for the requests that start at once and every later request takes its own.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
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

    def acquire_many(self, endpoint: str, limits: EndpointLimits, n: int) -> list[Permit]:
        """Up to n granted permits, as many as the limits allow now; when none, one refused permit."""
        ...

    def release_many(self, permits: Sequence[Permit]) -> None:
        """Give back every granted permit of a batch."""
        ...


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

# The batch form: up to ARGV[6] slots (members ARGV[1]..":"..i) and as many tokens, all or what is free now.
_ACQUIRE_MANY_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxc = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
if maxc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  local free = maxc - redis.call('ZCARD', KEYS[1])
  if free < 1 then
    return {0, 0, 1}
  end
  n = math.min(n, free)
end
local tokens = 0
if rate > 0 then
  local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
  tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
  if tokens < 1 then
    return {0, math.ceil((1 - tokens) * 1000 / rate), 2}
  end
  n = math.min(n, math.floor(tokens))
  redis.call('HSET', KEYS[2], 'tokens', tostring(tokens - n), 'ts', now)
  redis.call('PEXPIRE', KEYS[2], math.ceil(burst * 1000 / rate) + 1000)
end
if maxc > 0 then
  for i = 1, n do
    redis.call('ZADD', KEYS[1], now + ttl, ARGV[1] .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], ttl + 1000)
end
return {n, 0, 0}
"""

_REASONS = {1: "concurrency", 2: "rate"}


def slot_wait() -> float:
    """When to try a full endpoint again: a slot frees when any request ends, which nobody can predict;
    a short jittered wait keeps the endpoint busy without a herd of retries at the same instant."""
    return random.uniform(0.05, 0.15)


class RedisLimiter:
    """Limits shared across worker processes through Redis."""

    def __init__(self, client: Any, *, prefix: str = "newswatch:limit:") -> None:
        self.redis = client
        self.prefix = prefix
        self._script = client.register_script(_ACQUIRE_LUA)
        self._many = client.register_script(_ACQUIRE_MANY_LUA)

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
        wait = int(wait_ms) / 1000 if int(why) == 2 else slot_wait()
        return Permit(endpoint, False, retry_in=wait, reason=_REASONS.get(int(why), ""))

    def release(self, permit: Permit) -> None:
        """Give the concurrency slot back (the rate token stays spent)."""
        if permit.granted:
            self.redis.zrem(self._keys(permit.endpoint)[0], permit.token)

    def acquire_many(self, endpoint: str, limits: EndpointLimits, n: int) -> list[Permit]:
        """Up to n slots and tokens in one script call (atomic); one refused permit when none is free."""
        base = uuid.uuid4().hex
        granted, wait_ms, why = self._many(
            keys=list(self._keys(endpoint)),
            args=[
                base,
                limits.max_concurrent,
                int(limits.lease_seconds * 1000),
                limits.rate_per_second,
                limits.bucket,
                max(1, n),
            ],
        )
        k = int(granted)
        if k:
            return [Permit(endpoint, True, token=f"{base}:{i}") for i in range(1, k + 1)]
        wait = int(wait_ms) / 1000 if int(why) == 2 else slot_wait()
        return [Permit(endpoint, False, retry_in=wait, reason=_REASONS.get(int(why), ""))]

    def release_many(self, permits: Sequence[Permit]) -> None:
        """Give back the slots of a batch, one ZREM per endpoint."""
        by_endpoint: dict[str, list[str]] = {}
        for p in permits:
            if p.granted and p.token:
                by_endpoint.setdefault(p.endpoint, []).append(p.token)
        for endpoint, tokens in by_endpoint.items():
            self.redis.zrem(self._keys(endpoint)[0], *tokens)

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
                    return Permit(endpoint, False, retry_in=slot_wait(), reason="concurrency")
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

    def acquire_many(self, endpoint: str, limits: EndpointLimits, n: int) -> list[Permit]:
        """Up to n slots and tokens together (what is free now); one refused permit when none is."""
        now = self._clock()
        with self._lock:
            st = self._states.setdefault(endpoint, _State())
            n = max(1, n)
            if limits.max_concurrent > 0:
                for tok, exp in list(st.leases.items()):
                    if exp <= now:
                        del st.leases[tok]
                free = limits.max_concurrent - len(st.leases)
                if free < 1:
                    return [Permit(endpoint, False, retry_in=slot_wait(), reason="concurrency")]
                n = min(n, free)
            if limits.rate_per_second > 0:
                cap = float(limits.bucket)
                tokens = cap if st.tokens is None else st.tokens
                tokens = min(cap, tokens + max(0.0, now - st.ts) * limits.rate_per_second)
                if tokens < 1:
                    wait = (1 - tokens) / limits.rate_per_second
                    return [Permit(endpoint, False, retry_in=wait, reason="rate")]
                n = min(n, math.floor(tokens))
                st.tokens, st.ts = tokens - n, now
            out = []
            for _ in range(n):
                token = uuid.uuid4().hex
                if limits.max_concurrent > 0:
                    st.leases[token] = now + limits.lease_seconds
                out.append(Permit(endpoint, True, token=token))
            return out

    def release_many(self, permits: Sequence[Permit]) -> None:
        """Give back every slot of a batch."""
        for p in permits:
            self.release(p)

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

    def acquire_many(self, endpoint: str, limits: EndpointLimits, n: int) -> list[Permit]:
        """The inner limiter's answer, or n token-less grants when it fails."""
        try:
            return self.inner.acquire_many(endpoint, limits, n)
        except Exception as exc:
            log.warning("endpoint limiter unavailable (%s); sending without it", exc)
            return [Permit(endpoint, True, token="") for _ in range(max(1, n))]

    def release_many(self, permits: Sequence[Permit]) -> None:
        """Give the slots back; a failure only means the leases expire on their own."""
        held = [p for p in permits if p.token]
        if held:
            try:
                self.inner.release_many(held)
            except Exception as exc:
                log.warning("could not release endpoint slots: %s", exc)
