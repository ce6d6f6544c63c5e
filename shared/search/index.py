"""Writing the search index: one `article_search` row per processed article, plus its full text.

Called by the pipeline in the batch's transaction, after the article's language is known (the language
picks the text-search configuration). Re-processing an article replaces its row, so it never doubles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from shared.db import is_sqlite
from shared.links import source_host
from shared.models import Article, ArticleSearch
from shared.models.base import table_of, to_utc
from shared.search.text import config_for, indexed_text, stemmed_text

_PG_UPSERT = text(
    """
    INSERT INTO article_search (article_id, config, language, dated_at, feed_id, story_id, host, document)
    VALUES (:article_id, :config, :language, :dated_at, :feed_id, :story_id, :host,
            setweight(to_tsvector(CAST(:regconfig AS regconfig), :title), 'A')
            || setweight(to_tsvector(CAST(:regconfig AS regconfig), :body), 'B'))
    ON CONFLICT (article_id) DO UPDATE SET
        config = excluded.config, language = excluded.language, dated_at = excluded.dated_at,
        feed_id = excluded.feed_id, story_id = excluded.story_id, host = excluded.host,
        document = excluded.document
    """
)
_SQLITE_FTS_DELETE = text("DELETE FROM article_fts WHERE rowid = :article_id")
_SQLITE_FTS_INSERT = text(
    "INSERT INTO article_fts (rowid, cfg, title, text) VALUES (:article_id, :config, :title, :body)"
)


def article_time(published: datetime | None, fetched: datetime) -> datetime:
    """An article's time for windows and sorting: published, else fetched, and never after it was fetched
    (a feed that dates items in the future would otherwise keep them on top)."""
    fetched_utc = to_utc(fetched)
    assert fetched_utc is not None
    published_utc = to_utc(published)
    return min(published_utc, fetched_utc) if published_utc is not None else fetched_utc


def _row(article: Article) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "config": config_for(article.language),
        "language": article.language,
        "dated_at": article_time(article.published_at, article.fetched_at),
        "feed_id": article.feed_id,
        "story_id": article.story_id,
        "host": source_host(article.canonical_url),
    }


def index_articles(*, session: Session, articles: Sequence[Article]) -> None:
    """Add or replace the search rows of these articles (ids assigned, language known when it can be)."""
    if not articles:
        return
    rows = [_row(a) for a in articles]
    if is_sqlite(session):
        # through the table's types, so times are stored as SQLAlchemy stores (and compares) them
        stmt = sqlite.insert(table_of(ArticleSearch))
        updated = {c: stmt.excluded[c] for c in rows[0] if c != "article_id"}
        session.execute(stmt.on_conflict_do_update(index_elements=["article_id"], set_=updated), rows)
        session.execute(_SQLITE_FTS_DELETE, [{"article_id": r["article_id"]} for r in rows])
        fts = [
            {
                "article_id": a.id,
                "config": r["config"],
                "title": stemmed_text(a.title, r["config"]),
                "body": stemmed_text(a.text, r["config"]),
            }
            for a, r in zip(articles, rows, strict=True)
        ]
        session.execute(_SQLITE_FTS_INSERT, fts)
        return
    for a, r in zip(articles, rows, strict=True):
        r["regconfig"] = r["config"]  # one parameter per type: psycopg infers varchar and regconfig apart
        r["title"] = indexed_text(a.title)
        r["body"] = indexed_text(a.text)
    session.execute(_PG_UPSERT, rows)
