"""Highlighted snippets: a window of the field around the first hit, every hit marked **like this**.

`highlight` is the reference; the matcher builds its snippets in C with the same output (_core.pyx
`snippet_of`, here as `highlight_c` for tests).
"""

from __future__ import annotations

from shared.rules._core import highlight_spans as highlight_c

MARK_OPEN = "**"
MARK_CLOSE = "**"


def highlight(text: str, spans: list[tuple[int, int]], *, before: int = 80, width: int = 240) -> str:
    """A window of `text` around the first span with all spans in the window marked."""
    if not text:
        return ""
    spans = sorted(spans)
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    first = merged[0][0] if merged else 0
    start = max(0, first - before)
    if start > 0:
        # Start at a word boundary rather than mid-word.
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(text), max(start + width, merged[0][1] if merged else 0))
    if end < len(text):
        space = text.rfind(" ", merged[0][1] if merged else start, end)
        end = space if space > start else end
    out: list[str] = ["…" if start > 0 else ""]
    pos = start
    for s, e in merged:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.extend((text[pos:s], MARK_OPEN, text[s:e], MARK_CLOSE))
        pos = e
    out.append(text[pos:end])
    if end < len(text):
        out.append("…")
    return " ".join("".join(out).split())


__all__ = ["MARK_CLOSE", "MARK_OPEN", "highlight", "highlight_c"]
