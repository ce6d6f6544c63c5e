"""Real HTTP servers on 127.0.0.1 for tests: a scriptable server (feeds, pages) and a webhook receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Response = tuple[int, dict[str, str], bytes]
Handler = Callable[["Request"], Response]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.time)


def read_body(handler: BaseHTTPRequestHandler) -> bytes | None:
    """The request's whole body, or None (and the connection closed) when the client went away before sending
    all of it: a sender killed mid-request (kill -9 during a burst) leaves a body cut short, which must not
    reach a route as a request (a webhook receiver would report a bad signature for a half-sent body)."""
    length = int(handler.headers.get("content-length") or 0)
    body = handler.rfile.read(length) if length else b""
    if len(body) < length:
        handler.close_connection = True
        return None
    return body


class LocalServer:
    """A threaded HTTP server on 127.0.0.1; `routes[path] = handler or (status, headers, body)`."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler | Response] = {}
        self.requests: list[Request] = []
        self.default: Handler | Response = (404, {"content-type": "text/plain"}, b"not found")
        self._lock = threading.Lock()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = read_body(self)
                if body is None:
                    return  # the client died mid-request: no request was made (a real server drops it too)
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with outer._lock:
                    outer.requests.append(req)
                route = outer.routes.get(self.path.split("?")[0], outer.default)
                try:
                    status, headers, payload = route(req) if callable(route) else route
                except Exception as exc:  # a handler bug should show as a 500, not hang the client
                    status, headers, payload = 500, {}, repr(exc).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = do_PUT = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def received(self, path: str | None = None, method: str | None = None) -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (path is None or r.path == path) and (method is None or r.method == method)
            ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0, interval: float = 0.1) -> bool:
        """Poll until the predicate holds or the timeout passes (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return predicate()

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document."""
    from xml.sax.saxutils import escape

    parts = [
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{escape(title)}</title>"
    ]
    parts.append("<link>http://127.0.0.1/</link><description>test</description>")
    for it in items:
        parts.append("<item>")
        for key in ("title", "link", "guid", "description", "pubDate"):
            if key in it:
                parts.append(f"<{key}>{escape(it[key])}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()
