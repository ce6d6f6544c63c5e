"""The C stemmers (PyStemmer, Snowball's libstemmer) give exactly the stems of the pure-Python ones.

Search stems with PyStemmer (shared/search/text.py): highlighting and the SQLite FTS index of the embedded
mode. SQLite indexes built before stored the stems of the pure-Python `snowballstemmer` classes, and a
query's stems must equal them or those databases stop finding words; highlights must light up the words
the index matched. So every configured language's stemmer is compared, word by word, over large real
vocabularies: every word of the English corpora under ../shared/data (~72,000 forms), the Russian words
of the embedding vocabulary that natasha ships (~237,000), and the words of each language's CLDR locale
data (Babel: names of languages, countries, months, units; ~2,500 a language) with a sample of the English
forms (news in any language quotes English names and numbers).
"""

from __future__ import annotations

import gzip
import importlib
import json
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import pytest
import Stemmer

from shared.search import text
from shared.search.text import LANGUAGES, TOKEN_RE
from tests.conftest import SHARED_DATA

_CYRILLIC = re.compile("[\u0400-\u04ff]")


def _pure(algorithm: str) -> Any:
    """The pure-Python stemmer class of snowballstemmer (what it falls back to without PyStemmer)."""
    module = importlib.import_module(f"snowballstemmer.{algorithm}_stemmer")
    name = "".join(p.capitalize() for p in algorithm.split("_")) + "Stemmer"
    return getattr(module, name)()


def _forms(texts: Iterable[str]) -> set[str]:
    """The normal forms (case-folded tokens) search stems."""
    out: set[str] = set()
    for t in texts:
        out.update(w.casefold() for w in TOKEN_RE.findall(t))
    return out


def _differences(algorithm: str, words: Iterable[str]) -> list[tuple[str, str, str]]:
    pure, c = _pure(algorithm), Stemmer.Stemmer(algorithm)
    out = []
    for w in sorted(words):
        a, b = pure.stemWord(w), c.stemWord(w)
        if a != b:
            out.append((w, a, b))
    return out


@cache
def _english_forms() -> frozenset[str]:
    texts: list[str] = []
    for path in sorted((SHARED_DATA / "full").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                texts.append(f"{r.get('title') or ''} {r.get('text') or ''}")
    return frozenset(_forms(texts))


def test_search_stems_with_the_c_stemmers() -> None:
    for _config, algorithm in LANGUAGES.values():
        assert isinstance(text._stemmer(algorithm), Stemmer.Stemmer)
    assert text.stem("summits", "english") == "summit"
    assert text.stem("путина", "russian") == "путин"


@pytest.mark.shared_data
def test_english_every_word_of_the_corpora() -> None:
    words = _english_forms()
    assert len(words) > 50_000
    assert _differences("english", words) == []


@pytest.mark.registry_data
def test_russian_every_word_of_natashas_vocabulary() -> None:
    from natasha import NewsEmbedding

    words = {w for w in NewsEmbedding().vocab.words if _CYRILLIC.search(w)}
    assert len(words) > 200_000
    assert _differences("russian", words) == []


@pytest.mark.shared_data
@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang not in ("en", "ru")])
def test_other_languages_on_their_cldr_words(language: str) -> None:
    from babel.localedata import load  # Babel comes with trafilatura (through courlan)

    texts: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, str):
            texts.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)

    walk(dict(load(language)))
    own = _forms(texts)
    assert len(own) > 1_500, language
    english = sorted(_english_forms())[::7]  # every 7th: ~10,000 forms, words, names and numbers
    assert _differences(LANGUAGES[language][1], own | set(english)) == []
