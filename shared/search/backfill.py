"""Search backfill: index processed articles that have no search row (stored before the index existed, or
restored from a dump without it), in bounded batches, each in its own transaction.

The pipeline indexes every article it processes (shared.search.index), so after the backfill nothing is left
behind. Run by the scheduler's `pipeline.index_missing` every `search_backfill_seconds` (an hour: finding
the missing ones is an anti-join over all articles, ~0.4 s at 100,000, too much for every 30 s sweep; at
most `search_backfill_per_run` articles a run, so a large archive is caught up over several runs without
holding a transaction long) and by `newswatch reindex` (everything now; `--all` rewrites every row, e.g.
after a change to the text-search configurations).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import exists
from sqlmodel import Session, col, select

from shared.models import Article, ArticleSearch
from shared.models.article import STATUS_PROCESSED
from shared.search.index import index_articles

SessionFactory = Callable[[], AbstractContextManager[Session]]
DEFAULT_BATCH = 200


def missing_ids(*, session: Session, after: int = 0, limit: int = DEFAULT_BATCH) -> list[int]:
    """Processed articles with no search row, by id from `after` (exclusive)."""
    indexed = exists().where(col(ArticleSearch.article_id) == col(Article.id))
    q = (
        select(Article.id)
        .where(Article.status == STATUS_PROCESSED, col(Article.id) > after, ~indexed)
        .order_by(col(Article.id))
        .limit(limit)
    )
    return [int(i) for i in session.exec(q) if i is not None]


def _all_ids(*, session: Session, after: int, limit: int) -> list[int]:
    q = (
        select(Article.id)
        .where(Article.status == STATUS_PROCESSED, col(Article.id) > after)
        .order_by(col(Article.id))
        .limit(limit)
    )
    return [int(i) for i in session.exec(q) if i is not None]


def index_missing(
    *,
    sessions: SessionFactory,
    batch: int = DEFAULT_BATCH,
    max_articles: int | None = None,
    rebuild: bool = False,
) -> int:
    """Index processed articles lacking a search row (every processed article with `rebuild`), `batch` per
    transaction, at most `max_articles` (None: until none is left); returns how many were indexed."""
    done = 0
    after = 0
    while max_articles is None or done < max_articles:
        size = batch if max_articles is None else min(batch, max_articles - done)
        with sessions() as session:
            pick = _all_ids if rebuild else missing_ids
            ids = pick(session=session, after=after, limit=size)
            if not ids:
                break
            rows = list(
                session.exec(select(Article).where(col(Article.id).in_(ids)).order_by(col(Article.id)))
            )
            index_articles(session=session, articles=rows)
            session.commit()
        done += len(ids)
        after = ids[-1]
    return done
