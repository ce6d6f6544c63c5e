"""Logging for every role: plain text (the default) or one JSON object per line (NEWSWATCH_LOG_FORMAT=json).

A JSON line carries `ts`, `level`, `logger`, `message`, the ids the work was about (`article_id`/
`article_ids`, `alert_id`, `delivery_id`/`delivery_ids`, `watch_id`, `feed_id`), the Celery `task` and
`task_id` when inside one, and `exc` with the traceback. Ids come from `extra={...}` on the call or from
`context(...)`, which tags every record logged inside it (tasks wrap their work with the ids they were given).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

ID_FIELDS = (
    "article_id",
    "article_ids",
    "alert_id",
    "delivery_id",
    "delivery_ids",
    "watch_id",
    "feed_id",
    "subscription_id",
    "task",
    "task_id",
)
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "newswatch_log", default=None
)


@contextlib.contextmanager
def context(**ids: Any) -> Iterator[None]:
    """Tag every record logged inside with these ids (None values are left out)."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in ids.items() if v is not None})
    token = _context.set(current)
    try:
        yield
    finally:
        _context.reset(token)


def begin(**ids: Any) -> None:
    """Start a unit of work (a task) with these ids; `end()` clears them."""
    _context.set({k: v for k, v in ids.items() if v is not None})


def end() -> None:
    """Forget the ids of the finished unit of work."""
    _context.set(None)


class ContextFilter(logging.Filter):
    """Copies the context's ids onto each record (an explicit `extra` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ID_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(fmt: str, level: int | str = logging.INFO) -> None:
    """Send the root logger to stderr in the chosen format (text or json); every handler gets the ids."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_newswatch", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._newswatch = True  # type: ignore[attr-defined]  # our mark, to find our handler again
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
