"""What a feed reads as: the public model (ParsedFeed, FeedEntry) and the raw form both parsing paths produce.

Exceptions:
    FeedParseError   the document is not a feed we can read (empty, HTML, unsafe XML, unparseable JSON)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class FeedParseError(ValueError):
    """The document is not a readable feed."""

    def __init__(self, message: str, *, alternates: list[str] | None = None) -> None:
        super().__init__(message)
        self.alternates = alternates or []


@dataclass
class FeedEntry:
    """One item of a feed, whatever its format; text fields are plain text."""

    guid: str
    url: str | None
    title: str
    summary: str
    content: str
    published: datetime | None
    author: str | None = None


@dataclass
class ParsedFeed:
    """A parsed feed: metadata and de-duplicated entries."""

    title: str | None
    entries: list[FeedEntry]
    hub: str | None = None
    ttl_minutes: int | None = None
    kind: str = "rss"
    link: str | None = None
    self_url: str | None = None
    warnings: list[str] = field(default_factory=list)
    subtitle: str = ""
    id: str | None = None
    updated: datetime | None = None


# A text construct as the document types it: (value, "html") is markup to be reduced to text, (value, "text")
# is already text, angle brackets and all.
Text = tuple[str, str]
NO_TEXT: Text = ("", "text")


@dataclass
class RawEntry:
    """An entry as read by either path, before text is reduced and the entry is keyed and de-duplicated."""

    id: str | None = None
    id_is_link: bool = False  # a permalink guid (RSS) or id (Atom): the entry's URL when it has no link
    link: str | None = None
    title: Text = NO_TEXT
    summary: Text = NO_TEXT
    content: Text = NO_TEXT
    published: datetime | None = None
    updated: datetime | None = None
    created: datetime | None = None
    author: str | None = None


@dataclass
class RawFeed:
    """A feed as read by either path: the feed's own fields and its entries in document order."""

    kind: str  # "rss" or "atom"
    title: Text = NO_TEXT
    subtitle: Text = NO_TEXT
    link: str | None = None
    id: str | None = None
    id_is_link: bool = False
    published: datetime | None = None
    updated: datetime | None = None
    created: datetime | None = None
    hub: str | None = None
    self_url: str | None = None
    ttl: str | None = None
    entries: list[RawEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
