"""`newswatch import`: idempotent, resumable backfill into the real database."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlmodel import select

from services.importer import main, run_import
from shared.db import session_scope
from shared.models import Article

pytestmark = pytest.mark.integration

TEXT = "The Shanghai Cooperation Organisation held a meeting of its council of foreign ministers. " * 3


def _rows() -> list[str]:
    rows = [
        {"title": f"Archive story {i}", "text": f"{TEXT} Item {i}.", "url": f"https://arch.example/{i}",
         "date": f"2022-06-0{i + 1}T10:00:00Z"}
        for i in range(5)
    ]  # fmt: skip
    lines = [json.dumps(r) for r in rows]
    lines.insert(2, "{not json")
    lines.append(json.dumps({"title": "", "text": ""}))  # nothing in it: refused
    lines.append(json.dumps({"title": "No URL", "text": TEXT, "id": "arch-x"}))
    return lines


def _count() -> int:
    with session_scope() as session:
        return len(list(session.exec(select(Article.id))))


def test_import_is_idempotent_and_resumable(
    clean_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(_rows()) + "\n")
    first = run_import(
        path, batch_size=2, process=False, limit=3, progress=False
    )  # "interrupted" after 3 lines
    assert first["lines"] == 3 and first["new"] == 2 and first["errors"] == 1
    second = run_import(path, batch_size=2, process=False, progress=False)
    assert second["resumed_at"] == 3 and second["lines"] == 8 and second["new"] == 6 and second["errors"] == 2
    assert _count() == 6
    with session_scope() as session:
        arts = list(session.exec(select(Article).order_by(Article.id)))
    assert all(a.story_id is not None and a.source == "import" for a in arts)
    assert arts[0].published_at is not None
    # A fresh run over the same file (checkpoint ignored) creates nothing new.
    again = run_import(path, process=False, restart=True, progress=False)
    assert again["new"] == 0 and again["existing"] == 6 and _count() == 6
    # The CLI entry point, on a gzip archive, prints its counts as JSON.
    gz = tmp_path / "archive.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert main([str(gz), "--no-process", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["new"] == 0
