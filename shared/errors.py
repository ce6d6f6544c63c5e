"""Domain errors: one small hierarchy that every package raises and the API maps to HTTP in one place.

Hierarchy (the HTTP status is the API's mapping, in services/api/errors.py):
    NewswatchError                base; `code` names the error for machines, the message is for people
    ├── InvalidInput(ValueError)  well-formed, but the domain refuses it                        → 422
    │   ├── ForbiddenAddress      an outbound URL names a refused scheme or address
    │   └── rules.RulesError      a query or watch file is invalid (RuleSyntaxError adds
    │                             `position` and `expected`), a backtest window is wrong
    ├── NotFound(LookupError)     no such resource, or one of another owner                     → 404
    ├── Conflict                  clashes with the current state: a name or URL in use, the last
    │                             working admin key, a disabled subscription                    → 409
    ├── Unauthenticated           no API key, or an unknown or revoked one                      → 401
    ├── ForbiddenScope            the key lacks the scope the request needs                     → 403
    ├── TooLarge                  the request body is over the configured limit                 → 413
    └── TooMany                   over a per-key limit (open streams…); `retry_after` seconds   → 429

Every error carries `details()`: extra JSON fields for the error body (a rule error's position).
"""

from __future__ import annotations

from typing import Any


class NewswatchError(Exception):
    """Base of the domain errors; `code` is a stable machine-readable name."""

    code = "error"

    def details(self) -> dict[str, Any]:
        """Extra fields for the error body (none by default)."""
        return {}


class InvalidInput(NewswatchError, ValueError):
    """The input is well-formed but the domain refuses it."""

    code = "invalid"


class ForbiddenAddress(InvalidInput):
    """An outbound URL names a refused scheme or resolves to a refused address."""

    code = "forbidden_address"


class NotFound(NewswatchError, LookupError):
    """No such resource (or it belongs to another owner: the two look the same)."""

    code = "not_found"


class Conflict(NewswatchError):
    """The request clashes with the current state."""

    code = "conflict"


class Unauthenticated(NewswatchError):
    """No API key, or an unknown or revoked one."""

    code = "unauthenticated"


class ForbiddenScope(NewswatchError):
    """The key lacks the scope the request needs."""

    code = "forbidden_scope"


class TooLarge(NewswatchError):
    """The request body is over the configured limit."""

    code = "too_large"


class TooMany(NewswatchError):
    """Over a per-key limit; the caller may try again after `retry_after` seconds."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
