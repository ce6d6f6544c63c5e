"""Parse RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed into one entry model, as feedparser reads them, safely.

The bytes are decoded by us (feedreader.decode: BOMs, BOM-less UTF-16/32, the charset rules of RFC 3023 as
feedparser applies them), the prolog is checked (an internal DTD subset, where entities are declared, is
refused: no entity expansion, no external entities), and the document is read by the lxml fast path
(feedreader.fast), which follows feedparser's rules element by element; what lxml finds not well-formed goes
to feedparser itself (feedreader.fallback). Both give the same raw form, reduced to plain text in one place
(feedreader.entries). HTML served in place of a feed raises FeedParseError naming the feeds the page
advertises. tests/conformance runs this over feedparser's own test documents.

Exceptions:
    FeedParseError   the document is not a feed we can read (empty, HTML, unsafe XML, unparseable JSON)
"""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urljoin

from shared.fetching.feedreader.decode import decode_document, xml_body
from shared.fetching.feedreader.entries import finish
from shared.fetching.feedreader.fallback import parse_fallback
from shared.fetching.feedreader.fast import parse_fast
from shared.fetching.feedreader.jsonfeed import parse_json_feed
from shared.fetching.feedreader.model import FeedEntry, FeedParseError, ParsedFeed
from shared.fetching.feedreader.text import html_to_text

__all__ = ["FeedEntry", "FeedParseError", "ParsedFeed", "decode_document", "html_to_text", "parse_feed"]

Reader = Literal["auto", "fast", "fallback"]
log = logging.getLogger(__name__)

_ALT_LINK = re.compile(r"<link\b[^>]*>", re.I)
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_HTML_ROOTS = {"html", "head", "body"}


def _alternates(text: str, base: str) -> list[str]:
    found: list[str] = []
    for tag in _ALT_LINK.findall(text[:200_000]):
        attrs = {k.lower(): (a or b or c) for k, a, b, c in _ATTR.findall(tag)}
        ctype = attrs.get("type", "").lower()
        if "alternate" in attrs.get("rel", "").lower().split() and any(
            t in ctype for t in ("rss", "atom", "feed+json", "application/json")
        ):
            href = attrs.get("href")
            if href:
                found.append(urljoin(base, html.unescape(href)))
    return found


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    now: datetime | None = None,
    reader: Reader = "auto",
) -> ParsedFeed:
    """Parse a feed document of any supported format; raises FeedParseError when it is not one.

    `reader` is for tests and benchmarks: "fast" reads with lxml only (FeedParseError where it declines),
    "fallback" with feedparser only; "auto" tries lxml and falls back to feedparser.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if not content or not content.strip():
        raise FeedParseError("empty document")
    text, _enc = decode_document(content, content_type)
    stripped = text.lstrip("\ufeff \t\r\n")
    ctype = (content_type or "").lower()
    if stripped.startswith("{") or ("json" in ctype and not stripped.startswith("<")):
        return parse_json_feed(stripped, url=url, now=now)
    body = xml_body(stripped)
    root = (body.root or "").rsplit(":", 1)[-1].lower()
    if root in _HTML_ROOTS:
        alts = _alternates(stripped, url)
        hint = f"; the page advertises {', '.join(alts)}" if alts else ""
        raise FeedParseError(f"HTML page, not a feed{hint}", alternates=alts)
    try:
        raw = parse_fast(body.text, url=url) if reader != "fallback" else None
        if raw is None:
            if reader == "fast":
                raise FeedParseError("the fast path declines: not well-formed XML, or not an RSS/Atom root")
            raw = parse_fallback(body.text, url=url)
        return finish(raw, now=now)
    except (ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        # A parser failing on hostile input (feedparser's loose parser has raised UnicodeEncodeError,
        # OverflowError and ValueError on character references) is a document we cannot read, recorded
        # on the feed like any other, never a crashed fetch.
        if isinstance(exc, FeedParseError):
            raise
        log.warning("feed %s: the parsers failed on the document", url, exc_info=True)
        raise FeedParseError(f"the document could not be read ({type(exc).__name__})") from exc
