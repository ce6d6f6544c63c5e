"""Tokenisation shared by queries and documents: word patterns of terms and normalised text.

Words are runs of letters and digits (Unicode word boundaries: Latin, Cyrillic, Greek, ...); every
Chinese, Japanese or Korean character is a token of its own, so CJK terms match as character
sequences and NEAR/n counts characters in those scripts. Traditional Chinese is folded to Simplified on
both sides (terms and documents, shared/folding.py), so a rule in either script matches text in either.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from functools import lru_cache

from shared.folding import Folded, fold, fold_with_offsets, has_han
from shared.rules._core import normalize_table, set_normalize_table

CJK = (
    "\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
TOKEN_RE = re.compile(rf"[{CJK}]|[^\W_{CJK}]+")
CJK_RE = re.compile(rf"[{CJK}]")
MIN_STEM = 3

# Words frequent enough in news that a rule anchored on them alone fires on most articles.
_COMMON = """a an and are as at be been but by for from had has have he her his i in is it its more new not
of on one or said says that the their there they this to was we were which who will with would you
year years people also after last first two over than about up out time can told what when
и в не на что с по как это он она они его к у из за от о для же то так а но все был была было
的 了 是 在 和 有 不 这 中 人 我 他 也 就 都 而 及 与 或 年 月 日"""
COMMON_WORDS = frozenset(_COMMON.split())


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
    """Compile a term's text into word patterns, validating wildcards (cached: rules repeat terms).

    The term is folded whole (phrase-level, as documents are), so 上海合作組織 and 上海合作组织 are one term.
    """
    text = fold(text)
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


# -- length-preserving normalisation of document text ----------------------------------------------------
# Document text is lower-cased and every non-word character becomes a space, character for character,
# so token offsets are offsets into the original string (no mapping tables on the hot path).
_ASCII_SEP = bytes(b if (chr(b).isalnum() or b >= 0x80) else 0x20 for b in range(256))
_NONASCII_SEP = re.compile(r"[^\x00-\x7f\w]|_")


def normalize(text: str) -> str:
    """Lower-case `text` and turn non-word characters into spaces, keeping its length.

    1- and 2-byte strings go through a table in C (one pass, built from `normalize_general` below on first
    use); the rest, and the few characters the table cannot hold, take the general path."""
    if _TABLE is None:
        _install_table()
    out = normalize_table(text)
    return normalize_general(text) if out is None else out


def normalize_general(text: str) -> str:
    """`normalize` in Python: the reference of the table (tests compare them)."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return _separators(low)


def _separators(low: str) -> str:
    if low.isascii():
        return low.encode("ascii").translate(_ASCII_SEP).decode("ascii")
    low = low.encode("utf-8").translate(_ASCII_SEP).decode("utf-8")
    return _NONASCII_SEP.sub(" ", low)


_TABLE: bytes | None = None
_GENERAL = 0xFFFF  # the table's mark of a code point only the general path knows


def _install_table() -> None:
    """Each BMP code point normalised alone. Lower case is per character except for Σ (final sigma,
    which the C side leaves to the general path), and non-word characters are per character, so a
    text's normal form is its characters' forms side by side. Surrogates are left to the general path
    (which fails on them as before)."""
    global _TABLE
    chars = [chr(c) for c in range(0x10000)]
    chars[0xD800:0xE000] = [" "] * 0x800
    lowered = [c.lower() for c in chars]
    one = "".join(lo if len(lo) == 1 else c for c, lo in zip(chars, lowered, strict=True))
    forms = [ord(c) for c in _separators(one)]
    for c in range(0xD800, 0xE000):
        forms[c] = _GENERAL
    forms = [f if f < _GENERAL else _GENERAL for f in forms]
    table = array("H", forms).tobytes()
    set_normalize_table(table)
    _TABLE = table


def prepare(text: str) -> tuple[str, str, Folded | None]:
    """A field as the C matcher reads it: (text, normalised and folded text, offsets map or None).

    The check for Han runs on the normalised text, which for English is ASCII (so it costs an `isascii`).
    Folding keeps the length (OpenCC's t2s maps character to character), so offsets into the normalised text
    are offsets into the original; when a conversion changes the length, the matcher reads the folded text
    and the returned `Folded` maps its offsets back.
    """
    norm = normalize(text)
    if not has_han(norm):
        return text, norm, None
    folded = fold(norm)
    if len(folded) == len(norm):
        return text, folded, None
    f = fold_with_offsets(text)
    return f.text, normalize(f.text), f


def tokens(norm: str) -> list[str]:
    """The words of a normalised text as the matcher sees them: every CJK character one word."""
    return norm.split() if norm.isascii() else TOKEN_RE.findall(norm)
