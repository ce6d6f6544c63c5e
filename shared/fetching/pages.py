"""Full-text extraction of article pages with trafilatura; the feed's summary survives a failed extraction.

`extract_page` never raises on bad HTML: it returns `ExtractedPage(ok=False, text=<summary>)` instead, so a
feed entry always has text to match against.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import py3langid
import trafilatura

from shared.fetching.feeds import decode_document
from shared.ingestion.canonical import extract_canonical_link

__all__ = ["MIN_TEXT_CHARS", "ExtractedPage", "extract_page", "needs_extraction"]

log = logging.getLogger(__name__)
MIN_TEXT_CHARS = 200
# trafilatura logs every page it cannot parse at WARNING; one bad page is not an operator's problem.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


@dataclass
class ExtractedPage:
    """What a page gave us; `ok` is False when the text fell back to the summary."""

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    ok: bool = False
    error: str | None = None


def needs_extraction(summary: str, content: str, *, min_chars: int = MIN_TEXT_CHARS * 3) -> bool:
    """True when the entry carries only a summary (no full content worth keeping)."""
    return len(content or "") < min_chars and len(summary or "") < min_chars * 2


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (py3langid), None for too little text."""
    sample = text[:5000].strip()
    if len(sample) < 20:
        return None
    return str(py3langid.classify(sample)[0])


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def extract_page(
    content: bytes | str,
    *,
    url: str,
    summary: str = "",
    content_type: str | None = None,
    now: datetime | None = None,
) -> ExtractedPage:
    """Extract text, title, author, date, language and canonical URL; falls back to the summary."""
    html = content if isinstance(content, str) else decode_document(content, content_type)[0]
    canonical = extract_canonical_link(html, url)
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=False, fast=True
        )
    except Exception as exc:  # trafilatura raises a wide range of parser errors on hostile markup
        log.info("extraction failed for %s: %s", url, exc)
        doc = None
        error: str | None = f"{type(exc).__name__}: {exc}"
    else:
        error = None if doc is not None else "no main text found"
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(text) < MIN_TEXT_CHARS and len(text) <= len(summary):
        return ExtractedPage(
            text=summary,
            canonical_url=canonical,
            language=detect_language(summary),
            ok=False,
            error=error or "extracted text shorter than the summary",
        )
    published = _date(getattr(doc, "date", None))
    if published is not None and now is not None:
        published = min(published, now)
    return ExtractedPage(
        text=text,
        title=getattr(doc, "title", None) or None,
        author=getattr(doc, "author", None) or None,
        published=published,
        language=getattr(doc, "language", None) or detect_language(text),
        canonical_url=canonical or getattr(doc, "url", None),
        ok=True,
    )
