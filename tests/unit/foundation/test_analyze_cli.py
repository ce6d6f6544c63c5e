"""`newswatch analyze`: the DESIGN.md JSON for one article; a bad watch file exits 2 with the position."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli import main

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "seeds" / "articles" / "000_81c9518f30d00088.txt"


def test_seed_article_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(SEED)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["language"] == "en"
    assert {"text", "label", "canonical", "start", "end"} <= set(out["entities"][0])
    canon = {e["canonical"] for e in out["entities"]}
    assert {"Vladimir Putin", "Xi Jinping", "Narendra Modi"} <= canon
    # the knowledge-base id is `kb_id`, as in the API's mentions and the webhooks' entities
    assert all("kb_id" in e and "entity_id" not in e for e in out["entities"])
    assert "Q7747" in {e["kb_id"] for e in out["entities"]}
    watches = {m["watch"] for m in out["matches"]}
    assert "SCO" in watches
    sco = next(m for m in out["matches"] if m["watch"] == "SCO")
    assert {"watch", "score", "terms", "snippet"} <= set(sco) and sco["score"] > 0


def test_json_input_and_own_watch_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    art = tmp_path / "a.json"
    art.write_text(
        json.dumps({"title": "The SCO Group sues IBM", "text": "Unix code in Linux.", "url": "https://x"})
    )
    watches = tmp_path / "w.yaml"
    watches.write_text('- name: unix\n  query: Unix AND Linux\n- name: sco\n  query: SCO NOT "SCO Group"\n')
    assert main(["analyze", str(art), "--watches", str(watches)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [m["watch"] for m in out["matches"]] == ["unix"]


def test_bad_watch_exits_nonzero_with_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    watches = tmp_path / "bad.yaml"
    watches.write_text("- name: bad\n  query: SCO AND (summit OR\n")
    art = tmp_path / "a.txt"
    art.write_text("SCO summit opens in Astana today")
    assert main(["analyze", str(art), "--watches", str(watches)]) == 2
    assert "position 18" in capsys.readouterr().err
