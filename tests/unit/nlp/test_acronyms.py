"""An ambiguous acronym is linked only when the article's context does not spell it out as another name."""

from __future__ import annotations

import pytest

from shared.nlp import KnowledgeBase
from shared.nlp.linker import Linker


@pytest.fixture(scope="module")
def linker() -> Linker:
    return Linker(KnowledgeBase.load())


def _spans(text: str, *names: tuple[str, str]) -> list[tuple[int, int, str]]:
    """Model spans for the given (surface, label) pairs, every occurrence."""
    out = []
    for surface, label in names:
        start = text.find(surface)
        while start >= 0:
            out.append((start, start + len(surface), label))
            start = text.find(surface, start + 1)
    return out


def _links(
    linker: Linker, text: str, spans: list[tuple[int, int, str]] | None = None
) -> list[tuple[str, str | None, str]]:
    return [(e.text, e.entity_id, e.normalized) for e in linker.link(text, spans or [])]


def test_the_company_named_in_the_article_takes_its_bare_acronym(linker: Linker) -> None:
    text = "IBM seeks to have SCO claims dismissed. The SCO Group sued IBM. SCO has no evidence, IBM says."
    got = _links(linker, text, _spans(text, ("The SCO Group", "ORG"), ("IBM", "ORG")))
    assert all(eid != "sco" for _t, eid, _n in got), got
    assert [n for t, _e, n in got if t == "SCO"] == ["SCO Group", "SCO Group"]


def test_a_company_designator_is_enough_without_the_model(linker: Linker) -> None:
    text = "SCO Inc. filed suit on Monday. SCO wants damages."
    got = _links(linker, text)
    assert all(eid != "sco" for _t, eid, _n in got), got
    assert ("SCO Inc", None, "SCO Inc") in got


def test_a_definition_in_the_article_decides(linker: Linker) -> None:
    text = "The Santa Cruz Operation (SCO) shipped OpenServer. SCO also sells UnixWare."
    got = _links(linker, text)
    assert all(eid != "sco" for _t, eid, _n in got), got
    own = "The Shanghai Cooperation Organisation (SCO) met in Astana. SCO members agreed."
    assert [eid for t, eid, _n in _links(linker, own) if t == "SCO"] == ["sco", "sco"]


def test_a_bare_acronym_with_no_rival_still_links(linker: Linker) -> None:
    assert [e for _t, e, _n in _links(linker, "SCO summit opens in Samarkand")][:1] == ["sco"]


def test_nearest_reading_before_the_mention_wins(linker: Linker) -> None:
    text = (
        "The Shanghai Cooperation Organisation met in Astana. SCO leaders talked. "
        "Separately, SCO Group Inc. lost its case. SCO Group will appeal, SCO said."
    )
    got = [(e.text, e.entity_id, e.start) for e in linker.link(text)]
    bare = [(eid, start) for t, eid, start in got if t == "SCO"]
    assert bare[0][0] == "sco"  # after the organisation's full name
    assert bare[-1][0] is None  # after the company's name


def test_a_model_only_rival_yields_to_the_articles_other_entities(linker: Linker) -> None:
    text = "SCO Summit: Xi Jinping and Vladimir Putin meet in Samarkand. The SCO backs stability."
    got = _links(linker, text, _spans(text, ("SCO Summit", "ORG")))
    assert ("SCO", "sco", "Shanghai Cooperation Organisation") in got


def test_any_acronym_of_the_knowledge_base_not_only_sco(linker: Linker) -> None:
    text = "Rapid Action Tactical Squad (RATS) officers raided a flat. RATS said two were held."
    got = _links(linker, text)
    assert all(eid != "sco-rats" for _t, eid, _n in got), got
    assert [eid for t, eid, _n in _links(linker, "RATS council meets in Tashkent") if t == "RATS"] == [
        "sco-rats"
    ]
