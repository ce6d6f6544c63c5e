"""Snippets read the text in growing prefixes: the window and its highlights are the ones the whole text
gives, wherever the first hit is (first paragraph, past the first read, across a read's end, nowhere)."""

from __future__ import annotations

import pytest

from shared.search.snippets import (
    FIRST_SCAN,
    SCAN_CHARS,
    Highlighted,
    hits,
    marker,
    snippet,
    window,
)
from shared.search.syntax import parse, wanted
from shared.search.text import tokens


def _whole(text: str, q: str) -> Highlighted:
    """The snippet from every token of the text's first SCAN_CHARS, as it was computed before prefixes."""
    node = parse(q)
    spans = hits(tokens(text, limit=SCAN_CHARS), "english", wanted(node, "english"))
    return window(text, spans)


FILLER = "The committee met again on Tuesday to discuss the budget. "


@pytest.mark.parametrize(
    "at",
    [10, FIRST_SCAN - 300, FIRST_SCAN - 30, FIRST_SCAN + 5, 4 * FIRST_SCAN - 100, 20_000, None],
)
@pytest.mark.parametrize("q", ["summits", '"prime minister"', "minist*", "summit OR budget -xyz"])
def test_prefix_reads_give_the_whole_texts_snippet(at: int | None, q: str) -> None:
    text = FILLER * (25_000 // len(FILLER))
    if at is not None:
        cut = text.rfind(" ", 0, at) + 1
        text = text[:cut] + "The prime minister opened the summits. " + text[cut:]
    got = snippet(text, "english", parse(q))
    assert (got.text, got.highlights) == (_whole(text, q).text, _whole(text, q).highlights)
    for s, e in got.highlights:
        assert got.text[s:e].lower().startswith(("summit", "prime", "minist", "budget"))


TEXTS = [
    "The Prime Minister's summit: SUMMITS, summitry and the prime-minister_2 ministers met.",
    "Straße STRASSE straße İstanbul ǅemal ﬁnance ﬀ prime minister prime  minister",
    "上海合作组织峰会在天津举行。上海合作組織峰會 SCO summit 習近平 习近平 prime minister",
    "Путина встретил Путин; саммит ШОС саммиты",
    "",
    "_ __ 123 summit2026 summit_ minist",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(
    "q",
    [
        "summits",
        '"prime minister"',
        "minist*",
        "summit OR budget -xyz",
        "上海合作",
        "путин саммит",
        "strasse",
    ],
)
@pytest.mark.parametrize("config", ["english", "russian", "german", "simple"])
def test_marker_spans_are_the_token_hits(text: str, q: str, config: str) -> None:
    want = wanted(parse(q), config)
    for limit in (None, 7, 40):
        assert marker(parse(q), config).spans(text, limit=limit) == hits(
            tokens(text, limit=limit), config, want
        )
