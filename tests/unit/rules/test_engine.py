"""Engine: presearcher + exact evaluation, case rules, scripts, proximity, fields, weights, entities."""

from __future__ import annotations

import gc
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from shared.rules import (
    DocEntity,
    MatchDocument,
    RuleSyntaxError,
    WatchFileError,
    WatchSpec,
    compile_watches,
    load_watch_file,
)


def fires(query: str, title: str = "", text: str = "", **kw: object) -> bool:
    engine = compile_watches([WatchSpec(1, "w", query)], resolver=kw.pop("resolver", None))  # type: ignore[arg-type]
    return bool(engine.match(MatchDocument(title=title, text=text, **kw)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["Moscow talks", "San Francisco", "Scotland votes", "SCOTUS ruling", "the sco word", "Sco"]
)
def test_capitals_term_never_matches_inside_words_or_other_case(text: str) -> None:
    assert not fires("SCO", text=text)


@pytest.mark.parametrize("text", ["SCO summit", "the SCO's members", "(SCO)", "SCO-led drills", "ШОС и SCO"])
def test_capitals_term_matches_whole_capital_words(text: str) -> None:
    assert fires("SCO", text=text)


def test_case_markers() -> None:
    assert fires("~SCO", text="the sco word")
    assert not fires("=Summit", text="the summit")
    assert fires("=Summit", text="the Summit")
    assert fires("summit", text="SUMMIT TODAY")
    assert fires("Rats", text="RATS met") and not fires("RATS", text="rats ran")


def test_phrases_hyphens_and_wildcards() -> None:
    assert fires('"Shanghai Co-operation Organisation"', text="the Shanghai Co-operation Organisation met")
    assert fires('"Shanghai Co-operation Organisation"', text="the Shanghai co operation organisation")
    assert not fires('"Shanghai Cooperation Organisation"', text="Shanghai Co-operation Organisation")
    assert fires("sanction*", text="new Sanctions today")
    assert not fires("sanction*", text="unsanctioned")
    assert fires(
        '"Шанхайск* организаци* сотрудничеств*"', text="Саммит Шанхайской организации сотрудничества"
    )
    assert fires('"economic sanc*"', text="economic sanctions") and not fires(
        '"economic sanc*"', text="sanctions"
    )


def test_cjk_terms_match_as_character_sequences() -> None:
    assert fires("上海合作组织", text="上海合作组织峰会在撒马尔罕举行")
    assert fires("上合组织 NEAR/3 峰会", text="上合组织元首峰会")
    assert not fires("上海合作组织", text="上海合作")


def test_near_and_onear_count_words_between() -> None:
    text = "Putin met Xi in Samarkand"
    assert fires("Putin NEAR/1 Xi", text=text) and fires("Xi NEAR/1 Putin", text=text)
    assert not fires("Putin NEAR/0 Xi", text=text)
    assert fires("Putin ONEAR/1 Xi", text=text) and not fires("Xi ONEAR/5 Putin", text=text)
    assert fires('"Putin met" NEAR/2 (Samarkand OR Tashkent)', text=text)
    assert not fires("Putin NEAR/5 Xi", title="Putin", text="Xi")  # never across fields


def test_field_scopes() -> None:
    assert fires("title:SCO", title="SCO summit", text="nothing")
    assert not fires("title:SCO", title="summit", text="SCO")
    assert fires("text:(SCO OR ШОС) summit", title="summit", text="ШОС")


def test_not_only_and_unanchored_rules_are_never_lost() -> None:
    engine = compile_watches(
        [
            WatchSpec(1, "not", "NOT football"),
            WatchSpec(2, "lang", "lang:ru"),
            WatchSpec(3, "wild", "sanction*"),
        ]
    )
    names = [r.watch_name for r in engine.match(MatchDocument("Санкции", "sanctioned", language="ru"))]
    assert names == ["not", "lang", "wild"]
    names = [r.watch_name for r in engine.match(MatchDocument("football", "football", language="en-GB"))]
    assert names == []


def test_weights_and_threshold() -> None:
    rule = 'SCORE>=5("Shanghai Cooperation"^5, SCO^3, summit^2, (Unix OR Linux)^-10)'
    engine = compile_watches([WatchSpec(1, "w", rule)])
    [m] = engine.match(MatchDocument("SCO summit", ""))
    assert m.score == 5.0
    assert not engine.match(MatchDocument("SCO", "Linux summit"))
    assert not engine.match(MatchDocument("summit", ""))


def test_language_filter() -> None:
    assert fires("lang:zh 峰会", text="峰会", language="zh-CN")
    assert not fires("lang:zh 峰会", text="峰会", language="ja")
    assert not fires("lang:zh 峰会", text="峰会")


class TinyKB:
    """A two-person knowledge base with one office."""

    names: ClassVar[dict[str, set[str]]] = {
        "xi jinping": {"Q15031"},
        "习近平": {"Q15031"},
        "Си Цзиньпин": {"Q15031"},
        "putin": {"Q7747"},
    }

    def ids_for_name(self, name: str) -> set[str]:
        return self.names.get(name, set()) | self.names.get(name.lower(), set())

    def office_holders(self, office: str, at: date | None) -> set[str]:
        if office != "President of Russia":
            return set()
        if at is not None and date(2008, 5, 7) <= at < date(2012, 5, 7):
            return {"Q23530"}  # Medvedev
        return {"Q7747"}


def test_entity_constraints_through_a_resolver() -> None:
    xi = DocEntity("Q15031", "PERSON", "习近平", "Xi Jinping")
    putin = DocEntity("Q7747", "PERSON", "Путин", "Vladimir Putin")
    kb = TinyKB()
    assert fires('entity:"Си Цзиньпин"', text="…", entities=[xi], resolver=kb)
    assert fires('person:"xi jinping"', text="…", entities=[xi], resolver=kb)
    assert not fires('org:"xi jinping"', text="…", entities=[xi], resolver=kb)
    assert fires("person:*", text="…", entities=[xi])
    assert fires('entity:"Xi Jinping"', text="…", entities=[xi])  # no resolver: canonical name
    office = 'office:"President of Russia"'
    assert fires(office, text="…", entities=[putin], resolver=kb, published=datetime(2023, 7, 4))
    assert not fires(office, text="…", entities=[putin], resolver=kb, published=datetime(2010, 1, 1))
    assert not fires(office, text="…", entities=[putin])


def test_result_carries_terms_offsets_and_snippet() -> None:
    engine = compile_watches([WatchSpec(7, "sco", '"Shanghai Cooperation Organisation" OR SCO')])
    text = "Leaders gathered on Friday. The SCO (Shanghai Cooperation Organisation) summit opened."
    [m] = engine.match(MatchDocument(title="SCO summit", text=text))
    assert (m.watch_id, m.watch_name) == (7, "sco")
    assert [(h.field, h.text) for h in m.terms] == [
        ("title", "SCO"),
        ("text", "SCO"),
        ("text", "Shanghai Cooperation Organisation"),
    ]
    for h in m.terms:
        source = "SCO summit" if h.field == "title" else text
        assert source[h.start : h.end] == h.text
    assert "**SCO** (**Shanghai Cooperation Organisation**)" in m.snippet


def test_bad_query_names_the_watch() -> None:
    with pytest.raises(RuleSyntaxError, match=r"watch 'broken'.*position 4") as info:
        compile_watches([WatchSpec(1, "ok", "a"), WatchSpec(2, "broken", "a OR")])
    assert info.value.watch == "broken"


def test_load_watch_file_yaml_and_json(tmp_path: Path) -> None:
    y = tmp_path / "w.yaml"
    y.write_text("- name: SCO\n  query: SCO summit\n  description: x\n- name: B\n  id: 5\n  query: b\n")
    assert [(w.id, w.name, w.query) for w in load_watch_file(y)] == [
        ("SCO", "SCO", "SCO summit"),
        (5, "B", "b"),
    ]
    j = tmp_path / "w.json"
    j.write_text('{"watches": [{"name": "x", "query": "y", "version": 3}]}')
    assert load_watch_file(j)[0].version == 3
    j.write_text('[{"name": "x"}]')
    with pytest.raises(WatchFileError, match="query"):
        load_watch_file(j)


def test_a_watch_file_id_must_be_a_number_or_a_text(tmp_path: Path) -> None:
    # Found by the type checker: an empty `id:` became a watch with id None.
    y = tmp_path / "w.yaml"
    y.write_text("- name: SCO\n  id:\n  query: SCO summit\n")
    with pytest.raises(WatchFileError, match="'SCO' has an id"):
        load_watch_file(y)


def test_compiling_leaves_the_garbage_collector_as_it_was() -> None:
    """The collector is paused while a rule set compiles (no cycles are made), and only then."""
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            compile_watches([WatchSpec(1, "a", "summit AND Astana")])
            assert gc.isenabled() is state
            with pytest.raises(RuleSyntaxError):
                compile_watches([WatchSpec(2, "b", "summit AND (")])
            assert gc.isenabled() is state
    finally:
        (gc.enable if was else gc.disable)()
