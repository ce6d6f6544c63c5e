"""Matching treats Traditional and Simplified Chinese as one: rules in either script, hits in the original."""

from __future__ import annotations

import pytest

from shared import folding
from shared.rules import DocEntity, MatchDocument, compile_watches
from shared.rules.stats import document_frequencies
from shared.rules.text import term_pattern
from shared.rules.types import WatchSpec
from shared.rules.validation import validate

TRAD = "上海合作組織峰會在阿斯塔納舉行，習近平出席並發表講話。"
SIMP = "上海合作组织峰会在阿斯塔纳举行，习近平出席并发表讲话。"
RULES = {
    "simplified": '"上海合作组织" AND 峰会',
    "traditional": '"上海合作組織" AND 峰會',
    "near": "習近平 NEAR/8 讲话",
    "title": "title:(阿斯塔納 AND 舉行)",
}


def _engine():  # type: ignore[no-untyped-def]
    return compile_watches([WatchSpec(id=n, name=n, query=q) for n, q in RULES.items()])


@pytest.mark.parametrize("text", [TRAD, SIMP])
def test_rules_in_either_script_match_text_in_either(text: str) -> None:
    got = {m.watch_name for m in _engine().match(MatchDocument(title=text, text=""))}
    assert got == set(RULES)


def test_term_hits_and_snippets_point_into_the_original_text() -> None:
    (m,) = [r for r in _engine().match(MatchDocument(title="", text=TRAD)) if r.watch_name == "simplified"]
    assert [(t.text, t.start, t.end) for t in m.terms] == [("上海合作組織", 0, 6), ("峰會", 6, 8)]
    assert all(TRAD[t.start : t.end] == t.text for t in m.terms)
    assert m.snippet == "**上海合作組織峰會**在阿斯塔納舉行，習近平出席並發表講話。"  # adjacent hits merge


def test_unrelated_chinese_and_english_do_not_match() -> None:
    engine = _engine()
    assert engine.match(MatchDocument(title="上海的合作項目", text="上海合作交流會")) == []
    assert engine.match(MatchDocument(title="SCO summit", text="Leaders met in Astana.")) == []


def test_entity_constraint_on_an_unlinked_name_in_either_script() -> None:
    engine = compile_watches([WatchSpec(id=1, name="mao", query='entity:"毛寧"')])
    doc = MatchDocument(title="", text="x", entities=[DocEntity(None, "PERSON", "毛宁", None)])
    assert [m.watch_name for m in engine.match(doc)] == ["mao"]


def test_validate_shows_the_folded_form() -> None:
    v = validate('"上海合作組織" AND (峰會 OR 習近平) AND NOT 臺灣')
    assert v.canonical == "上海合作組織 AND (峰會 OR 習近平) AND NOT 臺灣"
    assert v.folded == "上海合作组织 AND (峰会 OR 习近平) AND NOT 台湾"
    assert validate("SCO AND summit").folded == "SCO AND summit"


def test_common_word_warning_sees_through_the_script() -> None:
    assert any("common" in w for w in validate("與").warnings)  # 與 is 与, a stop word


def test_document_frequencies_count_folded_words() -> None:
    freq = document_frequencies([TRAD, SIMP, "other"])
    assert freq.word("习") == pytest.approx(2 / 3)


def test_length_changing_conversion_keeps_hits_on_the_original(monkeypatch: pytest.MonkeyPatch) -> None:
    # tw2sp also maps Taiwanese vocabulary (哈薩克 → 哈萨克斯坦): the matcher reads a longer text.
    monkeypatch.setattr(folding, "CONFIG", "tw2sp")
    term_pattern.cache_clear()
    try:
        engine = compile_watches([WatchSpec(id=1, name="kz", query='"哈萨克斯坦总统" AND 出租车')])
        text = "昨日，哈薩克總統搭乘計程車抵達。"
        (m,) = engine.match(MatchDocument(title="", text=text))
        assert [(t.text, text[t.start : t.end]) for t in m.terms] == [
            ("哈薩克總統", "哈薩克總統"),
            ("計程車", "計程車"),
        ]
        assert "**哈薩克總統**" in m.snippet and "**計程車**" in m.snippet
    finally:
        term_pattern.cache_clear()
