"""Feeds as they come from real publishers, read alike on the lxml fast path and the feedparser fallback.

Each case runs through `reader="fast"` (lxml only: it fails if the fast path declines), `reader="fallback"`
(feedparser only) and the default, and every reading must give the same, correct entries.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest

from shared.fetching.feeds import FeedParseError, ParsedFeed, parse_feed

NOW = datetime(2025, 6, 1, tzinfo=UTC)
READERS = ("fast", "fallback", "auto")


def read_all(
    doc: bytes, *, content_type: str | None = None, url: str = "https://blog.example/feed"
) -> ParsedFeed:
    """Read on every path; assert they agree; return the reading."""
    feeds = [parse_feed(doc, url=url, content_type=content_type, now=NOW, reader=r) for r in READERS]
    first = feeds[0]
    for other in feeds[1:]:
        assert other.entries == first.entries
        assert (other.title, other.subtitle, other.link, other.updated) == (
            first.title,
            first.subtitle,
            first.link,
            first.updated,
        )
    return first


RUST_BLOG = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>This Week in Generics</title>
<item><title>Why Vec&lt;T&gt; beats LinkedList&lt;T&gt;</title><link>https://blog.example/vec</link>
<description>&lt;p&gt;Use &lt;code&gt;Vec&amp;lt;T&amp;gt;&lt;/code&gt; first.&lt;/p&gt;</description></item>
<item><title>History of the &lt;blink&gt; tag</title><link>https://blog.example/blink</link></item>
<item><title>Map&lt;K, V&gt; &amp; friends: a &lt;b&gt;bold&lt;/b&gt; tour</title><link>https://blog.example/map</link></item>
<item><title>A &lt;b&gt;bold&lt;/b&gt; move &amp;amp; more</title><link>https://blog.example/bold</link></item>
<item><title><![CDATA[if a < b && b > c then Option<T>]]></title><link>https://blog.example/cmp</link></item>
</channel></rss>"""

RUST_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Generics &lt;3</title>
<entry><id>urn:x:1</id><title type="text">Box&lt;dyn Error&gt; explained</title>
<summary type="text">Returns Result&lt;(), Box&lt;dyn Error&gt;&gt;</summary>
<content type="html">&lt;p&gt;Read &lt;code&gt;Box&amp;lt;dyn Error&amp;gt;&lt;/code&gt;
 as a trait object.&lt;/p&gt;</content></entry>
<entry><id>urn:x:2</id>
<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">The &lt;T&gt; in <b>Vec</b></div></title>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Write &lt;script&gt; tags
<em>carefully</em>.</div></content></entry>
</feed>"""


def test_programming_blog_titles_keep_their_generics() -> None:
    feed = read_all(RUST_BLOG)
    titles = [e.title for e in feed.entries]
    assert titles == [
        "Why Vec<T> beats LinkedList<T>",  # plain text: angle brackets are text
        "History of the <blink> tag",
        "Map<K, V> & friends: a <b>bold</b> tour",  # <K is no HTML element: all of it is text
        "A bold move & more",  # a closing tag and known elements only: HTML
        "if a < b && b > c then Option<T>",
    ]
    assert feed.entries[0].summary == "Use Vec<T> first."
    atom = read_all(RUST_ATOM)
    assert atom.title == "Generics <3"
    first, second = atom.entries
    assert first.title == "Box<dyn Error> explained" and first.summary == "Returns Result<(), Box<dyn Error>>"
    assert first.content == "Read Box<dyn Error> as a trait object."
    assert second.title == "The <T> in Vec" and second.content == "Write <script> tags carefully."


def test_latin1_declared_feed_with_windows_1252_punctuation() -> None:
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel>'
        "<title>Caf\u00e9 \u2014 news</title><item><link>https://news.example/1</link>"
        "<title>\u201cQuoted\u201d \u2013 it\u2019s \u20ac5\u2026</title>"
        "<description>Na\u00efve &#147;refs&#148; &#128;9</description></item></channel></rss>"
    )
    doc = text.encode("cp1252")
    for ctype in (None, "application/rss+xml; charset=iso-8859-1", "text/xml"):
        feed = read_all(doc, content_type=ctype)
        assert feed.title == "Caf\u00e9 \u2014 news"
        assert feed.entries[0].title == "\u201cQuoted\u201d \u2013 it\u2019s \u20ac5\u2026"
        assert feed.entries[0].summary == "Na\u00efve \u201crefs\u201d \u20ac9"  # numeric C1 references too


SECURITY_BLOG = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>AppSec Notes</title>
<item><title>Billion laughs, explained</title><link>https://sec.example/lol</link>
<description><![CDATA[<p>The payload:</p><pre>&lt;!DOCTYPE lolz [&lt;!ENTITY lol "lol"&gt;
&lt;!ENTITY lol2 "&amp;lol;&amp;lol;"&gt;]&gt;</pre>]]></description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>]]></content:encoded></item>
<item><title>Quoting &lt;!ENTITY&gt; in a title</title><link>https://sec.example/t</link>
<description>The text &amp;lt;!DOCTYPE html&amp;gt; starts every page.</description></item>
</channel></rss>"""


def test_security_blog_quoting_xml_attacks_in_cdata_is_read() -> None:
    feed = read_all(SECURITY_BLOG)
    lol, title = feed.entries
    assert lol.summary.startswith("The payload:") and '<!ENTITY lol "lol">' in lol.summary
    assert title.title == "Quoting <!ENTITY> in a title"
    assert "<!DOCTYPE html> starts every page" in title.summary


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>',
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!-- <b>a comment with a tag</b> --><!DOCTYPE rss [<!ENTITY x "y">]>',
        '<?xml-stylesheet href="s.xsl"?><!DOCTYPE rss SYSTEM "x.dtd" [<!ATTLIST rss a CDATA "b">]>',
        'Warning: stray output before the feed <!DOCTYPE rss [<!ENTITY % p SYSTEM "http://evil.example/">%p;]>',
    ],
)
@pytest.mark.parametrize("reader", READERS)
def test_entity_declarations_in_the_prolog_are_still_refused(prolog: str, reader: str) -> None:
    doc = f'<?xml version="1.0"?>{prolog}<rss version="2.0"><channel><title>&lol2;</title></channel></rss>'
    with pytest.raises(FeedParseError, match="refused"):
        parse_feed(doc.encode(), url="https://x.example/", now=NOW, reader=reader)  # type: ignore[arg-type]


NEWS = "\u041d\u043e\u0432\u043e\u0441\u0442\u0438 \u65b0\u95fb"
SUMMIT = "\u0421\u0430\u043c\u043c\u0438\u0442 \u0428\u041e\u0421 \u4e0a\u5408\u7ec4\u7ec7"
MOSCOW = "\u041c\u043e\u0441\u043a\u0432\u0430"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(codec: str) -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<rss version="2.0"><channel>'
        f"<title>{NEWS}</title><item><title>{SUMMIT}</title><link>https://ru.example/1</link></item>"
        "</channel></rss>"
    )
    doc = text.encode(codec)
    assert not doc.startswith((b"\xff\xfe", b"\xfe\xff"))
    for ctype in (None, "application/xml; charset=utf-16"):
        feed = read_all(doc, content_type=ctype)
        assert feed.title == NEWS and feed.entries[0].title == SUMMIT


def test_http_charset_beats_the_xml_declaration_for_xml_media_types() -> None:
    body = f'<?xml version="1.0" encoding="iso-8859-1"?><rss><channel><title>{MOSCOW}</title></channel></rss>'
    doc = body.encode("cp1251")
    for ctype in ("application/rss+xml; charset=windows-1251", "text/xml; charset=windows-1251"):
        assert read_all(doc, content_type=ctype).title == MOSCOW
    # A media type that is not XML or text: its charset is ignored and the declaration decides (feedparser).
    koi = body.replace("iso-8859-1", "koi8-r").encode("koi8-r")
    assert read_all(koi, content_type="application/octet-stream; charset=windows-1251").title == MOSCOW
    assert read_all(koi).title == MOSCOW  # no header: the declaration decides


GUIDS = b"""<rss version="2.0"><channel><title>G</title>
<item><title>permalink only</title><guid>https://blog.example/p/1</guid></item>
<item><title>permalink said</title><guid isPermaLink="true">https://blog.example/p/2</guid></item>
<item><title>not a permalink</title><guid isPermaLink="false">https://blog.example/p/3</guid></item>
<item><title>link wins</title><guid>https://blog.example/p/4</guid><link>https://blog.example/four</link></item>
<item><title>an id, not an address</title><guid>tag:blog.example,2025:5</guid></item>
</channel></rss>"""


def test_permalink_guid_is_the_url_of_an_item_without_link() -> None:
    feed = read_all(GUIDS)
    assert [e.url for e in feed.entries] == [
        "https://blog.example/p/1",
        "https://blog.example/p/2",
        None,
        "https://blog.example/four",
        None,
    ]
    assert feed.entries[2].guid == "https://blog.example/p/3"
    atom = read_all(
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>https://blog.example/a/1</id><title>t</title>'
        b"</entry></feed>"
    )
    assert atom.entries[0].url == "https://blog.example/a/1"


DUBLIN_CORE = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:xhtml="http://www.w3.org/1999/xhtml">
<channel rdf:about="https://lib.example/"><dc:title>Library news</dc:title>
<dc:description>From the stacks</dc:description>
<dcterms:modified>2025-05-30T10:00:00Z</dcterms:modified></channel>
<item rdf:about="https://lib.example/1"><dc:title>Issued first</dc:title><link>https://lib.example/1</link>
<dcterms:issued>2025-05-01T08:00:00+02:00</dcterms:issued><dcterms:modified>2025-05-20T08:00:00Z</dcterms:modified>
<dc:description>A short note</dc:description></item>
<item rdf:about="https://lib.example/2"><dc:title>Only modified</dc:title>
<dcterms:modified>Tue, 20 May 2025 09:30:00 GMT</dcterms:modified>
<xhtml:body><xhtml:p>Full <xhtml:b>body</xhtml:b> text.</xhtml:p></xhtml:body></item>
<item rdf:about="https://lib.example/3"><dc:title>Only created</dc:title>
<dcterms:created>2025-05-10</dcterms:created></item>
</rdf:RDF>"""


def test_dublin_core_titles_descriptions_bodies_and_dcterms_dates() -> None:
    feed = read_all(DUBLIN_CORE)
    assert feed.title == "Library news" and feed.subtitle == "From the stacks"
    assert feed.updated == datetime(2025, 5, 30, 10, tzinfo=UTC)
    one, two, three = feed.entries
    assert (one.title, one.summary, one.url) == ("Issued first", "A short note", "https://lib.example/1")
    assert one.published == datetime(2025, 5, 1, 6, tzinfo=UTC)  # issued before modified
    assert two.content == "Full body text." and two.summary == "Full body text."
    assert two.published == datetime(2025, 5, 20, 9, 30, tzinfo=UTC)
    assert three.published == datetime(2025, 5, 10, tzinfo=UTC)


def test_atom_base64_content_and_atom_03_on_the_fast_path() -> None:
    atom10 = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:b:1</id><title>Encoded</title>
<content type="application/octet-stream">SGVsbG8sIDxiPndvcmxkPC9iPg==</content></entry></feed>"""
    assert read_all(atom10).entries[0].content == "Hello, <b>world</b>"  # not markup: octet-stream text
    atom03 = b"""<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">
<title mode="escaped" type="text/html">Old &lt;i&gt;Atom&lt;/i&gt;</title>
<link rel="alternate" type="text/html" href="https://old.example/"/>
<entry><title>Zero three</title><link rel="alternate" type="text/html" href="https://old.example/1"/>
<id>tag:old.example,2004:1</id><issued>2004-01-01T10:00:00Z</issued><modified>2004-01-02T10:00:00Z</modified>
<summary type="text/html" mode="base64">PHA+U3VtbWFyeTwvcD4=</summary>
<content type="application/xhtml+xml" mode="xml">
<div xmlns="http://www.w3.org/1999/xhtml">Inline <b>XHTML</b></div></content>
</entry></feed>"""
    feed = read_all(atom03)
    assert feed.kind == "atom" and feed.title == "Old Atom" and feed.link == "https://old.example/"
    e = feed.entries[0]
    assert (e.url, e.summary, e.content) == ("https://old.example/1", "Summary", "Inline XHTML")
    assert e.published == datetime(2004, 1, 1, 10, tzinfo=UTC)


def test_rss_without_channel_and_html_entities_on_the_fast_path() -> None:
    doc = b"""<rss version="0.92"><title>No channel</title>
<item><title>Caf&eacute;&nbsp;culture &amp; more</title><link>https://x.example/?a=1&b=2</link></item>
<item><title>Second</title><link>https://x.example/2</link></item></rss>"""
    feed = read_all(doc)
    assert [e.title for e in feed.entries] == [
        "Caf\u00e9\u00a0culture & more".replace("\u00a0", " "),
        "Second",
    ]
    assert feed.entries[0].url == "https://x.example/?a=1&b=2"


def test_xhtml_doctype_before_rss_is_a_feed_and_html_pages_are_not() -> None:
    doc = b"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<rss version="2.0"><channel><title>Found</title>
<item><title>i</title><link>https://x.example/i</link></item></channel></rss>"""
    assert read_all(doc).title == "Found"
    page = b"""<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">
<!-- a comment --><html xmlns="http://www.w3.org/1999/xhtml"><head>
<link rel="alternate" type="application/atom+xml" href="/atom.xml"/></head><body/></html>"""
    for reader in READERS:
        with pytest.raises(FeedParseError, match="HTML") as info:
            parse_feed(page, url="https://x.example/", now=NOW, reader=reader)  # type: ignore[arg-type]
        assert info.value.alternates == ["https://x.example/atom.xml"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "body",
    [
        "<![CDATA[ x" * 100_000,  # unclosed CDATA openers, after an entity that sends lxml to the rewrite
        "&lt;script x" * 100_000,  # unclosed scripts in HTML text
        "&lt;a x" * 100_000,  # unclosed tags
        "&lt;!-- x" * 100_000,  # unclosed comments
    ],
)
def test_pathological_markup_is_read_in_one_pass(body: str) -> None:
    """Each of these took time quadratic in its size (minutes here) before every scan was made one pass."""
    doc = f"<rss><channel><title>&nbsp;</title><item><title>t</title><description>{body}</description></item>"
    for reader in ("auto", "fallback"):
        with contextlib.suppress(FeedParseError):  # refusing is fine; hanging is not
            parse_feed(doc.encode(), url="https://x.example/", now=NOW, reader=reader)  # type: ignore[arg-type]
