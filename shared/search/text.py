"""Search text: tokens with offsets, per-language configurations and stems, and the forms that get indexed.

Tokens are those of the watch rules (shared.rules.text): runs of letters and digits, and every Chinese,
Japanese or Korean character on its own. A token's normal form is case-folded, with Chinese script folded
(Traditional = Simplified, shared.folding) on the indexed text and on the query alike, so either script
finds both; token offsets stay offsets into the original text. Each language maps to a PostgreSQL text-search
configuration and to the Snowball stemmer that configuration uses, so:

- PostgreSQL indexes `indexed_text()` (normal forms joined by spaces) with `to_tsvector(config, ...)`: the
  configuration stems (and drops its stop words);
- SQLite indexes `stemmed_text()` (the same normal forms, stemmed here with the same Snowball algorithm)
  in FTS5, whose tokenizer only splits on the spaces;
- highlighting stems the article's tokens the same way and marks those equal to a query word's stem.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import Stemmer

from shared.folding import fold_with_offsets
from shared.rules.text import CJK, TOKEN_RE

SIMPLE = "simple"
# ISO 639-1 → (PostgreSQL text-search configuration, Snowball algorithm). Both sides use Snowball, so a
# word stems alike in the database and here. Other languages (Chinese among them) use `simple`: no stems.
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("english", "english"),
    "ru": ("russian", "russian"),
    "de": ("german", "german"),
    "fr": ("french", "french"),
    "es": ("spanish", "spanish"),
    "it": ("italian", "italian"),
    "pt": ("portuguese", "portuguese"),
    "nl": ("dutch", "dutch"),
    "sv": ("swedish", "swedish"),
    "no": ("norwegian", "norwegian"),
    "da": ("danish", "danish"),
    "fi": ("finnish", "finnish"),
    "hu": ("hungarian", "hungarian"),
    "ro": ("romanian", "romanian"),
    "tr": ("turkish", "turkish"),
}
CONFIGS: tuple[str, ...] = (*dict.fromkeys(c for c, _ in LANGUAGES.values()), SIMPLE)
_STEMMER_OF = {cfg: algo for cfg, algo in LANGUAGES.values()}
_CJK_RE = re.compile(rf"[{CJK}]")
# to_tsvector refuses a document over 1 MB; an article longer than this is indexed by its beginning.
MAX_INDEXED_CHARS = 200_000


@dataclass(frozen=True)
class Token:
    """A word of the original text: [start, end) offsets and its normal form."""

    start: int
    end: int
    norm: str


def config_for(language: str | None) -> str:
    """The text-search configuration of an article language (regional forms such as en-GB included)."""
    if not language:
        return SIMPLE
    return LANGUAGES.get(language.lower().split("-")[0].split("_")[0], (SIMPLE, ""))[0]


def tokens(text: str, *, limit: int | None = None) -> list[Token]:
    """The tokens of `text` (of its first `limit` characters) with offsets into it; normal forms are
    case-folded and Traditional Chinese is folded to Simplified (shared.folding, phrase by phrase)."""
    if limit is not None and len(text) > limit:
        text = text[:limit]
    folded = fold_with_offsets(text)
    out: list[Token] = []
    for m in TOKEN_RE.finditer(folded.text):
        start, end = (m.start(), m.end()) if folded.identity else folded.span(m.start(), m.end())
        out.append(Token(start, end, m.group().casefold()))
    return out


def words(text: str) -> list[str]:
    """The normal forms of the words of a query fragment."""
    return [t.norm for t in tokens(text)]


def is_cjk(word: str) -> bool:
    """True for a single Chinese, Japanese or Korean character (never stemmed, never a prefix)."""
    return bool(_CJK_RE.fullmatch(word))


_LOCAL = threading.local()


def _stemmer(algorithm: str) -> Any:  # a PyStemmer stemmer (the library has no types)
    # PyStemmer: Snowball's own C stemmers (libstemmer), 10-20x faster than the pure-Python snowballstemmer
    # that built the stems of existing SQLite indexes; the stems are the same (tests/quality/
    # test_stemmer_equivalence.py: every word of the English corpora, a Russian vocabulary of 236,000 words
    # and each configured language's CLDR words). One per thread: a stemmer is not thread-safe.
    stemmers = _LOCAL.__dict__.setdefault("stemmers", {})
    if algorithm not in stemmers:
        stemmers[algorithm] = Stemmer.Stemmer(algorithm)
    return stemmers[algorithm]


@lru_cache(maxsize=1 << 16)
def stem(word: str, config: str) -> str:
    """The stem of a normal-form word in a configuration (the word itself in `simple` and for CJK)."""
    algorithm = _STEMMER_OF.get(config)
    if algorithm is None or is_cjk(word):
        return word
    return str(_stemmer(algorithm).stemWord(word))


def indexed_text(text: str) -> str:
    """What PostgreSQL indexes: the normal forms, space-separated (CJK characters one word each).

    The normal forms of tokens() without their offsets (the pipeline writes this for every article):
    case folding maps character by character, so folding the joined words folds each word."""
    folded = fold_with_offsets(text[:MAX_INDEXED_CHARS]).text
    return " ".join(TOKEN_RE.findall(folded)).casefold()


def stemmed_text(text: str, config: str) -> str:
    """What SQLite FTS5 indexes: the stems of the normal forms in the article's configuration."""
    return " ".join(stem(t.norm, config) for t in tokens(text, limit=MAX_INDEXED_CHARS))
