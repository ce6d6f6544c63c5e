"""Highlighted snippets of search results: which words a query hit, as offsets, and a window around them.

Offsets rather than markup: the page inserts text and wraps the given ranges, so nothing in an article is
ever read as markup. Words are compared as the index compares them: normal form, stemmed in the article's
configuration (so "summits" lights up "summit" in English text and "Путина" lights up "Путин").
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.search.syntax import Node, Wanted, wanted
from shared.search.text import Token, stem, tokens

SCAN_CHARS = 50_000  # highlighting reads the text's beginning only: snippets come from there
FIRST_SCAN = 2_000  # read this much first, then four times more while the window could reach past it
MARGIN = 200  # words this close to where a read stops may be cut: the window must end before them
BEFORE = 80
WIDTH = 240


@dataclass(frozen=True)
class Highlighted:
    """A piece of text and the [start, end) ranges in it that the query hit."""

    text: str
    highlights: list[tuple[int, int]]


def hits(toks: list[Token], config: str, want: Wanted) -> list[tuple[int, int]]:
    """Spans of the tokens the query's positive words hit (phrases need their words side by side)."""
    if not toks:
        return []
    stems = [stem(t.norm, config) for t in toks]
    marked = [False] * len(toks)
    for i, s in enumerate(stems):
        if s in want.stems or any(s.startswith(p) for p in want.prefixes):
            marked[i] = True
    for phrase in want.phrases:
        n = len(phrase)
        for i in range(len(stems) - n + 1):
            if tuple(stems[i : i + n]) == phrase:
                for j in range(i, i + n):
                    marked[j] = True
    spans: list[tuple[int, int]] = []
    for t, m in zip(toks, marked, strict=True):
        if not m:
            continue
        if spans and spans[-1][1] == t.start:  # adjacent hits (Chinese characters) read as one
            spans[-1] = (spans[-1][0], t.end)
        else:
            spans.append((t.start, t.end))
    return spans


def highlight_title(title: str, config: str, node: Node | None) -> Highlighted:
    """The whole title with its hits."""
    return Highlighted(title, hits(tokens(title), config, wanted(node, config)))


def _spans(text: str, config: str, want: Wanted) -> list[tuple[int, int]]:
    """The hits that can matter for the snippet: tokenising and stemming 50,000 characters of each result
    was most of a search's time, while the first hit is usually in the first paragraph. The text is read
    in growing prefixes; once the first hit's window (at most WIDTH after it) ends MARGIN before the end of
    the prefix read, every hit in the window is what the whole text gives (hits past it are dropped)."""
    total = min(len(text), SCAN_CHARS)
    cut = min(total, FIRST_SCAN)
    while True:
        spans = hits(tokens(text, limit=cut), config, want)
        if cut >= total or (spans and spans[0][0] + WIDTH + MARGIN <= cut):
            return spans
        cut = min(total, cut * 4)


def snippet(text: str, config: str, node: Node | None) -> Highlighted:
    """A window of about WIDTH characters around the first hit (the beginning when none), with its hits."""
    spans = _spans(text, config, wanted(node, config)) if node is not None else []
    first = spans[0][0] if spans else 0
    start = max(0, first - BEFORE)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + WIDTH)
    if end < len(text):
        space = text.rfind(" ", max(start, spans[0][1] if spans else start), end)
        end = space if space > start else end
    body = text[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [(s + shift, e + shift) for s, e in spans if s >= start and e <= end]
    return Highlighted(prefix + body + suffix, inside)
