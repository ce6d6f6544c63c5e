"""Highlighted snippets of search results: which words a query hit, as offsets, and a window around them.

Offsets rather than markup: the page inserts text and wraps the given ranges, so nothing in an article is
ever read as markup. Words are compared as the index compares them: normal form, stemmed in the article's
configuration (so "summits" lights up "summit" in English text and "Путина" lights up "Путин").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from shared.folding import fold_with_offsets
from shared.rules.text import CJK, CJK_RE, TOKEN_RE
from shared.search.syntax import Node, Wanted, wanted
from shared.search.text import Token, stem

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


class _Marker:
    """`hits(tokens(text), ...)` without a Token per word: a search page's snippets were most of its CPU.

    One per (configuration, wanted): remembers each word's stem and whether it is a hit, so a page's (and
    the next page's) repeated words cost a dict look-up; the match objects are read for offsets only."""

    MAX_WORDS = 50_000  # forget the remembered words past this (a long-lived marker stays bounded)

    def __init__(self, config: str, want: Wanted) -> None:
        self.config = config
        self.want = want
        self.stems: dict[str, str] = {}
        self.hit: dict[str, bool] = {}
        # word forms as written (before case folding) already judged, and those of them that are hits;
        # replaced (never cleared) when too many, so a thread holding the old pair reads it consistently
        self.forms: tuple[set[str], set[str]] = (set(), set())

    def is_hit(self, norm: str) -> bool:
        found = self.hit.get(norm)
        if found is None:
            if len(self.hit) > self.MAX_WORDS:
                self.hit.clear()
            s = self.stem(norm)
            found = s in self.want.stems or any(s.startswith(p) for p in self.want.prefixes)
            self.hit[norm] = found
        return found

    def stem(self, norm: str) -> str:
        s = self.stems.get(norm)
        if s is None:
            if len(self.stems) > self.MAX_WORDS:
                self.stems.clear()
            s = self.stems[norm] = stem(norm, self.config)
        return s

    def spans(self, text: str, limit: int | None = None) -> list[tuple[int, int]]:
        """Exactly `hits(tokens(text, limit=limit), config, want)`."""
        want = self.want
        if not want.stems and not want.prefixes and not want.phrases:
            return []
        if limit is not None and len(text) > limit:
            text = text[:limit]
        folded = fold_with_offsets(text)
        found: list[tuple[int, int]] = []
        is_hit = self.is_hit
        # the distinct words first (C speed), then only the hits' offsets, by a pattern of their forms
        words = set(TOKEN_RE.findall(folded.text))
        seen, hit_forms = self.forms
        new = words - seen
        if new:
            if len(seen) > self.MAX_WORDS:
                seen, hit_forms = self.forms = (set(), set())
                new = words
            hit_forms.update([w for w in new if is_hit(w.casefold())])  # hits first: then seen
            seen |= new
        forms = frozenset(words & hit_forms)
        if not want.phrases:
            if not forms:
                return found
            for m in _pattern(forms).finditer(folded.text):
                _add(found, m.span() if folded.identity else folded.span(m.start(), m.end()))
            return found
        # phrases: the single-word hits, plus the tokens of each phrase read from where its first word occurs
        # (stemming every token of the text was most of a phrase search's CPU)
        marked: set[tuple[int, int]] = set()
        if forms:
            marked.update(m.span() for m in _pattern(forms).finditer(folded.text))
        firsts = {p[0] for p in want.phrases}
        heads = frozenset(w for w in words if self.stem(w.casefold()) in firsts)
        if heads:
            longest = max(len(p) for p in want.phrases)
            for m in _pattern(heads).finditer(folded.text):
                toks: list[re.Match[str]] = []
                for t in TOKEN_RE.finditer(folded.text, m.start()):
                    toks.append(t)
                    if len(toks) == longest:
                        break
                stems = [self.stem(t.group().casefold()) for t in toks]
                for phrase in want.phrases:
                    n = len(phrase)
                    if tuple(stems[:n]) == phrase:
                        marked.update(t.span() for t in toks[:n])
        for s, e in sorted(marked):
            _add(found, (s, e) if folded.identity else folded.span(s, e))
        return found


def _add(spans: list[tuple[int, int]], span: tuple[int, int]) -> None:
    if spans and spans[-1][1] == span[0]:  # adjacent hits (Chinese characters) read as one
        spans[-1] = (spans[-1][0], span[1])
    else:
        spans.append(span)


_WORD = f"[^\\W_{CJK}]"  # a character of a (non-CJK) word token: TOKEN_RE's second branch


@lru_cache(maxsize=1024)
def _pattern(forms: frozenset[str]) -> re.Pattern[str]:
    """Where these token forms occur as whole tokens of TOKEN_RE: a word form not inside a longer run of
    word characters; a CJK character (a token on its own) anywhere."""
    words = sorted((f for f in forms if not CJK_RE.fullmatch(f)), key=lambda f: (-len(f), f))
    chars = "".join(re.escape(f) for f in sorted(forms) if CJK_RE.fullmatch(f))
    parts = []
    if words:
        parts.append(f"(?<!{_WORD})(?:{'|'.join(re.escape(w) for w in words)})(?!{_WORD})")
    if chars:
        parts.append(f"[{chars}]")
    return re.compile("|".join(parts))


@lru_cache(maxsize=256)
def _marker(config: str, want: Wanted) -> _Marker:
    return _Marker(config, want)


def marker(node: Node | None, config: str) -> _Marker:
    """The (shared) marker of a query in one configuration."""
    return _marker(config, wanted(node, config))


def highlight_title(title: str, config: str, node: Node | None) -> Highlighted:
    """The whole title with its hits."""
    return Highlighted(title, marker(node, config).spans(title))


def _spans(text: str, mark: _Marker) -> list[tuple[int, int]]:
    """The hits that can matter for the snippet: tokenising and stemming 50,000 characters of each result
    was most of a search's time, while the first hit is usually in the first paragraph. The text is read
    in growing prefixes; once the first hit's window (at most WIDTH after it) ends MARGIN before the end of
    the prefix read, every hit in the window is what the whole text gives (hits past it are dropped)."""
    total = min(len(text), SCAN_CHARS)
    cut = min(total, FIRST_SCAN)
    while True:
        spans = mark.spans(text, limit=cut)
        if cut >= total or (spans and spans[0][0] + WIDTH + MARGIN <= cut):
            return spans
        cut = min(total, cut * 4)


def snippet(text: str, config: str, node: Node | None) -> Highlighted:
    """A window of about WIDTH characters around the first hit (the beginning when none), with its hits."""
    return window(text, _spans(text, marker(node, config)) if node is not None else [])


def window(text: str, spans: list[tuple[int, int]]) -> Highlighted:
    """The window of about WIDTH characters around the first of `spans` (sorted hits), with the hits in it."""
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
