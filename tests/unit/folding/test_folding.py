"""Script folding: Traditional → Simplified at phrase level, offsets back into the original text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import folding
from shared.folding import Folded, converter, fold, fold_with_offsets, has_han


@pytest.fixture()
def tw2sp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fold with OpenCC's tw2sp, a real conversion that changes lengths (哈薩克 → 哈萨克斯坦)."""
    monkeypatch.setattr(folding, "CONFIG", "tw2sp")
    yield


def test_traditional_folds_to_simplified_and_other_text_is_untouched() -> None:
    assert fold("上海合作組織峰會在阿斯塔納舉行") == "上海合作组织峰会在阿斯塔纳举行"
    assert fold("習近平 met Путин in Astana, 2024!") == "习近平 met Путин in Astana, 2024!"
    assert fold("上海合作组织") == "上海合作组织"
    text = "Plain English stays the very same object."
    assert fold(text) is text
    assert not has_han("Café “quoted” — 2024") and has_han("Xi (習近平)")


def test_phrase_level_not_a_character_table() -> None:
    # 乾 is 干 in 乾燥 (dry) but stays 乾 in 乾隆 (an emperor's era name): only phrases tell them apart.
    assert fold("乾燥") == "干燥"
    assert fold("乾隆") == "乾隆"
    assert fold("頭髮") == "头发" and fold("發展") == "发展"


def test_t2s_keeps_length_so_offsets_are_identical() -> None:
    f = fold_with_offsets("中國外交部發言人汪文斌表示")
    assert f.identity and len(f.text) == len(f.original)
    assert f.span(2, 5) == (2, 5)


def test_length_changing_conversion_maps_offsets_back(tw2sp: None) -> None:
    text = "Xi 與哈薩克總統會面，計程車。"
    f = fold_with_offsets(text)
    assert f.text == "Xi 与哈萨克斯坦总统会面，出租车。"
    assert not f.identity
    i = f.text.index("哈萨克斯坦")
    assert text[slice(*f.span(i, i + 5))] == "哈薩克"
    j = f.text.index("总统")
    assert text[slice(*f.span(j, j + 2))] == "總統"  # exact after the phrase that grew
    k = f.text.index("出租车")
    assert text[slice(*f.span(k, k + 3))] == "計程車"
    assert text[slice(*f.span(0, 2))] == "Xi"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("哈薩克總統計程車滑鼠軟體乾隆燥 ab,。")), max_size=40))
def test_every_folded_span_maps_inside_the_original(text: str) -> None:
    f: Folded = fold_with_offsets(text, convert=converter("tw2sp"))
    assert f.text == converter("tw2sp")(text) or not has_han(text)
    for s in range(len(f.text) + 1):
        for e in range(s, len(f.text) + 1):
            a, b = f.span(s, e)
            assert 0 <= a <= b <= len(text)
    # Whole text maps to the whole text; spans never run backwards as they grow.
    assert f.span(0, len(f.text)) == (0, len(text)) or not f.text
