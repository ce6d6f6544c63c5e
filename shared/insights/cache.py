"""A short-lived, per-process cache of the dashboard's aggregate answers (top and rising entities, rising
stories, story lists): what every analyst's page asks every few seconds, the same for all of them.

An answer is fresh for `ttl` seconds. After that the next request still gets it at once while one
background thread recomputes it (stale-while-revalidate), so no request waits for the aggregate under
steady traffic; an answer older than `STALE_FACTOR × ttl` (nobody asked for a while) is recomputed before
answering, and concurrent requests for the same missing key wait for one computation (single flight).
So an answer is at most about `ttl` seconds (plus one computation) behind the database.

Keys are built by the caller and must hold everything the answer depends on: the route, the caller's
owner filter (None for admin), and every parameter, with windows ending "now" left as None (a default
window is the one in force when the answer was computed). `ttl <= 0` turns the cache off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel import Session

T = TypeVar("T")
STALE_FACTOR = 3.0
MAX_ENTRIES = 512
log = logging.getLogger(__name__)


@dataclass
class _Entry:
    value: Any = None
    at: float = float("-inf")  # monotonic time of the computation
    refreshing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class AnswerCache:
    """Answers by key, fresh for a TTL, refreshed in the background while a stale one is served."""

    def __init__(self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock
        self.computations = 0  # for tests and curiosity

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._entries.clear()

    def _entry(self, key: Hashable) -> _Entry:
        with self._lock:
            e = self._entries.get(key)
            if e is None:
                e = self._entries[key] = _Entry()
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
            return e

    def get(
        self,
        key: Hashable,
        *,
        ttl: float,
        session: Session,
        compute: Callable[[Session], T],
        background: bool = True,
    ) -> T:
        """The answer for `key`: cached when fresh; computed with `session` when missing or too old; when
        merely stale, served as is while a thread recomputes it on a session of its own."""
        if ttl <= 0:
            return compute(session)
        e = self._entry(key)
        age = self._clock() - e.at
        if age < ttl:
            return e.value  # type: ignore[no-any-return]  # what compute gave for this key
        if age < ttl * STALE_FACTOR and background:
            stale = e.value
            with self._lock:
                start = not e.refreshing
                e.refreshing = True
            if start:
                threading.Thread(target=self._refresh, args=(e, session, compute), daemon=True).start()
            return stale  # type: ignore[no-any-return]  # what compute gave for this key
        with e.lock:  # one computation; the others wait for it and take its answer
            if self._clock() - e.at < ttl:
                return e.value  # type: ignore[no-any-return]  # what compute gave for this key
            value = compute(session)
            self._store(e, value)
            return value

    def _store(self, e: _Entry, value: Any) -> None:
        e.value = value
        e.at = self._clock()
        self.computations += 1

    def _refresh(self, e: _Entry, session: Session, compute: Callable[[Session], Any]) -> None:
        try:
            with e.lock, Session(session.get_bind(), expire_on_commit=False) as own:
                self._store(e, compute(own))
        except Exception:  # the stale answer stays; the next request past the TTL tries again
            log.exception("dashboard cache refresh failed")
        finally:
            with self._lock:
                e.refreshing = False


ANSWERS = AnswerCache()
