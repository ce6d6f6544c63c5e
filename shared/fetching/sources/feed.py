"""The `rss` source kind: an RSS, Atom, RDF or JSON Feed document."""

from __future__ import annotations

from dataclasses import dataclass

from shared.fetching.feeds import ParsedFeed, parse_feed
from shared.outbound.http import FetchResult, HttpClient


@dataclass(frozen=True)
class FeedSource:
    """RSS/Atom/JSON Feed (WebSub-capable: a feed that names a hub is pushed to as well)."""

    name: str = "rss"
    description: str = "RSS, Atom or JSON Feed"
    always_extract: bool = False
    max_new_per_fetch: int | None = None

    def parse(self, result: FetchResult, *, client: HttpClient) -> ParsedFeed:
        """Parse the feed document."""
        return parse_feed(result.content, url=result.url, content_type=result.content_type)


KIND = FeedSource()
