"""Chinese script folding: Traditional and Simplified Chinese read as one script, offsets kept.

Hong Kong, Taiwan and overseas media write Traditional characters (上海合作組織, 習近平);
mainland media and our seeds write Simplified ones (上海合作组织, 习近平). Matching, entity linking,
backtests and search fold both sides, the text and the rule or alias, to Simplified with OpenCC's
phrase-level `t2s` conversion (its phrase dictionary first, so one-to-many characters resolve by context:
乾隆 stays 乾隆 while 乾燥 becomes 干燥), and then compare. Nothing else changes: Latin, Cyrillic, digits
and punctuation pass through untouched, and text without a Han character costs one `isascii()` or one
regex search.

Use `fold(text)` where only the folded string matters (search indexes and their queries, alias keys), and
`fold_with_offsets(text)` where positions found in the folded text must point back into the original (term
hits, snippets, entity spans). OpenCC's `t2s` maps every character to one character today, so the folded text
has the original's length and offsets are the same; a conversion that changes the length (a phrase mapped to a
longer or shorter one, as `tw2sp` does: 哈薩克 → 哈萨克斯坦) is mapped back run by run.

Full-text search: apply `fold` to the text you index and to the query, the same function on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import opencc

# Han ideographs: CJK Unified (with Extension A and B-H) and the compatibility block OpenCC normalises.
HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U000323af"
_HAN = re.compile(f"[{HAN_CHARS}]")
_HAN_RUN = re.compile(f"[{HAN_CHARS}]+")
# The OpenCC config every caller folds with. Another one (tw2sp also maps Taiwanese vocabulary) would need the
# same everywhere, the stored search index included; tests swap it to exercise length-changing conversions.
CONFIG = "t2s"

Converter = Callable[[str], str]


@lru_cache(maxsize=4)
def _opencc(config: str) -> Converter:
    return opencc.OpenCC(config).convert


def converter(config: str | None = None) -> Converter:
    """The OpenCC conversion function of a config (default CONFIG), built once per process."""
    return _opencc(config or CONFIG)


def has_han(text: str) -> bool:
    """True when the text holds a Han character (the only text folding changes)."""
    return not text.isascii() and _HAN.search(text) is not None


def fold(text: str, *, convert: Converter | None = None) -> str:
    """Return the text with Traditional Chinese folded to Simplified (unchanged when it has no Han)."""
    if not has_han(text):
        return text
    return (convert or converter())(text)


@dataclass(frozen=True)
class Folded:
    """A folded text and the way back: `starts[i]` is the original offset of folded character i."""

    original: str
    text: str
    starts: tuple[int, ...] | None = None  # None: same length, offsets identical

    @property
    def identity(self) -> bool:
        """True when offsets in the folded text are offsets in the original."""
        return self.starts is None

    def start(self, pos: int) -> int:
        """Original offset where the folded character at `pos` begins (`len` maps to the original end)."""
        if self.starts is None:
            return pos
        return self.starts[pos] if pos < len(self.text) else len(self.original)

    def end(self, pos: int) -> int:
        """Original offset where a folded span ending at `pos` ends."""
        if self.starts is None or pos <= 0:
            return pos if self.starts is None else 0
        if pos >= len(self.text):
            return len(self.original)
        # The end is where the next folded character begins, unless that one came from the same original
        # character (a one-to-many mapping): then the span ends after that original character.
        nxt, last = self.starts[pos], self.starts[pos - 1]
        return nxt if nxt > last else last + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded span [start, end)."""
        s, e = self.start(start), self.end(end)
        return s, max(s, e)


def fold_with_offsets(text: str, *, convert: Converter | None = None) -> Folded:
    """Fold `text` and keep the mapping from folded offsets to original ones."""
    if not has_han(text):
        return Folded(text, text)
    conv = convert or converter()
    folded = conv(text)
    if len(folded) == len(text):
        return Folded(text, folded)
    # The length changed: fold run by run (phrases never span a non-Han character) and align inside the runs
    # that changed length, so offsets outside them stay exact.
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for m in _HAN_RUN.finditer(text):
        parts.append(text[pos : m.start()])
        starts.extend(range(pos, m.start()))
        run = m.group()
        out = conv(run)
        parts.append(out)
        starts.extend(m.start() + i for i in _align(run, out, conv))
        pos = m.end()
    parts.append(text[pos:])
    starts.extend(range(pos, len(text)))
    return Folded(text, "".join(parts), tuple(starts))


def _align(run: str, out: str, conv: Converter) -> list[int]:
    """For each character of `out`, the index in `run` it came from (same ones exact, the rest spread)."""
    if len(run) == len(out):
        return list(range(len(out)))
    # Compare with the run folded character by character, so that 總統 lines up with 总统 and only the
    # phrases that changed length are left to spread.
    chars = [conv(c) for c in run]
    base = "".join(f if len(f) == 1 else c for f, c in zip(chars, run, strict=True))
    src: list[int] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, base, out, autojunk=False).get_opcodes():
        if tag == "equal":
            src.extend(range(i1, i2))
        elif i2 == i1:  # inserted characters belong to the character before them (the first: to the first)
            src.extend([max(i1 - 1, 0)] * (j2 - j1))
        else:  # replaced: spread the new characters evenly over the old ones
            src.extend(i1 + (k * (i2 - i1)) // (j2 - j1) for k in range(j2 - j1))
    return src


__all__ = ["CONFIG", "HAN_CHARS", "Converter", "Folded", "converter", "fold", "fold_with_offsets", "has_han"]
