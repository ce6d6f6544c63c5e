"""One Alembic history: it runs on SQLite, and it agrees with the models (regenerate after a change)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import shared.models  # noqa: F401
from shared.migrations import upgrade


def test_history_matches_models_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; run `make migration`: {diff}"


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
