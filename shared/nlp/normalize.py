"""Text normalisation shared by the gazetteer and the knowledge base.

Both alias keys and article text go through `tokens()`, so a match in normalised space is always
token-aligned: Latin text is lower-cased and stripped of diacritics (Erdoğan = Erdogan), Russian words lose
their case endings (Путина = Путину = Путин), and every Han character is a token of its own (Chinese has
no word boundaries), Traditional folded to Simplified (習近平 = 习近平; shared/folding.py), offsets still
pointing into the original text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from shared.folding import fold_with_offsets, has_han

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+|[^\s\w]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HAN = re.compile(rf"[{_CJK}]")
# Russian inflection. A light two-step stemmer is enough: both sides of a match are stemmed the same way, so
# it only has to map the case forms of one name to one key (Путин/Путина/Путиным, Китай/Китая/Китаем), not
# produce real stems. Step 1 strips a consonant-final case ending, step 2 any trailing vowels, й and ь.
# Plural -ам/-ям/-ах/-ях are left out: they end many names (Ильхам, Ислам) and rarely occur on entities.
_RU_ENDINGS = (
    "ами",
    "ями",
    "ого",
    "его",
    "ому",
    "ему",
    "ыми",
    "ими",
    "ом",
    "ем",
    "ым",
    "им",
    "ой",
    "ей",
    "ий",
    "ый",
)
_RU_VOWELS = "аяоеёуюыиэьй"
_RU_MIN_STEM = 3
_FOLD = str.maketrans({"ı": "i", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "’": "'"})


def is_han(text: str) -> bool:
    """Return True when the text contains a Han (Chinese) character."""
    return bool(_HAN.search(text))


@lru_cache(maxsize=65536)
def normalize_token(token: str) -> str:
    """Return the matching key of one token: lower-cased, diacritics removed, Russian endings stripped."""
    t = token.lower()
    if _CYRILLIC.search(t):
        # No NFKD here: it would turn й into и and blur the endings.
        t = t.replace("ё", "е")
        for ending in _RU_ENDINGS:
            if t.endswith(ending) and len(t) - len(ending) >= _RU_MIN_STEM:
                t = t[: -len(ending)]
                break
        while len(t) > _RU_MIN_STEM and t[-1] in _RU_VOWELS:
            t = t[:-1]
        return t
    t = t.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))


def tokens(text: str) -> list[tuple[int, int, str]]:
    """Split text into (start, end, key) tokens; whitespace is dropped, punctuation kept as tokens."""
    if not has_han(text):
        return [(m.start(), m.end(), normalize_token(m.group())) for m in _TOKEN.finditer(text)]
    folded = fold_with_offsets(text)  # phrase-level, over the whole text: one-to-many characters need context
    if folded.identity:
        return [(m.start(), m.end(), normalize_token(m.group())) for m in _TOKEN.finditer(folded.text)]
    return [
        (*folded.span(m.start(), m.end()), normalize_token(m.group())) for m in _TOKEN.finditer(folded.text)
    ]


def key(text: str) -> str:
    """Return the normalised key of a name: its token keys joined by single spaces."""
    return " ".join(k for _, _, k in tokens(text))


_SPACES = re.compile(r"\s+")


def clean_surface(text: str) -> str:
    """Return display text of a mention: NFKC, single spaces, no surrounding quotes or possessive."""
    t = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip(" \"'“”«»‘’.,;:")
    for suffix in ("'s", "’s"):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
    return t
