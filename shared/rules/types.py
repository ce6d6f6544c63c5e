"""Public data types of the watch-rule engine: watches in, documents in, matches out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class WatchSpec:
    """One watch rule to compile: its identity, display name and query text."""

    id: int | str
    name: str
    query: str
    version: int = 1


@dataclass(frozen=True)
class DocEntity:
    """A named entity linked in an article (label PERSON, ORG, PLACE, ...)."""

    entity_id: str | None
    label: str
    text: str
    canonical: str | None = None


@dataclass
class MatchDocument:
    """The parts of an article the engine matches against."""

    title: str
    text: str
    language: str | None = None
    published: datetime | None = None
    entities: Sequence[DocEntity] = ()


@dataclass
class TermHit:
    """One occurrence of a rule term; start/end are character offsets into that field's string."""

    term: str
    field: str
    start: int
    end: int
    text: str


class MatchResult:
    """A watch that fired on a document, with what matched where.

    `terms` and `snippet` may be given, or built on first access by `details` (the engine passes a
    closure), so callers that only need ids and scores, such as backtest counts, do not pay for them.
    """

    __slots__ = ("_details", "_snippet", "_terms", "score", "watch_id", "watch_name")

    def __init__(
        self,
        watch_id: int | str,
        watch_name: str,
        score: float,
        terms: list[TermHit] | None = None,
        snippet: str | None = None,
        *,
        details: Callable[[], tuple[list[TermHit], str]] | None = None,
    ) -> None:
        self.watch_id = watch_id
        self.watch_name = watch_name
        self.score = score
        self._terms = terms
        self._snippet = snippet
        self._details = details

    def _build(self) -> None:
        terms, snippet = self._details() if self._details is not None else ([], "")
        if self._terms is None:
            self._terms = terms
        if self._snippet is None:
            self._snippet = snippet
        self._details = None

    @property
    def terms(self) -> list[TermHit]:
        """The term occurrences that made the watch fire, in text order."""
        if self._terms is None:
            self._build()
        assert self._terms is not None
        return self._terms

    @property
    def snippet(self) -> str:
        """A highlighted window of the article around the first hit."""
        if self._snippet is None:
            self._build()
        assert self._snippet is not None
        return self._snippet

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatchResult):
            return NotImplemented
        return (self.watch_id, self.watch_name, self.score, self.terms, self.snippet) == (
            other.watch_id,
            other.watch_name,
            other.score,
            other.terms,
            other.snippet,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MatchResult({self.watch_id!r}, {self.watch_name!r}, score={self.score!r})"


@runtime_checkable
class EntityResolver(Protocol):
    """Knowledge-base lookups the entity operators need (the nlp package implements it)."""

    def ids_for_name(self, name: str) -> set[str]:
        """Canonical ids having this name or alias, in any language."""
        ...

    def office_holders(self, office: str, at: date | None) -> set[str]:
        """Ids of whoever held the office at that date (any holder when `at` is None)."""
        ...
