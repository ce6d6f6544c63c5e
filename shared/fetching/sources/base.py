"""What a source kind is: how the document at a feed's URL becomes entries (see __init__.py for the table)."""

from __future__ import annotations

from typing import Protocol

from shared.fetching.feeds import ParsedFeed
from shared.outbound.http import FetchResult, HttpClient


class SourceKind(Protocol):
    """One kind of source a feed row can be (`Feed.kind` holds its name).

    The fetch service does the rest the same way for every kind: politeness, conditional GET, dedup by
    guid, optional page extraction, ingestion, the adaptive schedule and health.
    """

    # Read-only members (properties here), so that a frozen dataclass or plain class attributes satisfy them.
    @property
    def name(self) -> str:
        """The value of Feed.kind and of `kind` in POST /api/v1/feeds (at most 20 characters)."""
        ...

    @property
    def description(self) -> str:
        """One line, shown in the API schema."""
        ...

    @property
    def always_extract(self) -> bool:
        """Every new entry's page is fetched and extracted (entries carry no text, e.g. sitemap URLs)."""
        ...

    @property
    def max_new_per_fetch(self) -> int | None:
        """New entries taken per fetch (None: all); the rest stay unknown and come with the next polls."""
        ...

    def parse(self, result: FetchResult, *, client: HttpClient) -> ParsedFeed:
        """The entries of a fetched document; raises FeedParseError (or FetchError for further requests)."""
        ...
