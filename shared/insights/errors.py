"""Errors of the dashboard's read side, mapped to HTTP statuses by the API (one handler per class).

InsightError           base
├── NotVisibleError    the resource does not exist, or belongs to another owner (→ 404)
└── BadRequestError    a parameter that cannot be honoured, e.g. a cursor of another sort (→ 422)
"""

from __future__ import annotations


class InsightError(Exception):
    """Base of the dashboard read side's errors."""


class NotVisibleError(InsightError, LookupError):
    """No such resource for this caller (another owner's resource reads as absent)."""


class BadRequestError(InsightError, ValueError):
    """A parameter that cannot be honoured; `position` points into a query string when known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position
