"""Public data types of the watch-rule engine: watches in, documents in, matches out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

# Built in C: the matcher creates one per match and one per term hit (re-exported with the other types).
from shared.rules._core import MatchResult as MatchResult
from shared.rules._core import TermHit as TermHit


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


@runtime_checkable
class EntityResolver(Protocol):
    """Knowledge-base lookups the entity operators need (the nlp package implements it)."""

    def ids_for_name(self, name: str) -> set[str]:
        """Canonical ids having this name or alias, in any language."""
        ...

    def office_holders(self, office: str, at: date | None) -> set[str]:
        """Ids of whoever held the office at that date (any holder when `at` is None)."""
        ...
