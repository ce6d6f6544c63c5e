"""Wikidata dump import: a small hand-written dump in the real format."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import yaml

from shared.nlp.kb import KnowledgeBase
from shared.nlp.wikidata import convert, iter_entities, main


def _item(qid: str, p31: str, labels: dict[str, str], aliases: dict[str, list[str]] | None = None, **claims):
    ent = {
        "id": qid,
        "type": "item",
        "labels": {k: {"language": k, "value": v} for k, v in labels.items()},
        "aliases": {k: [{"language": k, "value": v} for v in vs] for k, vs in (aliases or {}).items()},
        "descriptions": {"en": {"language": "en", "value": f"{labels.get('en')} (test)"}},
        "claims": {"P31": [{"mainsnak": {"datavalue": {"value": {"id": p31}}}}], **claims},
    }
    return ent


def _held(position: str, start: str, end: str | None = None) -> dict:
    q = {"P580": [{"datavalue": {"value": {"time": f"+{start}T00:00:00Z"}}}]}
    if end:
        q["P582"] = [{"datavalue": {"value": {"time": f"+{end}T00:00:00Z"}}}]
    return {"mainsnak": {"datavalue": {"value": {"id": position}}}, "qualifiers": q}


ENTITIES = [
    _item("Q7747", "Q5", {"en": "Vladimir Putin", "ru": "Владимир Путин", "zh": "弗拉基米尔·普京"},
          {"en": ["Putin"], "zh": ["普京"]}, P39=[_held("Q218295", "2012-05-07")]),
    _item("Q23530", "Q5", {"en": "Dmitry Medvedev", "ru": "Дмитрий Медведев"},
          P39=[_held("Q218295", "2008-05-07", "2012-05-07")]),
    _item("Q218295", "Q4164871", {"en": "President of Russia", "ru": "Президент Российской Федерации"}),
    _item("Q649", "Q5119", {"en": "Moscow", "ru": "Москва", "zh": "莫斯科"}),
    _item("Q999", "Q43229", {"en": "Test Organisation"}),
    _item("Q1000", "Q11424", {"en": "Some Film"}),  # not a person, organisation or place: skipped
]  # fmt: skip


def _dump_lines() -> list[str]:
    return ["[", *[json.dumps(e, ensure_ascii=False) + "," for e in ENTITIES], "not json,", "]"]


def test_convert() -> None:
    stats: dict[str, int] = {}
    doc = convert(iter_entities(_dump_lines(), stats), languages=["en", "ru", "zh"])
    assert stats == {"bad_lines": 1}
    by_id = {e["id"]: e for e in doc["entities"]}
    assert set(by_id) == {"Q7747", "Q23530", "Q649", "Q999"}
    assert by_id["Q7747"]["aliases"]["zh"] == ["弗拉基米尔·普京", "普京"]
    assert by_id["Q649"]["type"] == "PLACE" and by_id["Q999"]["type"] == "ORG"
    (office,) = doc["offices"]
    assert office["name"] == "President of Russia"
    assert {"id": "Q23530", "start": "2008-05-07", "end": "2012-05-07"} in office["holders"]


def test_main_writes_a_loadable_kb_file(tmp_path: Path, capsys) -> None:
    dump = tmp_path / "dump.json.gz"
    with gzip.open(dump, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(_dump_lines()))
    out = tmp_path / "kb" / "wikidata.yaml"
    assert main(["import-wikidata", str(dump), "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["entities"] == 4
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["offices"]
    kb = KnowledgeBase.load(out.parent)
    assert kb.ids_for_name("Путина") == {"Q7747"}
    assert kb.office_holders("President of Russia", date(2010, 1, 1)) == {"Q23530"}
    assert kb.office_holders("Президент Российской Федерации", date(2020, 1, 1)) == {"Q7747"}


def test_missing_dump(tmp_path: Path) -> None:
    assert main([str(tmp_path / "nope.json"), "--out", str(tmp_path / "x.yaml")]) == 2
