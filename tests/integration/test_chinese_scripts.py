"""Traditional and Simplified Chinese through the service: API push → real worker → alerts and mentions;
POST /watches/validate shows the folded form; `newswatch analyze` gives the same links for both scripts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.cli import main
from tests.support.processes import Proc

pytestmark = pytest.mark.integration

TRAD = {
    "title": "上海合作組織峰會在阿斯塔納舉行",
    "text": "國家主席習近平出席峰會。外交部發言人毛寧表示，各方在安全領域上合作。",
    "url": "http://127.0.0.1/zh-hant",
}
SIMP = {
    "title": "上合组织外长会议在塔什干召开",
    "text": "国家主席习近平致贺信。外交部发言人毛宁在例行记者会上介绍了会议情况。",
    "url": "http://127.0.0.1/zh-hans",
}


def _wait_alerts(api: TestClient, worker: Proc, want: int, timeout: float = 120.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = api.get("/api/v1/alerts").json()["items"]
        if len(items) >= want:
            return items
        time.sleep(0.3)
    raise AssertionError(f"{want} alerts expected; worker log:\n{worker.log()[-3000:]}")


def test_both_scripts_alert_and_link_alike_through_api_and_worker(api: TestClient, worker: Proc) -> None:
    for name, query in (("trad", '"上海合作組織" OR 上合組織'), ("simp", '"上海合作组织" OR 上合组织')):
        r = api.post("/api/v1/watches", json={"name": name, "query": query})
        assert r.status_code == 201, r.text
    r = api.post("/api/v1/articles", json={"articles": [TRAD, SIMP]})
    assert r.status_code == 202, r.text
    ids = r.json()["ids"]
    alerts = _wait_alerts(api, worker, 4)
    assert sorted((a["watch"], a["title"]) for a in alerts) == sorted(
        (w, t) for w in ("trad", "simp") for t in (TRAD["title"], SIMP["title"])
    )
    details = [api.get(f"/api/v1/articles/{i}").json() for i in ids]
    for d, art in zip(details, (TRAD, SIMP), strict=True):
        body = f"{art['title']}\n\n{art['text']}"
        for e in d["entities"]:
            assert body[e["start"] : e["end"]] == e["text"]  # offsets into the original script
        for m in d["matches"]:
            for t in m["terms"]:
                assert art[t["field"]][t["start"] : t["end"]] == t["text"]
    kb = [{e["kb_id"] for e in d["entities"] if e["kb_id"]} for d in details]
    assert {"sco", "Q15031"} <= kb[0] and {"sco", "Q15031"} <= kb[1]
    # The unknown spokeswoman, 毛寧 and 毛宁, is one unlinked PERSON entity mentioned in both articles.
    mao = [
        {(e["entity_id"], e["label"], e["kb_id"]) for e in d["entities"] if e["text"] in ("毛寧", "毛宁")}
        for d in details
    ]
    assert len(mao[0]) == 1 and mao[0] == mao[1] and next(iter(mao[0]))[1:] == ("PERSON", None)
    # 上合 inside 上合作 ("cooperate on") is not the SCO.
    assert not any(e["text"] == "上合" for e in details[0]["entities"])


def test_validate_shows_the_folded_query(api: TestClient) -> None:
    r = api.post("/api/v1/watches/validate", json={"query": '"上海合作組織" AND 峰會'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["canonical"] == "上海合作組織 AND 峰會"
    assert body["folded"] == "上海合作组织 AND 峰会"


def test_cli_analyze_gives_the_same_links_and_matches_in_both_scripts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watches = tmp_path / "w.yaml"
    watches.write_text("- name: sco\n  query: '\"上海合作組織\" AND 峰会'\n", encoding="utf-8")
    outs = []
    for text in (
        "上海合作組織峰會在阿斯塔納舉行，習近平出席。",
        "上海合作组织峰会在阿斯塔纳举行，习近平出席。",
    ):
        art = tmp_path / "a.txt"
        art.write_text(text, encoding="utf-8")
        assert main(["analyze", str(art), "--watches", str(watches)]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["language"] == "zh"
        for e in out["entities"]:
            assert text[e["start"] : e["end"]] == e["text"]
        outs.append(out)
    strip = [[(e["label"], e["canonical"], e["start"], e["end"]) for e in o["entities"]] for o in outs]
    assert strip[0] == strip[1]
    assert {"Shanghai Cooperation Organisation", "Xi Jinping", "Astana"} <= {c for _l, c, _s, _e in strip[0]}
    assert [m["watch"] for m in outs[0]["matches"]] == [m["watch"] for m in outs[1]["matches"]] == ["sco"]
