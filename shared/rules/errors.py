"""Errors raised by the rules package.

Hierarchy (under shared.errors.InvalidInput, so the API answers 422):
    RulesError                    base of everything raised here
    ├── RuleSyntaxError           a query does not parse or is invalid; has .position and .expected
    └── WatchFileError            a watch file (YAML/JSON) is malformed
"""

from __future__ import annotations

from typing import Any

from shared.errors import InvalidInput


class RulesError(InvalidInput):
    """Base class for errors of the rules package."""

    code = "invalid_rule"


class RuleSyntaxError(RulesError):
    """A query that cannot be compiled; `position` is a 0-based character offset into the query."""

    code = "rule_syntax"

    def __init__(self, message: str, *, position: int, expected: str, watch: str | None = None) -> None:
        self.message = message
        self.position = position
        self.expected = expected
        self.watch = watch
        prefix = f"watch {watch!r}: " if watch is not None else ""
        super().__init__(f"{prefix}{message} at position {position} (expected {expected})")

    def for_watch(self, watch: str) -> RuleSyntaxError:
        """The same error, naming the watch whose query failed."""
        return RuleSyntaxError(self.message, position=self.position, expected=self.expected, watch=watch)

    def details(self) -> dict[str, Any]:
        """The position (0-based) and what the parser expected there."""
        return {"position": self.position, "expected": self.expected}


class WatchFileError(RulesError):
    """A watch file that cannot be read as a list of watches."""
