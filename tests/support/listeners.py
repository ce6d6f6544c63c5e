"""Loopback listeners: a TCP recorder (proof a refused request opened no connection) and an SMTP mailbox."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

HTTP_OK = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
)


@dataclass
class Connection:
    peer: tuple[str, int]
    data: bytes = b""


@dataclass
class TcpRecorder:
    """Listens on a loopback address; records every connection and what it sent, then answers `reply`."""

    host: str = "127.0.0.1"
    reply: bytes = b""
    port: int = 0
    connections: list[Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((self.host, self.port))
        except OSError:
            self._sock.close()
            raise
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            record = Connection(peer=peer)
            self.connections.append(record)
            with conn:
                conn.settimeout(2)
                try:
                    record.data = conn.recv(65536)
                    if self.reply:
                        conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> TcpRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@contextlib.contextmanager
def smtp_server(host: str = "127.0.0.1") -> Iterator[tuple[Mailbox, int]]:
    """A plain SMTP server on a free port of a loopback address: (its mailbox, its port)."""
    with socket.socket() as s:
        s.bind((host, 0))
        port = int(s.getsockname()[1])
    box = Mailbox()
    ctl = Controller(box, hostname=host, port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()
