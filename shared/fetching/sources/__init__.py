"""Source kinds: the table of what a feed row can be (`Feed.kind`), read by the API and the fetch service.

Adding a source kind is one module here (an object with `name`, `description`, `always_extract`,
`max_new_per_fetch` and `parse(result, client=...)`, see `SourceKind` in base.py) plus one line in
`SOURCE_KINDS` below. The API's `kind` field accepts exactly the registered names and the fetch service
parses through the table; a plugin (NEWSWATCH_PLUGINS) or a test adds one with `register_source_kind`.
"""

from __future__ import annotations

import threading

from shared.fetching.sources import feed, sitemap
from shared.fetching.sources.base import SourceKind

SOURCE_KINDS: tuple[SourceKind, ...] = (
    feed.KIND,
    sitemap.KIND,
)
DEFAULT_KIND = feed.KIND.name

_lock = threading.Lock()
_kinds: dict[str, SourceKind] = {k.name: k for k in SOURCE_KINDS}


class UnknownSourceKind(LookupError):
    """A feed's kind names no registered source kind (a plugin that is no longer loaded)."""


def register_source_kind(kind: SourceKind) -> None:
    """Add (or replace) a source kind in this process: a plugin's, or a test's fake."""
    if not kind.name or len(kind.name) > 20:
        raise ValueError(f"a source kind's name has 1 to 20 characters: {kind.name!r}")
    with _lock:
        _kinds[kind.name] = kind


def unregister_source_kind(name: str) -> None:
    """Forget a registered kind (tests); the built-in ones stay."""
    with _lock:
        if name not in {k.name for k in SOURCE_KINDS}:
            _kinds.pop(name, None)


def source_kind(name: str) -> SourceKind:
    """The source kind of this name; raises UnknownSourceKind."""
    with _lock:
        kind = _kinds.get(name)
    if kind is None:
        raise UnknownSourceKind(f"unknown source kind {name!r} (registered: {', '.join(kind_names())})")
    return kind


def kind_names() -> list[str]:
    """The registered kinds' names, built-in ones first."""
    with _lock:
        return list(_kinds)


def describe_kinds() -> str:
    """One line naming every registered kind and what it is (the API schema's description)."""
    with _lock:
        return "; ".join(f"{k.name}: {k.description}" for k in _kinds.values())


__all__ = [
    "DEFAULT_KIND",
    "SOURCE_KINDS",
    "SourceKind",
    "UnknownSourceKind",
    "describe_kinds",
    "kind_names",
    "register_source_kind",
    "source_kind",
    "unregister_source_kind",
]
