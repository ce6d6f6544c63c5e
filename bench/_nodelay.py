"""uvicorn's h11 protocol with TCP_NODELAY on every connection, for the benchmarks' multi-worker servers.

With `--workers N` uvicorn's workers serve a listening socket they received from the parent, whose `proto`
reads 0, so asyncio skips the TCP_NODELAY it sets on ordinary TCP sockets. A response written in two sends
(head, then body) then waits for the client's delayed ACK: ~40 ms on every back-to-back request over a
kept-alive connection (seen as a 44 ms `/healthz` for one client with 2 workers, 2 ms with 1). The product's
`newswatch api` runs one worker and is not affected; the benchmarks pass `--http bench._nodelay:H11NoDelay`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class H11NoDelay(H11Protocol):
    """H11Protocol that turns Nagle's algorithm off on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
