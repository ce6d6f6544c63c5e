"""Alembic migrations: one history for PostgreSQL and SQLite, run with `upgrade(url)`.

0001 is regenerated from the models; later revisions are hand-written for what autogenerate cannot express.
Every object they create is named in HAND_WRITTEN, so comparing models with a migrated database (the test,
and autogenerate) skips exactly those and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent

# (table, column or index or None for the whole table) created by hand-written revisions; FTS5 also makes
# shadow tables named <table>_<suffix>.
HAND_WRITTEN: tuple[tuple[str, str | None], ...] = (
    ("article_search", "document"),
    ("article_search", "ix_article_search_document"),
    ("article_fts", None),
    ("mentions", "ix_mentions_entity_article"),  # 0004, PostgreSQL only
    ("article_search", "ix_article_search_article_facets"),  # 0004, PostgreSQL only
    ("mentions", "article_mentions"),  # 0005: written by shared.nlp.store.mark_pairs
    ("mentions", "ix_mentions_pairs"),  # 0005, label included by 0007
    ("article_search", "ix_article_search_feed_article"),  # 0006, PostgreSQL only
    ("article_sources", "ix_article_sources_feed_article"),  # 0006, PostgreSQL only
)
_FTS5_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")


def is_hand_written(name: str | None, type_: str, parent: str | None) -> bool:
    """Is this reflected object one that a hand-written revision made (so autogenerate must skip it)?"""
    if name is None:
        return False
    for table, part in HAND_WRITTEN:
        shadows = {table + s for s in _FTS5_SHADOWS}
        if part is None and type_ == "table" and (name == table or name in shadows):
            return True
        if part is not None and parent == table and name == part:
            return True
    return False


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's include_object hook: leave the hand-written objects out of comparisons."""
    parent = getattr(getattr(obj, "table", None), "name", None)
    return not (reflected and compare_to is None and is_hand_written(name, type_, parent))


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at this package and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    command.upgrade(alembic_config(url), revision)
