"""Text constructs as feedparser reads them: HTML or plain text, repaired encodings, dates.

A feed's text is either markup (RSS descriptions, Atom type="html"/"xhtml") or plain text (Atom type="text",
most RSS titles). Plain text keeps its angle brackets: "Why Vec<T> beats LinkedList<T>" is a title, not a
tag soup. RSS never says which, so an RSS value declared or defaulting to plain text counts as HTML only when
it looks like HTML by feedparser's rule (a closing tag or a known entity, and only known HTML elements).
"""

from __future__ import annotations

import contextlib
import html
import html.entities
import re
from datetime import UTC, datetime, timedelta

# feedparser's own readings, so both paths read a document alike: its list of HTML elements (for guessing
# whether RSS text is HTML) and its date parser (RFC 822, W3C-DTF, ISO 8601 and a dozen regional dialects).
from feedparser.datetimes import _parse_date as _feedparser_date
from feedparser.sanitizer import _HTMLSanitizer

from shared.fetching.feedreader.model import Text

__all__ = ["html_to_text", "looks_like_html", "parse_date", "plain_text", "repair", "text_of"]

HTML = "html"
PLAIN = "text"
_HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}
_HTML_ELEMENTS = frozenset(_HTMLSanitizer.acceptable_elements)

# Dropped with their content: comments, scripts, styles; unclosed, they run to the end, as in browsers (and
# each is scanned once: a document of unclosed "<script" cannot make this quadratic).
_DROP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|applet)\b(?:[^<>]*/>|.*?(?:</\1\s*>|\Z))", re.I | re.S
)  # (a self-closed <script/> is empty, as XHTML serialises it)
# Block elements end a line; inline ones (a, b, span...) vanish without a space, as a browser renders them.
_BLOCK = re.compile(
    r"</?(?:address|article|aside|blockquote|br|caption|dd|details|div|dl|dt|fieldset|figcaption|figure|"
    r"footer|form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul)"
    r"\b[^<>]*>",
    re.I,
)
# A tag starts with a letter, "/", "?" or "!" and a name or "[": "a < b" and "<!'" in HTML are text. It ends
# before the next "<", so an unclosed tag is text and no "<" is scanned twice.
_TAG = re.compile(r"<(?:[A-Za-z/?]|!(?:[A-Za-z]|\[))[^<>]*>")
_CLOSE_TAG = re.compile(r"</(\w+)>")
_ENTITY_REF = re.compile(r"&#?\w+;")
_TAG_NAME = re.compile(r"</?(\w+)")
_NAMED_REF = re.compile(r"&(\w+);")
_C1 = re.compile("[\x80-\x9f]")
# Windows-1252's printable characters where ISO-8859-1 has C1 controls: a document declared Latin-1 is almost
# always Windows-1252 (WHATWG maps the label so), and so is a numeric reference like &#146;.
_CP1252 = {
    b: bytes([b]).decode("cp1252") for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}

_RFC822 = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{4}) (\d\d):(\d\d):(\d\d) (GMT|UT|UTC|Z|[+-]\d{4})"
)
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def plain_text(value: str | None) -> str:
    """Plain text with its whitespace tidied: runs of spaces collapsed, blank lines dropped."""
    if not value:
        return ""
    lines = [" ".join(line.split()) for line in value.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def html_to_text(fragment: str | None) -> str:
    """Plain text from an HTML fragment (tags and comments dropped, entities unescaped, whitespace tidied)."""
    if not fragment:
        return ""
    text = " ".join(fragment.split())  # in HTML a line break in the source is a space
    if "<" in text:
        text = _DROP.sub("", text)
        text = _BLOCK.sub("\n", text)
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return plain_text(text)


def looks_like_html(value: str) -> bool:
    """feedparser's guess for RSS text: a closing tag or an entity, only known elements and entities."""
    if not (_CLOSE_TAG.search(value) or _ENTITY_REF.search(value)):
        return False
    if any(t.lower() not in _HTML_ELEMENTS for t in _TAG_NAME.findall(value)):
        return False
    return all(e in html.entities.entitydefs for e in _NAMED_REF.findall(value))


def repair(value: str) -> str:
    """Undo the two encoding slips feeds make most: UTF-8 read as Latin-1 once, and C1 controls for cp1252."""
    if value.isascii():
        return value
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("latin-1").decode("utf-8")
    if _C1.search(value):
        value = value.translate(_CP1252)
    return value


def text_of(text: Text) -> str:
    """The plain text of a text construct."""
    value, kind = text
    if not value:
        return ""
    value = repair(value)
    return html_to_text(value) if kind == HTML else plain_text(value)


def kind_of(content_type: str | None) -> str:
    """HTML or PLAIN for a MIME type or Atom type name (text, html, xhtml)."""
    return HTML if (content_type or "").lower() in _HTML_TYPES else PLAIN


def parse_date(value: str | None) -> datetime | None:
    """A feed date as feedparser reads it (UTC, whole seconds); None when it cannot be read."""
    if not value:
        return None
    value = value.strip()
    m = _RFC822.fullmatch(value)
    if m:  # the two dialects nearly every feed uses, read without feedparser's chain of parsers
        day, mon, year, hh, mm, ss, zone = m.groups()
        try:
            dt = datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
        except ValueError:
            dt = None
        if dt is not None:
            if zone[0] in "+-":
                offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
                dt = dt - offset if zone[0] == "+" else dt + offset
            return dt
    elif _ISO.fullmatch(value):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(microsecond=0)
        except ValueError:
            pass
    parsed = _feedparser_date(value)
    if parsed is None:
        return None
    year, month, day, hour, minute, second = parsed[:6]  # a time.struct_time
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
