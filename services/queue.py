"""The Celery app: JSON only, acks_late, prefetch 1, routed by task-name prefix to one queue per service."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from queue import Empty
from time import monotonic
from typing import Any

import redis
from celery import Celery, signals
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

from services.scheduler import beat_schedule
from shared import logs
from shared.config import Settings, get_settings
from shared.heartbeats import Heartbeat
from shared.nlp import russian
from shared.plugins import load_plugins

log = logging.getLogger(__name__)

QUEUES = ("fetcher", "pipeline", "notifier")


class _AtomicChannel(filesystem.Channel):
    """The filesystem transport's channel, publishing each message whole.

    kombu creates the message file, then writes it; a worker polling the folder can move the empty file
    away in between, fail to decode it and lose the task. Here the message is written under a name no
    queue reads (a leading dot) and renamed into place, atomically. `_put` keeps the signature of kombu's
    filesystem channel, which renames the base's `message` argument (its stubs ignore that too).
    """

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]  # kombu's own too
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"  # time-ordered, as kombu names them
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class FilesystemTransport(filesystem.Transport):
    """kombu's filesystem transport with whole-message publishing (the embedded broker)."""

    Channel = _AtomicChannel


class _RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, closing cleanly when the broker is gone (a Redis restart, a cut connection).

    On a lost connection Celery's consumer collects the connection (closing its channels, then clearing the
    transport's connection info) and closes it again. kombu's close first drains the pending BRPOP reply and
    deletes the auto-delete fanout bindings (the worker's control queue); with Redis down either raises a
    connection error and leaves the channel open. The second close, after the info was cleared, restores
    the unacknowledged messages through a pool rebuilt from nothing: AttributeError (`conninfo.hostname` of
    None) instead of a connection error, so the worker stopped ("Unrecoverable error") rather than
    reconnecting; a late ack (acks_late) on such a channel raised the same. Here those two steps give way to
    a dead connection, so the close always completes, and a channel whose transport was collected answers
    with a connection error (a failed restore or ack is logged; the sweeps and idempotent tasks cover it).
    """

    # kombu's own attributes, missing from its stubs (celery-types)
    connection_errors: tuple[type[BaseException], ...]
    _closing: bool
    _in_poll: Any
    _brpop_read: Callable[[], bool]

    def close(self) -> None:
        if self._in_poll:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors as exc:  # nothing to drain from a dead connection
                log.debug("redis channel close: pending BRPOP not read: %r", exc)
        super().close()

    def queue_delete(self, queue: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().queue_delete(queue, *args, **kwargs)
        except self.connection_errors as exc:
            if not self._closing:
                raise
            # an auto-delete binding of a closing channel; gone anyway when Redis lost its data
            log.debug("redis channel close: binding of %s not deleted: %r", queue, exc)
            return None

    def _connparams(self, asynchronous: bool = False) -> Any:
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("this channel's broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # not in kombu's stubs


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with channels that close cleanly when the broker is gone (redis:// URLs)."""

    Channel = _RedisChannel


def broker_transport(url: str) -> str | None:
    """The kombu transport for a broker URL: ours for the filesystem and plain Redis, kombu's otherwise
    (rediss:// keeps kombu's own, whose SSL defaults come from the scheme)."""
    if url.startswith("filesystem"):
        return "services.queue:FilesystemTransport"
    if url.startswith("redis://"):
        return "services.queue:RedisTransport"
    return None


def broker_options(settings: Settings) -> dict[str, object]:
    """Transport options: the filesystem transport's folders in embedded mode, Redis visibility otherwise."""
    if settings.effective_broker_url.startswith("filesystem"):
        folder = (settings.data_dir / "broker").resolve()
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),  # kombu defaults to ./control in the cwd
            "store_processed": False,
            "polling_interval": 0.1,
        }
    # every countdown we use is under a minute; a long-running task is re-delivered only after an hour
    options: dict[str, object] = {"visibility_timeout": 3600}
    if settings.redis_key_prefix:
        options["global_keyprefix"] = settings.redis_key_prefix
    return options


def create_celery(settings: Settings) -> Celery:
    """A Celery app configured from settings."""
    app = Celery(
        "newswatch",
        broker=settings.effective_broker_url,
        include=["services.fetcher.tasks", "services.pipeline.tasks", "services.notifier.tasks"],
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # every task: SoftTimeLimitExceeded at the soft limit, its pool process killed at the hard one (a task
        # stopped so is acknowledged, not redelivered in a loop: the sweeps find its articles and deliveries)
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_time_limit=settings.task_time_limit_seconds,
        # SIGTERM: stop taking tasks and let running ones finish for this long (soft shutdown), then hand
        # the unfinished ones back to the broker (acks_late) for another worker
        worker_soft_shutdown_timeout=settings.worker_shutdown_grace_seconds,
        worker_enable_soft_shutdown_on_idle=True,
        worker_prefetch_multiplier=1,
        task_default_queue="pipeline",
        task_routes={f"{q}.*": {"queue": q} for q in QUEUES},
        broker_transport_options=broker_options(settings),
        broker_transport=broker_transport(settings.effective_broker_url),
        broker_connection_retry_on_startup=True,
        # a lost broker is retried for as long as it is away (Celery's default gives up after 100 attempts,
        # about 45 minutes, and the worker or beat exits); the sweeps find whatever was lost meanwhile
        broker_connection_max_retries=None,
        # a lost connection lets running tasks finish and commit (Celery 6 would cancel them): their messages
        # come back through kombu's restore or are lost with Redis and found by the sweeps, and a task claims
        # its rows (SKIP LOCKED) and returns early when the work is done, so none is done twice
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
        beat_schedule=beat_schedule(settings),
        worker_hijack_root_logger=False,
        enable_utc=True,
    )
    load_plugins(settings.plugins)  # every process builds this app: workers, beat, the API, the CLI
    return app


app = create_celery(get_settings())
_heartbeat: Heartbeat | None = None
_pool_processes = 1


@signals.worker_init.connect
def _note_pool_size(sender: Any = None, **_: Any) -> None:
    """Remember the worker's pool size (before the prefork children are forked: they inherit it)."""
    global _pool_processes
    concurrency = getattr(sender, "concurrency", None)
    _pool_processes = concurrency if isinstance(concurrency, int) and concurrency > 0 else 1


def pool_processes() -> int:
    """Processes of this worker's pool taking tasks side by side (1 outside a worker)."""
    return _pool_processes


def _json_logging(loglevel: Any = None, **_: Any) -> None:
    """NEWSWATCH_LOG_FORMAT=json: Celery leaves logging to us (connected only then), one object per line."""
    logs.configure("json", level=loglevel or logging.INFO)


if get_settings().log_format == "json":
    signals.setup_logging.connect(_json_logging, weak=False)


@signals.task_prerun.connect
def _task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Every record a task logs names the task (its ids are added by the task itself)."""
    logs.begin(task=getattr(task, "name", None), task_id=task_id)


@signals.task_postrun.connect
def _task_context_end(**_: Any) -> None:
    logs.end()


@signals.worker_ready.connect
def _log_degraded(**_: Any) -> None:
    """A worker without the Russian model says so at start (its Russian articles would get no entities)."""
    russian.log_if_missing()


@signals.worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    """The worker's heartbeat file: embedded /readyz reads it (named by the hostname's prefix, `<name>@host`);
    in distributed mode `newswatch healthcheck` does (named by the whole node name, one per container)."""
    global _heartbeat
    settings = get_settings()
    if _heartbeat is not None:
        return
    node = str(getattr(sender, "hostname", "worker"))
    name = node.split("@", 1)[0] if settings.mode == "embedded" else node
    _heartbeat = Heartbeat(settings.data_dir, name, every=settings.worker_heartbeat_seconds).start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()


def queue_depths(settings: Settings) -> dict[str, int | None]:
    """Messages waiting per queue (None when the broker cannot be asked)."""
    url = settings.effective_broker_url
    if url.startswith("filesystem"):
        folder = settings.data_dir / "broker" / "queue"
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        return {q: sum(1 for n in names if n.endswith(f".{q}.msg")) for q in QUEUES}
    if url.startswith(("redis://", "rediss://")):
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            try:
                # kombu keeps one list per queue (and per priority step, named queue + separator + step)
                prefix = settings.redis_key_prefix
                out: dict[str, int | None] = {}
                for q in QUEUES:
                    keys = [prefix + q, *client.scan_iter(match=f"{prefix}{q}\x06\x16*", count=100)]
                    out[q] = sum(int(client.llen(k)) for k in keys)
                return out
            finally:
                client.close()
        except redis.RedisError as exc:
            log.warning("queue depths: %s", exc)
    return dict.fromkeys(QUEUES)
