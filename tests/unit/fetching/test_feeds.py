"""parse_feed over RSS, Atom, JSON Feed and broken or hostile documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.fetching.feeds import FeedParseError, decode_document, parse_feed

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://pub.example/</link><ttl>30</ttl>
<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="https://hub.example/"/>
<item><title>SCO summit opens</title><link>https://pub.example/a1</link><guid>g1</guid>
<description>&lt;p&gt;Leaders &amp;amp; ministers meet.&lt;/p&gt;</description>
<pubDate>Sat, 31 May 2025 10:00:00 GMT</pubDate><author>desk@pub.example (Desk)</author></item>
<item><title>Duplicate</title><link>https://pub.example/a1-again</link><guid>g1</guid></item>
<item><title>No link, no date</title><description>Only text</description></item>
<item><title>From the future</title><link>https://pub.example/f</link>
<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_rss2_entries_hub_ttl_duplicates_and_dates() -> None:
    feed = parse_feed(RSS2, url="https://pub.example/rss", now=NOW)
    assert feed.title == "Wire" and feed.ttl_minutes == 30 and feed.hub == "https://hub.example/"
    assert feed.entries[0].guid.endswith("g1")
    assert len(feed.entries) == 3  # duplicate GUID dropped
    first = feed.entries[0]
    assert first.url == "https://pub.example/a1"
    assert first.summary == "Leaders & ministers meet."
    assert first.published == datetime(2025, 5, 31, 10, 0, tzinfo=UTC)
    bare = feed.entries[1]
    assert bare.url is None and bare.published is None and bare.guid.startswith("sha1:")
    assert feed.entries[2].published == NOW  # clamped


def test_rss1_rdf_and_rss091() -> None:
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://pub.example/"><title>RDF</title><link>https://pub.example/</link></channel>
<item rdf:about="https://pub.example/r1"><title>One</title><link>https://pub.example/r1</link>
<dc:date>2025-05-30T08:00:00Z</dc:date></item></rdf:RDF>"""
    feed = parse_feed(rdf, url="https://pub.example/rdf", now=NOW)
    assert feed.title == "RDF" and feed.entries[0].url == "https://pub.example/r1"
    assert feed.entries[0].published == datetime(2025, 5, 30, 8, tzinfo=UTC)
    rss091 = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title><item><title>t</title><link>https://pub.example/o</link>
</item></channel></rss>"""
    assert parse_feed(rss091, url="https://pub.example/old", now=NOW).entries[0].title == "t"


def test_atom_with_relative_links_and_content() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><link rel="hub" href="https://hub.example/h"/>
<entry><id>urn:x:1</id><title type="html">A &amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; move</title>
<link href="/posts/1"/><updated>2025-05-01T00:00:00+02:00</updated>
<content type="html">&lt;p&gt;Full &lt;b&gt;text&lt;/b&gt;&lt;/p&gt;</content>
<author><name>Ann</name></author></entry>
</feed>"""
    feed = parse_feed(atom, url="https://pub.example/atom.xml", now=NOW)
    e = feed.entries[0]
    assert feed.kind == "atom" and feed.hub == "https://hub.example/h"
    assert e.url == "https://pub.example/posts/1" and e.content == "Full text" and e.author == "Ann"
    assert e.published == datetime(2025, 4, 30, 22, 0, tzinfo=UTC)


def test_json_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "hubs": [{"type": "WebSub", "url": "https://hub.example/j"}],
        "items": [
            {"id": "1", "url": "https://pub.example/j1", "title": "T", "content_html": "<p>Hi</p>",
             "date_published": "2025-05-01T00:00:00Z", "authors": [{"name": "Bo"}]},
            {"id": "1", "title": "dup"},
            {"id": "2", "content_text": "no link", "date_published": "2999-01-01T00:00:00Z"},
        ],
    }  # fmt: skip
    feed = parse_feed(json.dumps(doc).encode(), url="https://pub.example/feed.json", now=NOW)
    assert feed.kind == "json" and feed.hub == "https://hub.example/j" and len(feed.entries) == 2
    assert feed.entries[0].content == "Hi" and feed.entries[0].author == "Bo"
    assert feed.entries[1].url is None and feed.entries[1].published == NOW


@pytest.mark.parametrize(
    "doc",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<rss><channel><title>&lol2;</title></channel></rss>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><title>&xxe;</title></channel></rss>",
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>'.encode("utf-16"),
    ],
)
def test_entity_declarations_are_refused(doc: bytes) -> None:
    with pytest.raises(FeedParseError, match="refused"):
        parse_feed(doc, url="https://pub.example/x", now=NOW)


def test_html_page_is_a_clear_error_naming_advertised_feeds() -> None:
    page = b"""<!DOCTYPE html><html><head><title>Home</title>
<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body>hi</body></html>"""
    with pytest.raises(FeedParseError, match="HTML") as info:
        parse_feed(page, url="https://pub.example/", now=NOW)
    assert info.value.alternates == ["https://pub.example/rss.xml"]


def test_empty_document_and_empty_feed() -> None:
    with pytest.raises(FeedParseError, match="empty"):
        parse_feed(b"  \n", url="https://pub.example/x", now=NOW)
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>E</title></channel></rss>', url="https://p.example/"
    )
    assert feed.entries == [] and feed.title == "E"
    with pytest.raises(FeedParseError):
        parse_feed(b"just some text, not xml", url="https://pub.example/x", now=NOW)


def test_wrong_and_missing_charsets_and_invalid_utf8() -> None:
    text = (
        "<rss version='2.0'><channel><title>Café Москва</title>"
        "<item><title>naïve</title></item></channel></rss>"
    )
    # Declared latin-1 but really UTF-8: the valid UTF-8 wins.
    mislabelled = ('<?xml version="1.0" encoding="iso-8859-1"?>' + text).encode("utf-8")
    assert parse_feed(mislabelled, url="https://p.example/", now=NOW).title == "Café Москва"
    # Really cp1251 with only the HTTP header saying so.
    cyr = "<rss version='2.0'><channel><title>Москва</title></channel></rss>".encode("cp1251")
    ctype = "text/xml; charset=windows-1251"
    assert parse_feed(cyr, url="https://p.example/", content_type=ctype).title == "Москва"
    # No charset anywhere, latin-1 bytes: falls back to cp1252.
    latin = "<rss version='2.0'><channel><title>Café</title></channel></rss>".encode("latin-1")
    assert parse_feed(latin, url="https://p.example/", now=NOW).title == "Café"
    # Control characters and a broken byte inside a UTF-8 document.
    broken = "<rss version='2.0'><channel><title>ok\x01</title><item><title>é</title></item></channel></rss>"
    body = broken.encode("utf-8").replace("é".encode(), b"\xc3")
    feed = parse_feed(body, url="https://p.example/", now=NOW)
    assert feed.title == "ok" and len(feed.entries) == 1


def test_decode_document_bom() -> None:
    assert decode_document(b"\xef\xbb\xbf<rss/>") == ("<rss/>", "utf-8")
    assert decode_document(b"\xff\xfe" + "<rss/>".encode("utf-16-le")) == ("<rss/>", "utf-16-le")
