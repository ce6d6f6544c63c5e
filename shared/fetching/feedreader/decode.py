"""Bytes to safe text: the character encoding by feedparser's rules, then the prolog's checks.

Encoding, in order: a byte-order mark; UTF-16/32 recognised by the zero bytes around "<" (no BOM needed);
valid UTF-8 (non-ASCII bytes that form valid UTF-8 are almost never a mislabelled single-byte charset, so
this goes first, a deliberate difference from feedparser); then the declared charsets with feedparser's
precedence (RFC 3023: the HTTP header's charset before the XML declaration's for XML and text media types;
the XML declaration alone otherwise); a document that is mostly UTF-8 keeps its UTF-8 with the odd bad byte
replaced; Windows-1252, then Latin-1, which never fails.

Safety looks at the prolog, the part before the root element, which is the only place XML lets a DTD be:
an internal DTD subset (where entities are declared) is refused, so no entity is ever expanded and no
external entity ever loaded. The rest of the document is data: a security blog's CDATA quoting
`<!DOCTYPE x [<!ENTITY ...>]>` is an article, not an attack.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from shared.fetching.feedreader.model import FeedParseError

__all__ = ["XmlBody", "decode_document", "xml_body"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC
_WIDE = ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
# Labels that mean Windows-1252 in practice (the WHATWG encoding standard maps them so).
_LATIN1 = ("latin-1", "iso8859-1", "ascii")
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "euc_kr": "cp949"}


def _known(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(codec, codec)


def _wide_without_bom(head: bytes) -> str | None:
    """UTF-16/32 told by where the zero bytes fall around ASCII markup (XML 1.0 appendix F, generalised)."""
    if len(head) < 4:
        return None
    b0, b1, b2, b3 = head[:4]
    if b0 == b1 == b2 == 0 and b3:
        return "utf-32-be"
    if b0 and b1 == b2 == b3 == 0:
        return "utf-32-le"
    if b0 == 0 and b1 and b2 == 0 and b3:
        return "utf-16-be"
    if b0 and b1 == 0 and b2 and b3 == 0:
        return "utf-16-le"
    return None


def _content_type(content_type: str | None) -> tuple[str, str | None]:
    if not content_type:
        return "", None
    mime, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return mime.strip().lower(), charset


def _declared(content: bytes, content_type: str | None) -> list[str]:
    """Declared encodings, most authoritative first, as feedparser ranks them."""
    mime, charset = _content_type(content_type)
    m = _XML_DECL_ENCODING.match(content[:512])
    xml_encoding = m.group(1).decode("ascii") if m else None
    xmlish = mime in ("application/xml", "application/xml-dtd", "application/xml-external-parsed-entity") or (
        mime.startswith("application/") and mime.endswith("+xml")
    )
    names = [charset, xml_encoding] if xmlish or mime.startswith("text/") else [xml_encoding, charset]
    out: list[str] = []
    for name in names:
        enc = _known(name)
        if enc and enc not in out:
            out.append(enc)
    return out


_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH = re.compile(rb"[\x80-\xff]")


def _mostly_utf8(content: bytes) -> bool:
    """UTF-8 with a few bad bytes: more valid multi-byte characters than stray high bytes."""
    sequences = _UTF8_SEQ.findall(content)
    stray = len(_HIGH.findall(content)) - sum(len(s) for s in sequences)
    return len(sequences) > stray


def decode_document(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a feed or page to text; returns (text, the encoding used)."""
    for bom, enc in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(enc, errors="replace"), enc
    wide = _wide_without_bom(content[:4])
    if wide:
        return content.decode(wide, errors="replace"), wide
    if content.startswith(_EBCDIC_XML):
        m = _XML_DECL_ENCODING.match(content[:512].decode("cp037").encode("ascii", errors="replace"))
        enc = (_known(m.group(1).decode()) if m else None) or "cp037"
        return content.decode(enc, errors="replace"), enc
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = _declared(content, content_type)
    for enc in declared:
        if enc in _WIDE:
            continue  # UTF-8 failed above; UTF-16/32 without their zero bytes is a wrong label
        if enc in _LATIN1:
            enc = "cp1252"
        try:
            return content.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    if (not declared or declared[0] == "utf-8") and _mostly_utf8(content):
        return content.decode("utf-8", errors="replace"), "utf-8"
    try:
        return content.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return content.decode("latin-1"), "latin-1"


@dataclass
class XmlBody:
    """A document ready for the parsers: text from its root element on, and what the prolog said."""

    text: str
    root: str | None  # the root element's name as written ("rss", "feed", "rdf:RDF", "html"...)


_NAME_START = re.compile(r"<([A-Za-z_][^\s/>]*)")
_ENTITY_DECL = re.compile(r"<!ENTITY", re.I)
# Characters XML 1.0 forbids; feeds contain them surprisingly often and they throw parsers into loose mode.
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Numeric character references, with or without the `;` that loose parsers do without.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")


def _allowed_char(code: int) -> bool:
    """A character XML 1.0 allows (Char production, §2.2)."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _char_ref(m: re.Match[str]) -> str:
    digits = (m.group(1) or m.group(2)).lstrip("0") or "0"
    code = int(digits[:8], 16 if m.group(1) else 10) if len(digits) <= 8 else -1
    return m.group() if _allowed_char(code) else "&#xFFFD;"


def clean_chars(text: str) -> str:
    """Drop the characters XML forbids and turn references to them (`&#0;`, `&#xD800;`, `&#x110000;`) into
    U+FFFD, as HTML does: otherwise lxml declines the whole document and feedparser raises on it."""
    if _BAD_XML_CHARS.search(text):
        text = _BAD_XML_CHARS.sub("", text)
    return _CHAR_REF.sub(_char_ref, text) if "&#" in text else text


def _doctype_end(text: str, start: int) -> int:
    """Index just past the DOCTYPE at `start`; refuses an internal subset (where entities are declared)."""
    quote = ""
    for i in range(start + 9, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            end = text.find("]", i)
            if _ENTITY_DECL.search(text, i, end if end > 0 else len(text)):
                raise FeedParseError(
                    "XML entity declarations are refused (entity expansion / external entities)"
                )
            raise FeedParseError("XML DTD internal subsets are refused")
        elif ch == ">":
            return i + 1
    raise FeedParseError("unterminated DOCTYPE")


def xml_body(text: str) -> XmlBody:
    """Check the prolog (comments, PIs, DOCTYPE) and return the document from its root element on."""
    text = text.lstrip("\ufeff \t\r\n")
    pos, n = 0, len(text)
    while pos < n:
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                break
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end < 0:
                break
            pos = end + 3
        elif text[pos : pos + 9].upper() == "<!DOCTYPE":
            pos = _doctype_end(text, pos)
        elif text.startswith("<", pos) and (m := _NAME_START.match(text, pos)):
            return XmlBody(clean_chars(text[pos:]), m.group(1))
        else:
            break
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
    # No well-formed prolog: feedparser's loose parser may still read it. Its parsers read declarations
    # up to the first element, so that is where entity declarations are refused.
    first = _NAME_START.search(text, pos)
    head = text[: first.start() if first else len(text)]
    if _ENTITY_DECL.search(head):
        raise FeedParseError("XML entity declarations are refused (entity expansion / external entities)")
    return XmlBody(clean_chars(text), None)
