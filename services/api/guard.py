"""Request guard (ASGI middleware, outermost): what no route should have to think about.

- The body is capped at NEWSWATCH_MAX_REQUEST_BYTES while it streams in: a Content-Length over it is refused
  before a byte is read, and a body that grows past it (chunked, or lying about its length) is cut off at
  the limit. Either way 413, and never more than the limit held in memory.
- A JSON body holding a lone UTF-16 surrogate (`"\\ud800"`) is refused with 422: Python decodes it, but no
  database can store it, so it would fail later, somewhere worse.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import error_response
from shared.errors import TooLarge
from shared.schemas import FieldError, excerpt

# a surrogate escape, or the UTF-8-like bytes of one (json.loads decodes those with surrogatepass)
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]")
_LONE = re.compile("[\ud800-\udfff]")


class BodyTooLarge(TooLarge):
    """The body grew past the limit while it was read."""


def lone_surrogate_at(value: Any) -> list[str | int] | None:
    """The path to the first string (or key) holding a lone surrogate in decoded JSON, or None."""
    stack: list[tuple[list[str | int], Any]] = [([], value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _LONE.search(item):
                return path
        elif isinstance(item, dict):
            for k, v in item.items():
                if _LONE.search(k):
                    return [*path, excerpt(k, 60)]
                stack.append(([*path, k], v))
        elif isinstance(item, list):
            stack.extend(([*path, i], v) for i, v in enumerate(item))
    return None


class RequestGuard:
    """Caps request bodies (413) and refuses JSON bodies with lone surrogates (422)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def capped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(f"the request body is over {self.max_bytes} bytes")
            return message

        content_type = headers.get(b"content-type", b"")
        if content_type and b"json" not in content_type:  # FastAPI reads a body without a type as JSON
            await self.app(scope, capped, send)  # a route reading past the limit gets BodyTooLarge → 413
            return
        # JSON routes read the whole body anyway: read it here (capped), look at it once, hand it on
        chunks: list[bytes] = []
        try:
            while True:
                message = await capped()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except BodyTooLarge:
            await self._too_large(scope, receive, send)
            return
        body = b"".join(chunks)
        where = self._surrogate(body)
        if where is not None:
            loc: list[str | int] = ["body", *where][:10]
            err = FieldError(loc=loc, msg="text holds a lone UTF-16 surrogate", type="string_unicode")
            response = error_response(
                422, f"{'.'.join(map(str, loc))}: {err.msg}", "validation", errors=[err.model_dump()]
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _surrogate(body: bytes) -> list[str | int] | None:
        if not _MAYBE_SURROGATE.search(body):
            return None
        try:
            return lone_surrogate_at(json.loads(body))
        except ValueError:
            return None  # not JSON at all: the route answers 422 for that

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"the request body is over {self.max_bytes} bytes (NEWSWATCH_MAX_REQUEST_BYTES)", "too_large"
        )
        response.headers["connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
