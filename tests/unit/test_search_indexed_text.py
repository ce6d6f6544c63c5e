"""The indexed text (what PostgreSQL's tsvector is built from) is the normal forms of tokens(), in order."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from shared.search.text import MAX_INDEXED_CHARS, indexed_text, tokens

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "full"

SAMPLES = [
    "",
    "SCO summit in Astana: Xi Jinping, Putin and Modi met (2024).",
    "ΟΔΟΣ Σίσυφος ΣΟΦΟΣ Straße İstanbul ǅemal ﬁnance",
    "上海合作組織峰會 在阿斯塔納舉行；習近平 與 普京 會談",
    "Mixed 上海合作组织 and 組織 text, with_under_scores and 3.14 numbers",
    "tab\tnew\nline — dashes – and “quotes” ’apostrophes’",
]


def _reference(text: str) -> str:
    return " ".join(t.norm for t in tokens(text, limit=MAX_INDEXED_CHARS))


@pytest.mark.parametrize("text", SAMPLES)
def test_indexed_text_is_the_normal_forms_of_the_tokens(text: str) -> None:
    assert indexed_text(text) == _reference(text)


def test_indexed_text_stops_at_the_limit() -> None:
    text = "word " * (MAX_INDEXED_CHARS // 5 + 100)
    assert indexed_text(text) == _reference(text)


@pytest.mark.skipif(not (DATA / "bbc.jsonl.gz").exists(), reason="../shared/data is absent")
def test_indexed_text_on_real_articles() -> None:
    with gzip.open(DATA / "bbc.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for _, line in zip(range(200), fh, strict=False)]
    for row in rows:
        text = f"{row.get('title') or ''}\n{row.get('text') or ''}"
        assert indexed_text(text) == _reference(text)
