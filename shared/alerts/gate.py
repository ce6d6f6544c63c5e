"""The in-process side of the endpoint limits: a gate per endpoint in front of the shared limiter, and
taking a batch's permits through both.

`ProcessGate`: at most `max_concurrent` threads of this process ask the shared limiter for one endpoint at a
time, and a waiting thread wakes the moment one of them finishes. `take_many`: up to n permits for one
endpoint, places in the gate first, then one shared-limiter call (waiting at most a budget for the first).
"""

from __future__ import annotations

import threading
import time

from shared.alerts.limits import EndpointLimits, Limiter, Permit, slot_wait


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

    def enter_many(
        self, endpoint: str, limits: EndpointLimits, n: int, timeout: float
    ) -> list[threading.Semaphore]:
        """Up to n places: the first waits up to `timeout` s, the others only if free now; [] when none."""
        first = self.enter(endpoint, limits, timeout)
        if first is None:
            return []
        if first is _UNLIMITED:
            return [first] * max(1, n)
        places = [first]
        while len(places) < n and first.acquire(blocking=False):
            places.append(first)
        return places

    @staticmethod
    def leave(place: threading.Semaphore) -> None:
        """Free the place taken by `enter`."""
        if place is not _UNLIMITED:
            place.release()


_UNLIMITED = threading.Semaphore(1)  # a marker, never acquired


def take_many(
    limiter: Limiter, gate: ProcessGate, endpoint: str, limits: EndpointLimits, n: int, budget: float
) -> tuple[list[Permit], list[threading.Semaphore]]:
    """Permits for up to n requests to one endpoint in one shared-limiter call (waiting at most `budget` s
    for the first, as `take` does); returns (granted permits, their places), or ([refused], []).

    Release them with `limiter.release_many` and leave each place when the requests are done."""
    deadline = time.monotonic() + budget
    places = gate.enter_many(endpoint, limits, n, budget)
    if not places:
        return [Permit(endpoint, False, retry_in=slot_wait(), reason="concurrency")], []
    permits = limiter.acquire_many(endpoint, limits, len(places))
    while not permits[0].granted and time.monotonic() + permits[0].retry_in < deadline:
        time.sleep(permits[0].retry_in)
        permits = limiter.acquire_many(endpoint, limits, len(places))
    granted = [p for p in permits if p.granted]
    for place in places[len(granted) :]:
        gate.leave(place)
    if not granted:
        return permits[:1], []
    return granted, places[: len(granted)]
