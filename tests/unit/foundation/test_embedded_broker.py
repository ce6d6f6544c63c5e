"""The embedded broker (kombu's filesystem transport) publishes whole messages: none is read half written."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

from services.queue import FilesystemTransport, RedisTransport, broker_options, create_celery
from shared.config import Settings


def _options(folder: Path) -> dict[str, Any]:
    return broker_options(Settings(mode="embedded", data_dir=folder))


def test_a_message_appears_only_once_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = _options(tmp_path)
    with Connection("filesystem://", transport=FilesystemTransport, transport_options=options) as conn:
        channel: Any = conn.channel()
        real_replace = os.replace
        checked = []

        def replace(src: str, dst: str) -> None:
            # The instant before it is published, a polling worker finds nothing (not an empty file).
            with pytest.raises(Empty):
                channel._get("pipeline")
            checked.append(dst)
            real_replace(src, dst)

        monkeypatch.setattr("services.queue.os.replace", replace)
        channel._put("pipeline", {"body": "x" * 10_000})
        assert checked and channel._get("pipeline") == {"body": "x" * 10_000}
        with pytest.raises(Empty):
            channel._get("pipeline")


def test_a_polling_reader_gets_every_message_of_a_concurrent_writer(tmp_path: Path) -> None:
    options = _options(tmp_path)
    n = 300
    got: list[Any] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        with Connection("filesystem://", transport=FilesystemTransport, transport_options=options) as conn:
            channel: Any = conn.channel()
            while len(got) < n and not done.wait(0):
                try:
                    got.append(channel._get("pipeline")["i"])
                except Empty:
                    continue
                except BaseException as exc:  # a half-written message: recorded, the test fails
                    errors.append(exc)
                    return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with Connection("filesystem://", transport=FilesystemTransport, transport_options=options) as conn:
            channel: Any = conn.channel()
            for i in range(n):
                channel._put("pipeline", {"i": i, "pad": "y" * 50_000})
        reader.join(timeout=60)
    finally:
        done.set()
        reader.join(timeout=5)
    assert not errors and sorted(got) == list(range(n))


def test_the_embedded_app_uses_it_and_the_distributed_one_redis(tmp_path: Path) -> None:
    embedded = Settings(mode="embedded", data_dir=tmp_path)
    app = create_celery(embedded)
    assert app.conf.broker_transport == "services.queue:FilesystemTransport"
    assert broker_options(embedded)["data_folder_in"] == str((tmp_path / "broker" / "queue").resolve())
    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, FilesystemTransport)
    distributed = create_celery(Settings(mode="distributed", redis_url="redis://127.0.0.1:6379/0"))
    # kombu's Redis transport with our channel (tests/integration/test_faults_broker_channel.py says why)
    assert distributed.conf.broker_transport == "services.queue:RedisTransport"
    with distributed.connection_for_write() as conn:  # not connected: only the transport is built
        assert isinstance(conn.transport, RedisTransport)
