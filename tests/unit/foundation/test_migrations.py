"""One Alembic history: it runs on SQLite, and it agrees with the models (regenerate after a change)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import shared.models  # noqa: F401
from shared.migrations import include_object, upgrade


def _diff(url: str, *, filtered: bool) -> list:  # type: ignore[type-arg]
    engine = create_engine(url)
    opts = {"include_object": include_object} if filtered else {}
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), SQLModel.metadata)
    engine.dispose()
    return diff


def test_history_matches_models_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    diff = _diff(url, filtered=True)
    assert diff == [], f"models and migrations differ; run `make migration`: {diff}"


def test_only_the_hand_written_objects_are_left_out_of_the_comparison(tmp_path: Path) -> None:
    """Unfiltered, the comparison sees exactly the FTS5 table (and its shadow tables) of revision 0003 and
    the mention-pair column and index of 0005."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    unfiltered = _diff(url, filtered=False)
    removed = sorted(d[1].name for d in unfiltered if d[0] == "remove_table")
    assert removed and all(name.startswith("article_fts") for name in removed), unfiltered
    rest = sorted(
        (d[0], d[3].name if d[0] == "remove_column" else d[1].name)
        for d in unfiltered
        if d[0] != "remove_table"
    )
    assert rest == [("remove_column", "article_mentions"), ("remove_index", "ix_mentions_pairs")], unfiltered


def test_unique_constraints_make_reprocessing_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.db'}"
    upgrade(url)
    insp = inspect(create_engine(url))

    def uniques(table: str) -> list[set[str]]:
        found = [set(u["column_names"]) for u in insp.get_unique_constraints(table)]
        found += [set(i["column_names"]) for i in insp.get_indexes(table) if i.get("unique")]
        return found

    assert {"canonical_url"} in uniques("articles")
    assert {"watch_id", "article_id"} in uniques("matches")
    assert {"watch_id", "story_key"} in uniques("alerts")
    assert {"subscription_id", "event_key"} in uniques("deliveries")
