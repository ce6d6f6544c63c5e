"""The lxml fast path gives the same entries as feedparser on well-formed feeds, and steps aside otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.fetching import feeds
from shared.fetching.feedreader.fast import parse_fast

NOW = datetime(2025, 6, 1, tzinfo=UTC)

DOCS = {
    "rss2": b"""<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Wire &amp; Co</title><link>https://pub.example/</link><ttl>45</ttl>
<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" href="https://pub.example/rss"/>
<item><title>A &lt;b&gt;bold&lt;/b&gt; title</title><link>https://pub.example/a</link><guid>https://pub.example/a</guid>
<description>&lt;p&gt;Teaser &amp;amp; more&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>Full <em>text</em> here.</p>]]></content:encoded>
<pubDate>Sat, 31 May 2025 10:00:00 +0200</pubDate><dc:creator>Ann Lee</dc:creator></item>
<item><title>Second</title><link>/relative/b</link><guid>https://pub.example/b</guid>
<dc:date>2025-05-30T08:00:00Z</dc:date></item>
<item><title>Future</title><link>https://pub.example/f</link><guid>https://pub.example/f</guid>
<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>
</channel></rss>""",
    "atom": b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://pub.example/blog/">
<title type="html">Atom &amp;amp; co</title>
<link rel="hub" href="https://hub.example/h"/><link rel="self" href="https://pub.example/atom"/>
<entry><id>urn:x:1</id><title>One</title><link href="posts/1"/><updated>2025-05-01T00:00:00+02:00</updated>
<summary>Sum</summary><content type="html">&lt;p&gt;Body &lt;b&gt;text&lt;/b&gt;&lt;/p&gt;</content>
<author><name>Bo</name></author></entry>
<entry><id>urn:x:2</id><title>Two</title><link rel="alternate" href="https://other.example/2"/>
<published>2025-04-01T00:00:00Z</published><updated>2025-05-01T00:00:00Z</updated></entry>
</feed>""",
    "rdf": b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://pub.example/"><title>RDF</title><link>https://pub.example/</link></channel>
<item rdf:about="https://pub.example/r1"><title>One</title><link>https://pub.example/r1</link>
<description>d1</description><dc:date>2025-05-30T08:00:00Z</dc:date></item></rdf:RDF>""",
}


def _key(feed: feeds.ParsedFeed) -> tuple[object, ...]:
    entries = [(e.url, e.title, e.summary, e.content, e.published, e.author) for e in feed.entries]
    return (feed.title, feed.hub, feed.ttl_minutes, feed.self_url, entries)


@pytest.mark.parametrize("name", sorted(DOCS))
def test_fast_path_matches_feedparser(name: str) -> None:
    doc = DOCS[name]
    assert parse_fast(doc.decode().split("?>", 1)[-1], url="https://pub.example/feed") is not None
    fast = feeds.parse_feed(doc, url="https://pub.example/feed", now=NOW, reader="fast")
    slow = feeds.parse_feed(doc, url="https://pub.example/feed", now=NOW, reader="fallback")
    assert _key(fast) == _key(slow)
    assert [e.guid for e in fast.entries] == [e.guid for e in slow.entries]


def test_fast_path_steps_aside_for_broken_or_odd_documents() -> None:
    assert parse_fast("<rss><channel><title>unclosed</channel></rss>", url="https://p.example/") is None
    assert parse_fast("<html><body/></html>", url="https://p.example/") is None
    assert parse_fast("<channel><title>CDF</title></channel>", url="https://p.example/") is None
