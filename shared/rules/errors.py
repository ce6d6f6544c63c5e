"""Errors raised by the rules package.

Hierarchy:
    RulesError(ValueError)        base of everything raised here
    ├── RuleSyntaxError           a query does not parse or is invalid; has .position and .expected
    └── WatchFileError            a watch file (YAML/JSON) is malformed
"""

from __future__ import annotations


class RulesError(ValueError):
    """Base class for errors of the rules package."""


class RuleSyntaxError(RulesError):
    """A query that cannot be compiled; `position` is a 0-based character offset into the query."""

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


class WatchFileError(RulesError):
    """A watch file that cannot be read as a list of watches."""
