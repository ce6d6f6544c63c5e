"""The reader's small parts agree with feedparser's: dates, URL joining, text typing, decoding."""

from __future__ import annotations

from datetime import UTC, datetime

from feedparser.datetimes import _parse_date
from feedparser.urls import _urljoin
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.fetching.feedreader.decode import decode_document
from shared.fetching.feedreader.fast import _resolve
from shared.fetching.feedreader.text import html_to_text, looks_like_html, parse_date, plain_text, repair

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _feedparser(value: str) -> datetime | None:
    parsed = _parse_date(value)
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2090, 12, 31)),
    minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    zone=st.sampled_from(["GMT", "UT", "UTC", "Z", "offset"]),
    with_day=st.booleans(),
    fraction=st.booleans(),
)
def test_fast_date_reading_is_feedparsers(
    when: datetime, minutes: int, zone: str, with_day: bool, fraction: bool
) -> None:
    sign = "+" if minutes >= 0 else "-"
    hhmm = f"{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    day = f"{_DAYS[when.weekday()]}, " if with_day else ""
    rfc = f"{day}{when.day:02d} {_MONTHS[when.month - 1]} {when.year} {when:%H:%M:%S} "
    rfc += f"{sign}{hhmm}" if zone == "offset" else zone
    iso = when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{when.microsecond:06d}" if fraction else "")
    iso += f"{sign}{hhmm[:2]}:{hhmm[2:]}" if zone == "offset" else "Z"
    for value in (rfc, iso):
        assert parse_date(value) == _feedparser(value), value


def test_dates_feedparser_reads_and_the_fast_patterns_do_not() -> None:
    for value in (
        "2003-12-31",
        "Sat, 31 May 2025 10:00 EST",
        "31 May 25 10:00:00 GMT",
        "2025-05-31T10:00:00",
    ):
        assert parse_date(value) == _feedparser(value), value
    assert parse_date("31st of May") is None and parse_date("") is None
    assert parse_date("Sat, 31 May 2025 10:00:00 +0200") == datetime(2025, 5, 31, 8, tzinfo=UTC)
    assert parse_date("2025-05-31T10:00:00.9-01:30") == datetime(2025, 5, 31, 11, 30, tzinfo=UTC)


_URL_PART = st.text(alphabet="abcXYZ019-._~%/?#;:@&=+[] ", max_size=12)


@settings(max_examples=400, deadline=None)
@given(
    scheme=st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "", "//", "http:///"]),
    host=st.sampled_from(["a.example", "b.example:8080", "[::1]", "x", ""]),
    rest=_URL_PART,
    base=st.sampled_from(["", "http://base.example/feed", "https://base.example/a/b?q=1"]),
)
def test_link_resolution_is_feedparsers(scheme: str, host: str, rest: str, base: str) -> None:
    uri = scheme + host + rest
    assert _resolve(base, uri) == _urljoin(base, uri)


def test_plain_text_keeps_brackets_and_html_is_reduced() -> None:
    assert plain_text("  Why Vec<T>\n\n beats  LinkedList<T> ") == "Why Vec<T>\nbeats LinkedList<T>"
    assert not looks_like_html("Why Vec<T> beats LinkedList<T>")
    assert not looks_like_html("a <custom>tag</custom>")  # unknown elements: text
    assert looks_like_html("a <b>bold</b> move") and looks_like_html("AT&amp;T")
    assert html_to_text("<p>One</p><p>Two <b>bo</b>ld</p>") == "One\nTwo bold"
    assert html_to_text("a < b and <!' <a href='x'>c</a>") == "a < b and <!' c"
    assert html_to_text("x<script>alert(1)</script>y<!-- never closed <b>z</b>") == "xy"
    assert repair("don\x92t \x80") == "don\u2019t \u20ac" and repair("caf\u00c3\u00a9") == "caf\u00e9"
    assert repair("caf\u00e9 \u041c") == "caf\u00e9 \u041c"


def test_decoding_rules() -> None:
    assert decode_document("<rss>\u00e9</rss>".encode("utf-16-le")) == ("<rss>\u00e9</rss>", "utf-16-le")
    assert decode_document("<rss>\u00e9</rss>".encode("utf-32-be"))[1] == "utf-32-be"
    latin = '<?xml version="1.0" encoding="iso-8859-1"?><rss>\u2019</rss>'.encode("cp1252")
    assert decode_document(latin)[0].endswith("<rss>\u2019</rss>")
    # mostly UTF-8 with one stray byte: the UTF-8 stays, the byte becomes U+FFFD
    mixed = "<rss>\u201cM\u00fcnchen\u201d \u2014 ".encode() + b"\xff</rss>"
    assert decode_document(mixed) == ("<rss>\u201cM\u00fcnchen\u201d \u2014 \ufffd</rss>", "utf-8")
    # header charset first for XML media types, XML declaration first otherwise
    body = '<?xml version="1.0" encoding="koi8-r"?><rss>\u041c</rss>'
    assert decode_document(body.encode("cp1251"), "text/xml; charset=windows-1251")[0].endswith(
        "\u041c</rss>"
    )
    assert decode_document(body.encode("koi8-r"), "application/octet-stream; charset=cp1251")[1] == "koi8-r"
