"""The `sitemap` source kind: a (news) sitemap or sitemap index; each URL's page is fetched for its text."""

from __future__ import annotations

from dataclasses import dataclass

from shared.fetching.feeds import FeedEntry, ParsedFeed
from shared.fetching.sitemaps import parse_sitemap, sitemap_as_feed
from shared.outbound.http import FetchResult, HttpClient

MAX_CHILD_SITEMAPS = 5
MAX_PAGES_PER_FETCH = 100


@dataclass(frozen=True)
class SitemapSource:
    """A urlset or an index of them (the newest few children are read)."""

    name: str = "sitemap"
    description: str = "a sitemap or sitemap index (every page is fetched for its text)"
    always_extract: bool = True
    max_new_per_fetch: int | None = MAX_PAGES_PER_FETCH

    def parse(self, result: FetchResult, *, client: HttpClient) -> ParsedFeed:
        """The sitemap's URLs as entries without text; an index's newest children are fetched too."""
        sitemap = parse_sitemap(result.content)
        if sitemap.kind != "index":
            return sitemap_as_feed(sitemap)
        # Child sitemaps are usually listed oldest first; the newest few carry the news.
        entries: list[FeedEntry] = []
        for child_url in sitemap.sitemaps[-MAX_CHILD_SITEMAPS:]:
            child = client.get(child_url)
            entries.extend(sitemap_as_feed(parse_sitemap(child.content)).entries)
        return ParsedFeed(title=None, entries=entries, kind="sitemap")


KIND = SitemapSource()
