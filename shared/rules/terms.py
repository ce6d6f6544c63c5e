"""Distinct terms of a rule set: their presence keys, how they are verified, and how rare they look."""

from __future__ import annotations

import re
from itertools import pairwise

from shared.rules.stats import CJK_KEY, STEM
from shared.rules.text import CompiledTerm, WordPat, compile_term
from shared.rules.validation import COMMON_WORDS

Key = str | tuple[str, str]  # a presence key: a word, STEM/CJK_KEY + automaton key, or a word pair


class TermInfo:
    """One distinct term: its presence key, whether presence alone is a hit, and its likely frequency.

    Presence keys: a plain word is itself (set intersection with the article's words); a phrase is its
    rarest pair of adjacent plain words ("united nations", intersected with the article's word pairs),
    else its rarest plain word, else its first stem; a lone wildcard word is STEM + stem; a term with CJK
    characters is CJK_KEY + its automaton key. Phrases are verified on the text when evaluated.
    """

    __slots__ = ("_rx", "cost", "cterm", "exact", "pattern", "pkey", "stem", "tid")

    def __init__(self, tid: int, text: str, pattern: tuple[WordPat, ...]) -> None:
        self.tid = tid
        self.pattern = pattern
        self._rx: re.Pattern[str] | None = None
        self.cterm: CompiledTerm = compile_term(text, pattern)
        self.stem: str | None = None
        checks_free = not self.cterm.checks and not self.cterm.tail_checks
        if self.cterm.has_cjk:
            self.pkey = CJK_KEY + self.cterm.key
            self.exact = self.cterm.simple
            self.cost = _cost(pattern)
            return
        plain = [w for w in pattern if not w.prefix]
        pairs = [(a, b) for a, b in pairwise(pattern) if not a.prefix and not b.prefix]
        if pairs:
            # Adjacent plain words: the article's word pairs are a set too, and far rarer than words.
            a, b = min(pairs, key=lambda p: _cost(p))
            self.pkey: Key = (a.norm, b.norm)
            self.cost = _cost((a, b))
        elif plain:
            best = min(plain, key=lambda w: _cost((w,)))
            self.pkey = best.norm
            self.cost = _cost((best,))
        else:
            self.stem = pattern[0].norm
            self.pkey = STEM + self.stem
            self.cost = _cost(pattern[:1])
        # Presence is a hit when nothing is left to check: one word or a pair of plain words (pairs
        # are adjacent words whatever separates them, as phrases are), and no case rule.
        self.exact = checks_free and (
            len(pattern) == 1 or (len(pattern) == 2 and isinstance(self.pkey, tuple))
        )

    @property
    def phrase_rx(self) -> re.Pattern[str] | None:
        """For multi-word non-CJK terms: a regex over the framed normalised text, any run of separators
        between the words (so "Shanghai  Cooperation" and "Shanghai - Cooperation" match), one group per
        word for the case checks. Compiled on first use: most terms are never verified."""
        if len(self.pattern) < 2 or self.cterm.has_cjk:
            return None
        if self._rx is None:
            words = [f"({re.escape(w.norm)}{'[^ ]*' if w.prefix else ''})" for w in self.pattern]
            # A literal leading space (not a lookbehind) lets `re` jump to candidate positions fast.
            self._rx = re.compile(" " + " +".join(words) + "(?= )")
        return self._rx


def _cost(pattern: tuple[WordPat, ...]) -> float:
    # Lucene Monitor's default weighting: longer terms are rarer; prefixes and stop words match more.
    chars = sum(len(w.norm) for w in pattern)
    prefix = sum(3.0 for w in pattern if w.prefix)
    common = 20.0 if len(pattern) == 1 and pattern[0].norm in COMMON_WORDS else 1.0
    return common * (1.0 + prefix) / (chars + 4.0 * (len(pattern) - 1))


__all__ = ["Key", "TermInfo"]
