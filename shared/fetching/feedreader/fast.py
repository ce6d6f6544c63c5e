"""The fast path: well-formed RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 read with lxml, element by element.

feedparser is thorough but pure Python (~0.5 ms per item); most feeds are well-formed XML that lxml reads many
times faster. This module walks the lxml tree with feedparser's own rules for what each element means (its
names are namespace-mapped and lower-cased; `item` and `entry` are entries whatever the root; a permalink
guid is the link of an entry without one; dc:title, dcterms:issued, xhtml:body... are what feedparser makes
them), so a document reads the same on either path. `parse_fast` returns None only when lxml finds the
document not well-formed or the root is not a feed's, before any other work: the caller then hands the text
to feedparser, which has a loose parser for broken XML.

Input is text already made safe by feedreader.decode (no DTD); the parser resolves and loads nothing anyway.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html.entities
import re
from html import escape
from typing import Any

# feedparser's URL joining, so relative links and xml:base resolve exactly as on the other path
from feedparser.urls import _urljoin, make_safe_absolute_uri
from lxml import etree

from shared.fetching.feedreader.model import NO_TEXT, RawEntry, RawFeed, Text
from shared.fetching.feedreader.text import kind_of, looks_like_html, parse_date, repair

__all__ = ["parse_fast"]

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    recover=False,
    remove_comments=True,
    remove_pis=True,
)
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"

# Namespaces feedparser reads as the core vocabulary ("") or under a fixed prefix; any other namespace
# keeps the document's own prefix, as in feedparser.
_CORE = (
    "", "http://backend.userland.com/rss", "http://blogs.law.harvard.edu/tech/rss", "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/", "http://example.com/newformat#", "http://example.com/necho",
    "http://purl.org/echo/", "uri/of/echo/namespace#", "http://purl.org/pie/", "http://purl.org/atom/ns#",
    "http://www.w3.org/2005/atom", "http://purl.org/rss/1.0/modules/rss091#",
)  # fmt: skip
_PREFIXES = {uri: "" for uri in _CORE} | {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://www.w3.org/1999/xhtml": "xhtml",
    "http://search.yahoo.com/mrss": "media",
    "http://search.yahoo.com/mrss/": "media",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://example.com/dtds/podcast-1.0.dtd": "itunes",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
}
_NAMES: dict[str, str] = {}  # tag -> feedparser's name, for tags whose namespace is known (bounded below)

_TITLE = {"title", "dc:title"}
_DESCRIPTION = {"description", "dc:description", "media:description"}
_SUMMARY = {"summary", "itunes:summary"}
_SUBTITLE = {"subtitle", "tagline", "itunes:subtitle"}
_CONTENT = {"content:encoded": "text/html", "fullitem": "text/html", "content": "text/plain"}
_BODY = {"body", "xhtml:body"}
_PUBLISHED = {"published", "issued", "pubdate", "dcterms:issued"}
_UPDATED = {"updated", "modified", "lastbuilddate", "dc:date", "dcterms:modified"}
_CREATED = {"created", "dcterms:created"}
_AUTHOR = {"author", "managingeditor", "dc:author", "dc:creator", "itunes:author"}
_SKIP = {"image", "textinput", "source", "contributor", "dc:contributor", "itunes:owner"}
_ENTRY = {"item", "entry"}
_MAP_TYPE = {
    "text": "text/plain",
    "plain": "text/plain",
    "html": "text/html",
    "xhtml": "application/xhtml+xml",
}
_AMP_REF = re.compile("&([A-Za-z0-9_]+);")


def _name(el: Any) -> str:
    tag = el.tag
    name = _NAMES.get(tag)
    if name is not None:
        return name
    if tag[:1] == "{":
        uri, local = tag[1:].split("}", 1)
        lowered = uri.lower()
        prefix = "" if "backend.userland.com/rss" in lowered else _PREFIXES.get(lowered)
        if prefix is None:  # an unknown namespace: the document's own prefix (not cached: it varies)
            given = el.prefix
            return f"{given.lower()}:{local.lower()}" if given else local.lower()
        name = f"{prefix}:{local.lower()}" if prefix else local.lower()
    else:
        name = tag.lower()
    if len(_NAMES) > 4096:  # hostile documents could invent tags without end
        _NAMES.clear()
    _NAMES[tag] = name
    return name


def _attr(el: Any, name: str) -> str | None:
    """An attribute by its lower-cased local name, as feedparser normalises attributes."""
    value = el.get(name)
    if value is not None:
        return str(value)
    for key, val in el.attrib.items():
        if key.lower() == name:
            return str(val)
    return None


def _is_bare_div(el: Any) -> bool:
    return isinstance(el.tag, str) and _name(el) in ("div", "xhtml:div") and not len(el)


# An absolute web URL that urljoin hands back unchanged (no empty "?" or "#", no ";" params, no brackets,
# which urllib reads as an IPv6 host, no whitespace or controls): most links and guids, kept without urllib.
_PLAIN_ABSOLUTE = re.compile(r"https?://[^/\x00-\x20;?#\[\]][^\x00-\x20;\[\]]*")


def _resolve(base: str, uri: str) -> str:
    if _PLAIN_ABSOLUTE.fullmatch(uri) and not uri.endswith(("?", "#")) and "?#" not in uri:
        return uri
    return str(_urljoin(base or "", uri))


class _Context:
    """The feed or one entry being filled, with feedparser's per-field rules about which value wins."""

    __slots__ = ("depths", "has_content", "has_summary", "raw", "summary", "title_depth")

    def __init__(self, raw: RawFeed | RawEntry) -> None:
        self.raw = raw
        self.depths: dict[str, int] = {}
        self.title_depth = -1
        self.has_content = False
        self.has_summary = False
        self.summary: Text | None = None

    def store(self, field: str, value: object, depth: int) -> None:
        """A shallower or equally deep value replaces an earlier one; a deeper one does not."""
        old = self.depths.get(field)
        if old is None or depth <= old:
            self.depths[field] = depth
            setattr(self.raw, field, value)


class _Reader:
    def __init__(self, url: str, kind: str) -> None:
        self.base = url
        self.atom = kind == "atom"
        self.feed = RawFeed(kind)
        self.feed_ctx = _Context(self.feed)
        self.in_image = 0

    # ----- text constructs -----

    def construct(self, el: Any, default_type: str) -> tuple[str, str]:
        """(value, MIME type) of a text construct: markup children serialised, base64 decoded."""
        ctype = (_attr(el, "type") or default_type).lower()
        ctype = _MAP_TYPE.get(ctype, ctype)
        mode = _attr(el, "mode")
        if len(el) and not ctype.endswith("xml") and all(_is_bare_div(child) for child in el):
            # Escaped HTML wrapped in a <div> (TypePad does this): the div is a wrapper, its text the HTML.
            value = (el.text or "") + "".join((child.text or "") + (child.tail or "") for child in el)
        elif len(el):
            # Markup inside the element: feedparser serialises it back and calls it XHTML.
            parts = [escape(el.text or "", quote=False)]
            parts += [etree.tostring(child, encoding="unicode", with_tail=True) for child in el]
            value = "".join(parts)
            if not ctype.endswith("xml"):
                ctype = "application/xhtml+xml"
        else:
            value = el.text or ""
            if ctype == "application/xhtml+xml":
                value = escape(value, quote=False)
        value = value.strip()
        if mode == "base64" or not (ctype.startswith("text/") or ctype.endswith("xml")):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                value = base64.decodebytes(value.encode("utf-8")).decode("utf-8")
        if not self.atom and ctype == "text/plain" and looks_like_html(value):
            ctype = "text/html"
        return value, ctype

    def text(self, el: Any, default_type: str) -> Text:
        value, ctype = self.construct(el, default_type)
        return value, kind_of(ctype)

    # ----- the walk -----

    def walk(self, el: Any, base: str, depth: int, ctx: _Context | None) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = _name(child)
            xml_base = child.get(XML_BASE) or child.get("base")
            cbase = base
            if xml_base:
                cbase = (make_safe_absolute_uri(base, xml_base) or base) if base else _resolve("", xml_base)
            if name in _ENTRY:
                self.entry(child, cbase, depth + 1)
            elif name == "channel":
                self.walk(child, cbase, depth + 1, self.feed_ctx)
            elif name == "image" and ctx is not None and isinstance(ctx.raw, RawEntry):
                self.in_image += 1  # an image inside an item still gives feedparser the item's title
                self.walk(child, cbase, depth + 1, ctx)
                self.in_image -= 1
            elif name in _SKIP:
                continue
            elif ctx is None:
                self.walk(child, cbase, depth + 1, None)  # outside channel/feed, only entries count
            elif not self.element(child, name, cbase, depth + 1, ctx):
                self.walk(child, cbase, depth + 1, ctx)

    def entry(self, el: Any, base: str, depth: int) -> None:
        raw = RawEntry()
        ctx = _Context(raw)
        about = el.get(RDF_ABOUT)
        if about:
            raw.id = about
        self.walk(el, base, depth, ctx)
        self.feed.entries.append(raw)

    def element(self, el: Any, name: str, base: str, depth: int, ctx: _Context) -> bool:
        """Read one element into the feed or entry; False when it is not one we read (walk into it)."""
        raw = ctx.raw
        entry = isinstance(raw, RawEntry)
        if name in _TITLE or name == "media:title":
            value = self.text(el, "text/plain")
            if -1 < ctx.title_depth <= depth:
                return True
            ctx.store("title", value, depth)
            if value[0] and name != "media:title":  # media:title never stops a later title
                ctx.title_depth = depth
        elif name in _DESCRIPTION or name in _SUMMARY:
            default = "text/html" if name in _DESCRIPTION else "text/plain"
            if not entry:  # a feed's description is its subtitle; a feed-level summary stands in for one
                if name in _DESCRIPTION:
                    ctx.store("subtitle", self.text(el, default), depth)
                else:
                    ctx.summary = self.text(el, default)
            elif ctx.has_summary and not ctx.has_content:
                self.content(el, "text/plain", ctx, depth, has_content=True)
            else:
                ctx.store("summary", self.text(el, default), depth)
                ctx.has_summary = True
        elif name in _SUBTITLE:
            if not entry:
                ctx.store("subtitle", self.text(el, "text/plain"), depth)
        elif name in _CONTENT:
            self.content(el, _CONTENT[name], ctx, depth, has_content=True)
        elif name in _BODY:
            self.content(el, "application/xhtml+xml", ctx, depth, has_content=False)
        elif name == "link":
            self.link(el, base, ctx)
        elif name in ("guid", "id"):
            permalink = (_attr(el, "ispermalink") or "true") == "true"
            ident = repair((el.text or "").strip())
            if permalink and ident:
                ident = _resolve(base, ident)
            ctx.store("id", ident, depth)
            if permalink and raw.link is None:
                raw.link, raw.id_is_link = ident, True
        elif name in _PUBLISHED:
            raw.published = parse_date(el.text)
        elif name in _UPDATED:
            raw.updated = parse_date(el.text)
        elif name in _CREATED:
            raw.created = parse_date(el.text)
        elif name in _AUTHOR:
            if isinstance(raw, RawEntry):  # `entry`, said so that the checker sees raw's type
                self.author(el, raw)
        elif name == "ttl" and not entry:
            self.feed.ttl = (el.text or "").strip() or None
        else:
            return False
        return True

    def content(self, el: Any, default_type: str, ctx: _Context, depth: int, *, has_content: bool) -> None:
        value, ctype = self.construct(el, default_type)
        if has_content:
            ctx.has_content = True
        raw = ctx.raw
        if isinstance(raw, RawEntry):
            text = (value, kind_of(ctype))
            if raw.content is NO_TEXT:
                raw.content = text
            # feedparser copies content to a summary the entry lacks
            if (ctype == "text/plain" or kind_of(ctype) == "html") and not ctx.has_summary:
                raw.summary = text
                ctx.has_summary = True

    def link(self, el: Any, base: str, ctx: _Context) -> None:
        raw = ctx.raw
        href = _attr(el, "url")
        href = _attr(el, "uri") if href is None else href
        href = _attr(el, "href") if href is None else href
        rel = _attr(el, "rel")
        rel = "alternate" if rel is None else rel.lower()
        if href is not None:
            href = _resolve(base, href)
            if rel == "alternate":
                ctype = (_attr(el, "type") or "text/html").lower()
                if _MAP_TYPE.get(ctype, ctype) in ("text/html", "application/xhtml+xml"):
                    raw.link, raw.id_is_link = href, False
            elif rel == "hub" and raw is self.feed and not self.feed.hub:
                self.feed.hub = href
            elif rel == "self" and raw is self.feed and not self.feed.self_url:
                self.feed.self_url = href
            return
        if self.in_image:
            return
        value = "".join(el.itertext()).strip()
        if value:
            value = _AMP_REF.sub(r"&\g<1>", _resolve(base, value).replace("&amp;", "&"))
        raw.link, raw.id_is_link = repair(value), False

    def author(self, el: Any, raw: RawEntry) -> None:
        if len(el):  # Atom: name and email children
            name = email = ""
            for child in el:
                if isinstance(child.tag, str):
                    sub = _name(child)
                    if sub in ("name", "itunes:name"):
                        name = (child.text or "").strip()
                    elif sub in ("email", "itunes:email"):
                        email = (child.text or "").strip()
            raw.author = f"{name} ({email})" if name and email else (name or email or raw.author)
        else:
            raw.author = (el.text or "").strip()


# References XML does not define but HTML does (&nbsp; &eacute;...), and bare ampersands (?a=1&b=2), are
# the commonest reasons a feed is not well-formed; outside CDATA sections and comments they are rewritten
# (as feedparser's loose parser reads them) and the document parsed again.
_REFERENCE = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)(?:(\w+);)?")


def _reference(m: re.Match[str]) -> str:
    name = m.group(1)
    if name is None:
        return "&amp;"
    code = html.entities.name2codepoint.get(name)
    return f"&#{code};" if code else f"&amp;{name};"


def _rewrite_references(text: str) -> str:
    """The document with HTML entities and bare ampersands made XML, CDATA and comments untouched.

    One pass from left to right (each find starts where the last ended), so no input makes it quadratic."""
    out: list[str] = []
    pos, n = 0, len(text)
    while pos < n:
        opening = text.find("<!", pos)
        if opening < 0:
            out.append(_REFERENCE.sub(_reference, text[pos:]))
            break
        out.append(_REFERENCE.sub(_reference, text[pos:opening]))
        if text.startswith("<![CDATA[", opening):
            end = text.find("]]>", opening + 9)
        elif text.startswith("<!--", opening):
            end = text.find("-->", opening + 4)
        else:
            out.append("<!")
            pos = opening + 2
            continue
        if end < 0:
            out.append(text[opening:])
            break
        out.append(text[opening : end + 3])
        pos = end + 3
    return "".join(out)


def _parse(text: str) -> Any:
    try:
        return etree.fromstring(text.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        if "Entity" not in str(exc) and "entity" not in str(exc):
            return None
    try:
        return etree.fromstring(_rewrite_references(text).encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError:
        return None


def parse_fast(text: str, *, url: str) -> RawFeed | None:
    """Read a well-formed feed with lxml; None means "not well-formed or not a feed: use feedparser"."""
    root = _parse(text)
    if root is None:
        return None
    name = _name(root)
    if name == "feed":
        kind = "atom"
    elif name in ("rss", "rdf:rdf"):
        kind = "rss"
    else:
        return None
    reader = _Reader(url, kind)
    base = url
    xml_base = root.get(XML_BASE)
    if xml_base:
        base = (make_safe_absolute_uri(base, xml_base) or base) if base else xml_base
    reader.walk(root, base, 1, reader.feed_ctx if kind == "atom" else None)
    feed = reader.feed
    if feed.subtitle is NO_TEXT and reader.feed_ctx.summary is not None:
        feed.subtitle = reader.feed_ctx.summary
    return feed
