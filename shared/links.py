"""Links as the dashboard offers them: only http(s) URLs, and the source (host) an article counts for."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_MARK = re.compile(r"\*\*(.+?)\*\*", re.S)


def safe_link(url: str | None) -> str | None:
    """The URL when it is http(s), else None: nothing else (javascript:, data:…) is ever offered as a link."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def source_host(url: str | None) -> str:
    """The source an article counts for: the host of its URL without `www.` ("" for pushed text)."""
    if not url or "://" not in url:
        return ""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")[:255]


def split_marks(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    """A `**marked**` snippet (rules, alerts) as plain text and the [start, end) offsets of the marks."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = length = 0
    for m in _MARK.finditer(snippet):
        out.append(snippet[pos : m.start()])
        length += m.start() - pos
        spans.append((length, length + len(m.group(1))))
        out.append(m.group(1))
        length += len(m.group(1))
        pos = m.end()
    out.append(snippet[pos:])
    return "".join(out), spans
