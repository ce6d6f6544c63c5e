"""Live alert events for `GET /api/v1/alerts/stream`: published after commit, fanned out per mode.

- Distributed: the worker that commits an alert publishes it to the Redis stream + pub/sub
  (`RedisAlertStream`) right after the commit; every API process subscribes per client.
- Embedded: the workers are other processes with no Redis between them, so the API process tails the alerts
  table (`EmbeddedTail`, one thread) and fans out in process (`LocalAlertStream`).

The live stream is a view, not the record: a publish lost to a Redis outage is not retried (the alert and its
deliveries are in the database, and `GET /api/v1/alerts` lists them).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from shared.alerts import store
from shared.alerts.facts import live_data
from shared.alerts.stream import AlertStream, LocalAlertStream, RedisAlertStream
from shared.config import Settings, get_settings
from shared.models.base import utcnow

log = logging.getLogger(__name__)

STREAM_KEY = "newswatch:alerts:stream"  # the Redis stream; its pub/sub channel is the key + ":live"
_PENDING = "newswatch_live_pending"
_HOOKED = "newswatch_live_hooked"
_LOCAL = LocalAlertStream()


def stream_key(settings: Settings) -> str:
    """The Redis stream's key, after NEWSWATCH_REDIS_KEY_PREFIX.

    Pub/sub channels are global to a Redis server (not per database), so deployments (or test runs) sharing
    one Redis keep their live events apart only through the prefix; without one the key is STREAM_KEY.
    """
    return settings.redis_key_prefix + STREAM_KEY


def live_channel(settings: Settings) -> str:
    """The pub/sub channel of the live stream (the stream's key + ":live")."""
    return stream_key(settings) + ":live"


@lru_cache(maxsize=4)
def _redis_stream(url: str, key: str) -> RedisAlertStream:
    import redis

    return RedisAlertStream(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5), key=key)


def stream_for(settings: Settings) -> AlertStream:
    """The live stream of this process's mode."""
    if settings.mode == "embedded":
        return _LOCAL
    return _redis_stream(settings.redis_url, stream_key(settings))


def after_commit(session: Session, event_type: str, data: dict[str, Any], *, watch_id: Any) -> None:
    """Publish this event once the session commits (dropped on rollback)."""
    session.info.setdefault(_PENDING, []).append((event_type, data, watch_id))
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        event.listen(session, "after_commit", _flush)
        event.listen(session, "after_soft_rollback", _drop)


def _drop(session: Session, _previous: Any = None) -> None:
    session.info.pop(_PENDING, None)


def _flush(session: Session) -> None:
    events = session.info.pop(_PENDING, None)
    if not events:
        return
    settings = get_settings()
    if settings.mode == "embedded":
        return  # the API process tails the table
    try:
        stream_for(settings).publish_many(events)  # one round trip for the whole commit
    except Exception as exc:  # Redis down: the live view misses it, the database has it
        log.warning("live stream publish failed: %s", exc)


class EmbeddedTail:
    """One thread per API process: polls alerts changed recently and publishes them to the local stream."""

    def __init__(self, *, session_factory: Any, stream: LocalAlertStream = _LOCAL, interval: float = 0.5):
        self.session_factory = session_factory
        self.stream = stream
        self.interval = interval
        self._seen: dict[tuple[int, int], None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start once; later calls do nothing."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alerts-tail", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()

    def _run(self) -> None:
        hwm = utcnow()
        while not self._stop.wait(self.interval):
            try:
                hwm = self.poll(since=hwm - timedelta(seconds=2)) or hwm
            except Exception as exc:  # keep tailing through a transient database error
                log.warning("alerts tail: %s", exc)

    def poll(self, *, since: Any) -> Any:
        """Publish alerts changed since a time that were not published yet; returns the newest change."""
        newest = None
        with self.session_factory() as session:
            for alert in store.alerts_changed_since(session=session, since=since):
                key = (alert.id or 0, alert.revision)
                newest = alert.updated_at
                if key in self._seen or alert.throttled:
                    continue
                self._seen[key] = None
                event_type, data = live_data(session=session, alert=alert)
                self.stream.publish(event_type, data, watch_id=alert.watch_id)
        while len(self._seen) > 10_000:
            self._seen.pop(next(iter(self._seen)))
        return newest
