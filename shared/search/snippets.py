"""Highlighted snippets of search results: which words a query hit, as offsets, and a window around them.

Offsets rather than markup: the page inserts text and wraps the given ranges, so nothing in an article is
ever read as markup. Words are compared as the index compares them: normal form, stemmed in the article's
configuration (so "summits" lights up "summit" in English text and "Путина" lights up "Путин").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
        # word forms as written (before case folding) already judged, those of them that are hits and those
        # that are a phrase's first word; replaced (never cleared) when too many, so a thread holding the old
        # ones reads them consistently
        self.forms: tuple[set[str], set[str], set[str]] = (set(), set(), set())
        self.firsts = frozenset(p[0] for p in want.phrases)

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
        # the distinct words first (C speed), then only the hits' offsets, by a pattern of the forms: of every
        # hit form met so far (the same matches in this text as of its own hit forms, and one pattern to
        # compile per marker and form met, not one per text: compiling was a fifth of a cold page's CPU)
        words = set(TOKEN_RE.findall(folded.text))
        seen, hit_forms, head_forms = self.forms
        new = words - seen
        if new:
            if len(seen) > self.MAX_WORDS:
                seen, hit_forms, head_forms = self.forms = (set(), set(), set())
                new = words
            hit_forms.update([w for w in new if is_hit(w.casefold())])  # hits first: then seen
            if self.firsts:
                head_forms.update([w for w in new if self.stem(w.casefold()) in self.firsts])
            seen |= new
        any_hit = not words.isdisjoint(hit_forms)
        if not want.phrases:
            if not any_hit:
                return found
            for start, end in _whole(frozenset(hit_forms), folded.text):
                _add(found, (start, end) if folded.identity else folded.span(start, end))
            return found
        # phrases: the single-word hits, plus the tokens of each phrase read from where its first word occurs
        # (stemming every token of the text was most of a phrase search's CPU)
        marked: set[tuple[int, int]] = set()
        if any_hit:
            marked.update(_whole(frozenset(hit_forms), folded.text))
        if not words.isdisjoint(head_forms):
            longest = max(len(p) for p in want.phrases)
            for head, _end in _whole(frozenset(head_forms), folded.text):
                toks: list[re.Match[str]] = []
                for t in TOKEN_RE.finditer(folded.text, head):
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


_WORD_CHAR = re.compile(f"[^\\W_{CJK}]")  # a character of a (non-CJK) word token: TOKEN_RE's second branch


def _whole(forms: frozenset[str], text: str) -> Iterator[tuple[int, int]]:
    """Where these token forms occur as whole tokens of TOKEN_RE: a word form not inside a longer run of
    word characters; a CJK character (a token on its own) anywhere.

    The pattern has no look-arounds: the boundaries are checked here. A word candidate that fails them is
    no token, nor is any other form at its start (a shorter one is followed by a word character of the
    longer) or inside it (preceded by one), so skipping past it loses nothing. (The look-arounds' character
    class made compiling a pattern cost ~3 ms: a fifth of a first search's CPU.)"""
    n = len(text)
    for m in _pattern(forms).finditer(text):
        s, e = m.span()
        cjk = e - s == 1 and CJK_RE.match(text, s) is not None
        alone = (s == 0 or not _WORD_CHAR.match(text, s - 1)) and (e == n or not _WORD_CHAR.match(text, e))
        if cjk or alone:
            yield s, e


@lru_cache(maxsize=1024)
def _pattern(forms: frozenset[str]) -> re.Pattern[str]:
    """Any of these forms, longer words first, and any of their CJK characters."""
    words = sorted((f for f in forms if not CJK_RE.fullmatch(f)), key=lambda f: (-len(f), f))
    chars = "".join(re.escape(f) for f in sorted(forms) if CJK_RE.fullmatch(f))
    parts = [re.escape(w) for w in words]
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
