"""Tokenisation shared by queries and documents, and compiled word patterns.

Words are runs of letters and digits (Unicode word boundaries: Latin, Cyrillic, Greek, ...); every
Chinese, Japanese or Korean character is a token of its own, so CJK terms match as character
sequences and NEAR/n counts characters in those scripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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


@lru_cache(maxsize=1 << 16)
def term_pattern(text: str, case: str) -> tuple[WordPat, ...]:
    """Compile a term's text into word patterns, validating wildcards (cached: rules repeat terms)."""
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
        words.append(WordPat(normalize(word), prefix, word if sensitive else None))
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


# -- length-preserving normalisation for the automaton ------------------------------------------------
# Document text is lower-cased and every non-word character becomes a space, character for character,
# so automaton offsets are offsets into the original string (no mapping tables on the hot path).
_ASCII_SEP = bytes(b if (chr(b).isalnum() or b >= 0x80) else 0x20 for b in range(256))
_NONASCII_SEP = re.compile(r"[^\x00-\x7f\w]|_")
_SPACE_CJK = re.compile(rf"[{CJK}]")


def normalize(text: str) -> str:
    """Lower-case `text` and turn non-word characters into spaces, keeping its length."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    if low.isascii():
        return low.encode("ascii").translate(_ASCII_SEP).decode("ascii")
    low = low.encode("utf-8").translate(_ASCII_SEP).decode("utf-8")
    return _NONASCII_SEP.sub(" ", low)


def blank_cjk(norm: str) -> str:
    """The normalised text with CJK characters as spaces: lets Latin words touching CJK match."""
    return _SPACE_CJK.sub(" ", norm)


@dataclass(frozen=True)
class CompiledTerm:
    """How one term is found: automaton key, then optional case checks and a tail regex."""

    key: str
    lead: int  # 1 when the key starts with a framing space
    body: int  # characters of the key after the lead, without the trailing frame
    checks: tuple[
        tuple[int, str], ...
    ]  # (offset from the start, exact text) for case-sensitive words in the key
    tail: re.Pattern[str] | None  # rest of the term after a prefix word, on the normalised text
    tail_checks: tuple[tuple[int, str, bool], ...]  # (group, exact text, prefix) for words in the tail
    has_cjk: bool

    @property
    def simple(self) -> bool:
        """True when an automaton hit is a term hit without further checks."""
        return not self.checks and self.tail is None


_WORD_REST = f"[^ {CJK}]*"


def compile_term(text: str, pattern: tuple[WordPat, ...]) -> CompiledTerm:
    """Build the automaton key and checks of a term (text as written, pattern from term_pattern)."""
    plain = text.replace("*", "")
    toks = list(TOKEN_RE.finditer(plain))
    norm = normalize(plain)
    base = toks[0].start()
    # Key: words up to and including the first prefix word.
    k = next((i for i, w in enumerate(pattern) if w.prefix), len(pattern) - 1)
    key_end = toks[k].end()
    body = norm[base:key_end]
    first_cjk = bool(CJK_RE.match(toks[0].group()))
    last_cjk = bool(CJK_RE.match(toks[k].group()))
    lead = "" if first_cjk else " "
    trail = "" if (pattern[k].prefix or last_cjk or k < len(pattern) - 1) else " "
    if k < len(pattern) - 1 and not last_cjk:
        trail = ""
    checks = tuple((toks[i].start() - base, w.cased) for i, w in enumerate(pattern[: k + 1]) if w.cased)
    tail = None
    tail_checks: list[tuple[int, str, bool]] = []
    if pattern[k].prefix or k < len(pattern) - 1:
        parts = [_WORD_REST if pattern[k].prefix else ""]
        for j in range(k + 1, len(pattern)):
            sep = norm[toks[j - 1].end() : toks[j].start()]
            parts.append(
                re.escape(sep)
                + "("
                + re.escape(pattern[j].norm)
                + (_WORD_REST if pattern[j].prefix else "")
                + ")"
            )
            if pattern[j].cased:
                tail_checks.append((j - k, pattern[j].cased, pattern[j].prefix))
        if not pattern[-1].prefix and not CJK_RE.match(toks[-1].group()):
            parts.append(f"(?=[ {CJK}]|$)")
        tail = re.compile("".join(parts))
    has_cjk = any(CJK_RE.match(t.group()) for t in toks)
    return CompiledTerm(lead + body + trail, len(lead), len(body), checks, tail, tuple(tail_checks), has_cjk)


_GAP_CACHE: dict[int, re.Pattern[str]] = {}


def within_words(norm: str, start: int, end: int, n: int) -> bool:
    """True when the normalised text between `start` and `end` holds at most `n` words."""
    rx = _GAP_CACHE.get(n)
    if rx is None:
        rx = _GAP_CACHE[n] = re.compile(rf"(?: *(?:[{CJK}]|[^ {CJK}]+)){{0,{n}}} *")
    m = rx.match(norm, start, end)
    return m is not None and m.end() >= end
