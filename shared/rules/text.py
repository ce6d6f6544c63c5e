"""Tokenisation shared by queries and documents, and compiled word patterns.

Words are runs of letters and digits (Unicode word boundaries: Latin, Cyrillic, Greek, ...); every
Chinese, Japanese or Korean character is a token of its own, so CJK terms match as character
sequences and NEAR/n counts characters in those scripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CJK = (
    "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
TOKEN_RE = re.compile(rf"[{CJK}]|[^\W_{CJK}]+")
CJK_RE = re.compile(rf"[{CJK}]")
MIN_STEM = 3


@dataclass(frozen=True)
class WordPat:
    """One word of a term: lower-cased text, prefix match or not, and the exact form when case matters."""

    norm: str
    prefix: bool
    cased: str | None


class TermTextError(ValueError):
    """A term that cannot become a pattern; `offset` points into the term text."""

    def __init__(self, message: str, offset: int, expected: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.expected = expected


def is_caps(word: str) -> bool:
    """True for a word written in capitals with at least two letters (SCO, RATS, ШОС)."""
    return sum(c.isalpha() for c in word) >= 2 and word.upper() == word and word.lower() != word


def term_pattern(text: str, case: str) -> tuple[WordPat, ...]:
    """Compile a term's text into word patterns, validating wildcards."""
    matches = list(TOKEN_RE.finditer(text))
    if not matches:
        raise TermTextError("term has no letters or digits", 0, "a word")
    ends = {m.end(): m for m in matches}
    for star in (i for i, c in enumerate(text) if c == "*"):
        m = ends.get(star)
        if m is None:
            raise TermTextError("'*' must directly follow a word", star, "a word before '*'")
        if TOKEN_RE.match(text, star + 1):
            raise TermTextError("'*' is allowed only at the end of a word", star, "end of word after '*'")
        if CJK_RE.match(m.group()):
            raise TermTextError("no wildcard after Chinese, Japanese or Korean characters", star, "a word")
        if len(m.group()) < MIN_STEM:
            raise TermTextError(
                f"wildcard stem {m.group()!r} is shorter than {MIN_STEM} characters",
                m.start(),
                f"at least {MIN_STEM} characters before '*'",
            )
    words = []
    for m in matches:
        word = m.group()
        prefix = text[m.end() : m.end() + 1] == "*"
        sensitive = case == "exact" or (case == "auto" and is_caps(word))
        words.append(WordPat(word.lower(), prefix, word if sensitive else None))
    return tuple(words)


def ac_key(pattern: tuple[WordPat, ...]) -> tuple[str, bool]:
    """The automaton key for a pattern and whether a hit on it needs checking against the tokens.

    The key is the lower-cased words up to the first prefix word, framed by spaces the way document
    text is joined, so a key can only match at word boundaries.
    """
    parts = []
    last_prefix = False
    for w in pattern:
        parts.append(w.norm)
        if w.prefix:
            last_prefix = True
            break
    key = " " + " ".join(parts) + ("" if last_prefix else " ")
    verify = len(parts) < len(pattern) or any(w.cased is not None for w in pattern)
    return key, verify


def verify_at(pattern: tuple[WordPat, ...], tokens: list[str], start: int) -> bool:
    """Check a pattern against the original tokens starting at token `start`."""
    if start + len(pattern) > len(tokens):
        return False
    for i, w in enumerate(pattern):
        tok = tokens[start + i]
        if w.cased is not None:
            if not (tok.startswith(w.cased) if w.prefix else tok == w.cased):
                return False
        else:
            low = tok.lower()
            if not (low.startswith(w.norm) if w.prefix else low == w.norm):
                return False
    return True
