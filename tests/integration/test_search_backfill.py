"""Search backfill: processed articles stored before the search index existed (no search row, no FTS row)
become searchable, in bounded batches, once each, on PostgreSQL and SQLite; unprocessed ones are left to the
pipeline; `newswatch reindex` does the same from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from shared.db import is_sqlite
from shared.models import Article
from shared.search import service
from shared.search.backfill import index_missing, missing_ids
from shared.security.access import Caller
from tests.support.corpus import NOW, add_articles

pytestmark = pytest.mark.integration

ADMIN = Caller(key_id=1, account_id=1, scopes=("admin",))
LEGACY = [{"title": f"Astana summit report {i}", "text": "Leaders met in Astana."} for i in range(5)]


def _forget_index(session: Session) -> None:
    """What a database from before the search index looks like: articles without their search rows."""
    session.execute(text("DELETE FROM article_search"))
    if is_sqlite(session):
        session.execute(text("DELETE FROM article_fts"))
    session.commit()


def _found(session: Session, q: str) -> int:
    filters = service.build_filters(session=session, caller=ADMIN, q=q)
    return len(service.search_articles(session=session, filters=filters, limit=50).items)


def _factory(session: Session) -> Any:
    @contextmanager
    def sessions() -> Iterator[Session]:
        with Session(session.get_bind(), expire_on_commit=False) as s:
            yield s

    return sessions


def test_legacy_articles_become_searchable_in_bounded_batches_once(session: Session) -> None:
    add_articles(session, LEGACY)
    waiting = Article(
        url="https://example.org/new",
        canonical_url="https://example.org/new",
        title="Astana summit, not processed yet",
        text="",
        fetched_at=NOW,
        status="fetched",
    )
    session.add(waiting)
    session.commit()
    _forget_index(session)
    assert _found(session, "astana") == 0 and len(missing_ids(session=session)) == 5

    sessions = _factory(session)
    assert index_missing(sessions=sessions, batch=2, max_articles=3) == 3  # bounded: a sweep's share
    session.expire_all()
    assert _found(session, "astana") == 3 and len(missing_ids(session=session)) == 2
    assert index_missing(sessions=sessions, batch=2) == 2  # the rest, two transactions
    assert _found(session, "astana") == 5
    assert index_missing(sessions=sessions, batch=2) == 0  # nothing twice; the unprocessed one waits
    assert index_missing(sessions=sessions, rebuild=True) == 5  # --all rewrites, never doubles
    assert _found(session, "astana") == 5


def test_the_reindex_command_indexes_what_is_missing(clean_db: str) -> None:
    from services.cli import main
    from shared.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as s:
        add_articles(s, LEGACY)
        _forget_index(s)
        assert _found(s, "summit") == 0
    assert main(["reindex", "--batch", "2"]) == 0
    with Session(get_engine(), expire_on_commit=False) as s:
        assert _found(s, "summit") == 5 and missing_ids(session=s) == []


def test_the_scheduler_indexes_them_hourly_a_bounded_number_a_run(clean_db: str) -> None:
    from services.pipeline.tasks import index_missing_articles
    from services.scheduler import beat_schedule
    from shared.config import get_settings
    from shared.db import get_engine

    entry = beat_schedule(get_settings())["search-backfill"]
    assert entry == {"task": "pipeline.index_missing", "schedule": 3600.0}
    with Session(get_engine(), expire_on_commit=False) as s:
        add_articles(s, LEGACY)
        _forget_index(s)
    assert index_missing_articles() == 5
    assert index_missing_articles() == 0
    with Session(get_engine(), expire_on_commit=False) as s:
        assert _found(s, "astana") == 5
