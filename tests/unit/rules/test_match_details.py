"""A match's details built in C (`Core.details`: term hits, snippet, score) equal the Python reference.

tests/support/match_details.py holds the reference (the way the engine built them in Python before);
tests/quality/test_match_details.py runs it over generated rules and real articles.
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules import MatchDocument, MatchResult, TermHit, WatchSpec, compile_watches
from shared.rules._core import Article
from shared.rules.ast import to_query
from shared.rules.snippet import highlight, highlight_c
from tests.support.match_details import assert_details_match_reference
from tests.unit.rules.test_engine_reference import docs, trees

CHARS = st.sampled_from(
    [*list("ab Z9"), "  ", "\n", "\t", "\xa0", "\u2003", "\u3000", "é", "Ж", "峰", "会", "😀", "*", ".", "…"]
)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    text = "".join(draw(st.lists(CHARS, max_size=700)))
    n = len(text)
    spans = draw(
        st.lists(st.tuples(st.integers(0, n), st.integers(0, 30)).map(lambda p: (p[0], min(n, p[0] + p[1]))))
    )
    return text, spans


@settings(max_examples=500, deadline=None)
@given(text_and_spans(), st.integers(0, 120), st.integers(0, 300))
def test_the_c_snippet_is_the_python_snippet(
    case: tuple[str, list[tuple[int, int]]], before: int, width: int
) -> None:
    text, spans = case
    assert highlight_c(text, spans) == highlight(text, spans)
    assert highlight_c(text, spans, before, width) == highlight(text, spans, before=before, width=width)


@settings(max_examples=300, deadline=None)
@given(st.lists(trees, min_size=1, max_size=8), st.lists(docs, min_size=1, max_size=4))
def test_details_agree_with_the_reference(rules: list, documents: list[MatchDocument]) -> None:  # type: ignore[type-arg]
    engine = compile_watches([WatchSpec(i, f"w{i}", to_query(t)) for i, t in enumerate(rules)])
    for doc in documents:
        assert_details_match_reference(engine, doc)


def test_details_of_folded_text_of_another_length_point_into_the_original() -> None:
    """Traditional text whose folding changes its length: offsets go through the map (and agree)."""
    engine = compile_watches(
        [WatchSpec(1, "a", "上海合作组织 OR 峰会"), WatchSpec(2, "b", "SCORE>=1(峰會^2, 阿斯塔纳^1)")]
    )
    for text in ("乾隆年間，上海合作組織峰會在阿斯塔納舉行。", "上海合作組織峰會" * 40):
        doc = MatchDocument(title="峰會", text=text)
        assert assert_details_match_reference(engine, doc) == 2


def test_term_hits_are_values() -> None:
    hit = TermHit("SCO", "title", 0, 3, "SCO")
    same = TermHit(term="SCO", field="title", start=0, end=3, text="SCO")
    assert hit == same and hash(hit) == hash(same) and hit != TermHit("SCO", "text", 0, 3, "SCO")
    assert pickle.loads(pickle.dumps(hit)) == hit
    assert hit.as_dict() == {"term": "SCO", "field": "title", "start": 0, "end": 3, "text": "SCO"}
    assert repr(hit) == "TermHit(term='SCO', field='title', start=0, end=3, text='SCO')"


def test_results_keep_their_details_after_later_articles() -> None:
    """Details are built lazily from the article the results came from, not the engine's last one."""
    engine = compile_watches([WatchSpec(1, "w", "summit OR Astana")])
    first = engine.match(MatchDocument(title="Summit", text="Leaders met in Astana."))
    engine.match(MatchDocument(title="", text="A summit elsewhere"))
    (m,) = first
    assert [(t.field, t.text) for t in m.terms] == [("title", "Summit"), ("text", "Astana")]
    assert m.snippet == "Leaders met in **Astana**." and m.score == 2


def test_term_dicts_are_the_terms_as_a_match_row_stores_them() -> None:
    """One dict per hit, shared by the article's matches naming it (read only); as_dict gives a copy."""
    engine = compile_watches([WatchSpec(1, "a", "summit"), WatchSpec(2, "b", "summit AND Astana")])
    a, b = engine.match(MatchDocument(title="Summit", text="Leaders met in Astana."))
    rows = [t.as_dict() for t in b.terms]
    assert rows == [
        {"term": "summit", "field": "title", "start": 0, "end": 6, "text": "Summit"},
        {"term": "Astana", "field": "text", "start": 15, "end": 21, "text": "Astana"},
    ]
    assert b.term_dicts() == rows
    assert a.term_dicts() == rows[:1] and a.term_dicts()[0] is b.term_dicts()[0]
    copy = a.terms[0].as_dict()
    copy["text"] = "changed"
    assert a.term_dicts()[0]["text"] == "Summit" and copy is not a.terms[0].as_dict()
    given = MatchResult(3, "c", 1.0, [TermHit("x", "text", 1, 2, "X")], "**X**")
    assert given.term_dicts() == [{"term": "x", "field": "text", "start": 1, "end": 2, "text": "X"}]


def test_an_articles_details_by_index_are_its_results_fields() -> None:
    """Article.details(i): the i-th match's (terms, snippet, score), as its result reads them."""
    engine = compile_watches([WatchSpec(1, "a", "summit"), WatchSpec(2, "b", "SCORE>=2(summit^2, Astana^1)")])
    doc = MatchDocument(title="Summit", text="Leaders met in Astana.")
    prepared = engine._prepare(doc)
    article = Article(engine, prepared, engine._lang(doc), doc)
    found = engine._core.match(
        engine._scratch, *prepared[0], engine._lang(doc), doc, article, engine._ids, engine._names
    )
    article.serial = engine._scratch.serial
    for i, m in enumerate(engine.match(doc)):
        assert article.details(i) == (m.terms, m.snippet, m.score)
    assert [m.score for m in found] == [1.0, 3.0]
    with pytest.raises(IndexError):
        article.details(2)
