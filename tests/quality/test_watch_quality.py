"""Quality of the default watchlists: real third-party headlines plus our own labelled EN/RU/ZH cases."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from shared.rules import DocEntity, Engine, MatchDocument, compile_watches, load_watch_file

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
SEEDS = REPO / "seeds" / "watchlists"


class LeadersKB:
    """A tiny knowledge base: two leaders and their offices."""

    def ids_for_name(self, name: str) -> set[str]:
        return {"xi jinping": {"Q15031"}, "vladimir putin": {"Q7747"}}.get(name.lower(), set())

    def office_holders(self, office: str, at: date | None) -> set[str]:
        return {"President of China": {"Q15031"}, "President of Russia": {"Q7747"}}.get(office, set())


@pytest.fixture(scope="module")
def engine() -> Engine:
    watches = [w for p in sorted(SEEDS.glob("*.yaml")) for w in load_watch_file(p)]
    assert {w.name for w in watches} == {"SCO", "SCO leaders", "SCO expansion"}
    return compile_watches(watches, resolver=LeadersKB())


def names(engine: Engine, title: str, text: str = "", **kw: object) -> set[str]:
    return {m.watch_name for m in engine.match(MatchDocument(title=title, text=text, **kw))}  # type: ignore[arg-type]


def _records(name: str) -> list[dict[str, object]]:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (third-party data is not shipped)")
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.mark.shared_data
def test_default_sco_watch_on_real_data(engine: Engine) -> None:
    mentions = _records("sco_mentions.jsonl")
    organisation = [r for r in mentions if "SCO Group" not in str(r["sco_match_kind"])]
    company = [r for r in mentions if "SCO Group" in str(r["sco_match_kind"])]
    assert (len(organisation), len(company)) == (25, 3)
    misses = [r["title"] for r in organisation if "SCO" not in names(engine, str(r["title"]), str(r["text"]))]
    wrong = [r["title"] for r in company if "SCO" in names(engine, str(r["title"]), str(r["text"]))]
    others = _records("random_2000_non_sco.jsonl")
    false_pos = [r["title"] for r in others if "SCO" in names(engine, str(r["title"]), str(r["text"] or ""))]
    print(f"SCO headlines missed {len(misses)}/25: {misses}")
    print(f"SCO Group items matched {len(wrong)}/3: {wrong}")
    print(f"non-SCO articles matched {len(false_pos)}/{len(others)}: {false_pos}")
    assert misses == []
    assert wrong == []
    assert len(others) == 2000
    assert len(false_pos) <= 2


POSITIVES = [
    ("SCO summit opens in Samarkand", ""),
    ("Leaders gather", "The Shanghai Co-operation Organisation met in Astana on Thursday."),
    ("Shanghai Cooperation Organization expands", ""),
    ("Саммит ШОС пройдет в Астане", ""),
    ("Лавров", "Министры иностранных дел Шанхайской организации сотрудничества обсудили Афганистан."),
    ("上海合作组织成员国元首理事会第二十二次会议在撒马尔罕举行", ""),
    ("上合组织秘书长会见中国外长", ""),
    ("RATS council meets in Tashkent", "The SCO Regional Anti-Terrorist Structure reviewed drills."),
]
TRAPS = [
    ("The SCO Group loses appeal against IBM", "SCO claimed Linux infringed its Unix copyrights."),
    ("Santa Cruz Operation (SCO) ships OpenServer", "The SCO release adds Unix drivers."),
    ("Scottish Chamber Orchestra tour", "The SCO plays Mozart in Edinburgh; the orchestra's season opens."),
    ("Moscow and San Francisco sign deal", "Scotland joins; SCOTUS rules; sco is not a word here."),
    ("Rats invade Shanghai subway", "Co-operation between city services improved."),
    ("Шотландия и Москва", "Шоссе закрыто."),
    ("上海合作交流会", "上海的合作项目"),
]


@pytest.mark.parametrize(("title", "text"), POSITIVES)
def test_own_positives(engine: Engine, title: str, text: str) -> None:
    assert "SCO" in names(engine, title, text)


@pytest.mark.parametrize(("title", "text"), TRAPS)
def test_own_traps(engine: Engine, title: str, text: str) -> None:
    assert names(engine, title, text) == set()


def test_leaders_and_expansion(engine: Engine) -> None:
    xi = DocEntity("Q15031", "PERSON", "Xi", "Xi Jinping")
    when = datetime(2022, 9, 15)
    assert "SCO leaders" in names(engine, "Xi arrives for SCO summit", entities=[xi], published=when)
    assert "SCO leaders" in names(engine, "Путин прибыл на саммит ШОС")
    assert "SCO leaders" in names(engine, "习近平出席上合组织峰会")
    assert "SCO leaders" not in names(engine, "SCO summit agenda published")
    assert "SCO expansion" in names(engine, "Iran becomes full member of the SCO")
    assert "SCO expansion" in names(engine, "Беларусь подала заявку на вступление в ШОС")
    assert "SCO expansion" in names(engine, "伊朗正式成为上海合作组织成员国")
    assert "SCO expansion" not in names(engine, "SCO ministers discuss trade")
