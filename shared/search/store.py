"""SQL of article search: the text condition per backend, filters, keyset pages and facets.

PostgreSQL: a document matches when the query, read in the document's own configuration, matches its
tsvector: `(config = 'english' AND document @@ to_tsquery('english', q)) OR (config = 'russian' AND ...)`,
one branch per configuration present, each served by the GIN index (a BitmapOr). So "summits" finds
English "summit" and a stop word never empties a query for the languages that keep it.
SQLite: the same branches inside one FTS5 expression, `(cfg : "english" AND (...)) OR ...`, with the
query words stemmed here as the documents were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, REGCONFIG
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from shared.db import is_sqlite
from shared.models import ArticleSearch, ArticleSource, Match, Mention
from shared.models.base import table_of
from shared.search.syntax import Node, to_fts5, to_tsquery_text
from shared.search.text import CONFIGS

S = table_of(ArticleSearch)
_BY_FEED = S.alias("by_feed")
FTS = table("article_fts", column("rowid"))

_PRESENT_CONFIGS = text(
    """
    WITH RECURSIVE c(v) AS (
        SELECT min(config) FROM article_search
        UNION ALL
        SELECT (SELECT min(config) FROM article_search WHERE config > c.v) FROM c WHERE c.v IS NOT NULL
    )
    SELECT v FROM c WHERE v IS NOT NULL
    """
)


@dataclass(frozen=True)
class Filters:
    """What narrows a search (the query tree included); ids are resolved and visible to the caller."""

    node: Node | None = None
    watch_id: int | None = None
    entity_ids: tuple[int, ...] | None = None
    feed_id: int | None = None
    languages: tuple[str, ...] = ()
    story_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def configs_to_search(*, session: Session, languages: Sequence[str], configs_of: Any) -> list[str]:
    """The configurations with documents (a loose index scan), or those of the requested languages."""
    if languages:
        return sorted({configs_of(lang) for lang in languages})
    return [c for (c,) in session.execute(_PRESENT_CONFIGS) if c in CONFIGS]


def _text_condition(session: Session, node: Node, configs: Sequence[str]) -> tuple[Any, dict[str, Any]]:
    """The match condition and its bound values for this backend."""
    if is_sqlite(session):
        expr = " OR ".join(f'(cfg : "{c}" AND ({to_fts5(node, c)}))' for c in configs)
        return text("article_fts MATCH :fts"), {"fts": expr}
    branches = [
        text(f"(article_search.config = '{c}' AND article_search.document @@ to_tsquery('{c}', :tsq))")
        for c in configs
    ]
    return or_(*branches), {"tsq": to_tsquery_text(node)}


def _among(session: Session, ids: Select[Any], *, every: bool) -> Any:
    """article_search.article_id among the ids a subquery gives.

    A page (`every` false) keeps `IN (subquery)`: PostgreSQL walks the time index newest first and stops
    after a page. What reads every match (facets) asks `= ANY(ARRAY(SELECT DISTINCT ...))` there: the
    distinct ids from an ordered index range (ix_mentions_entity_article, uq_match_watch_article), each looked
    up index-only in ix_article_search_article_facets. With `IN`, the planner, counting mentions rather than
    articles, chose a hash semi-join over a sequential scan of article_search: 75-155 ms at 100,000
    articles whatever the entity's size, against 2-21 ms (migration 0004)."""
    if every and not is_sqlite(session):
        return S.c.article_id == any_(func.array(ids.distinct().scalar_subquery()))
    return S.c.article_id.in_(ids)


def base_query(
    session: Session, f: Filters, configs: Sequence[str], *cols: Any, every: bool = False
) -> tuple[Select[Any], dict[str, Any]]:
    """SELECT cols FROM article_search (joined to the FTS table on SQLite when there is a query) + filters;
    `every`: the statement reads every match (facets), not a page."""
    q = select(*cols).select_from(S)
    params: dict[str, Any] = {}
    conds: list[Any] = []
    if f.node is not None:
        if not configs:
            conds.append(literal(False))
        else:
            cond, params = _text_condition(session, f.node, configs)
            if is_sqlite(session):
                q = q.select_from(S.join(FTS, FTS.c.rowid == S.c.article_id))
            conds.append(cond)
    if f.watch_id is not None:
        watched = select(col(Match.article_id)).where(col(Match.watch_id) == f.watch_id)
        conds.append(_among(session, watched, every=every))
    if f.entity_ids is not None:
        ids = list(f.entity_ids)
        mentioned = select(col(Mention.article_id)).where(col(Mention.entity_id).in_(ids))
        conds.append(_among(session, mentioned, every=every))
    if f.feed_id is not None:
        # the articles seen in the feed (article_sources) or stored from it, as one id set: with
        # `feed_id = f OR article_id IN (...)` PostgreSQL guessed half the rows pass, and read every match
        # of the text (8,088 for `bank`) to keep the 133 of feed 25; as a set it starts from the feed's ids
        seen = select(col(ArticleSource.article_id)).where(col(ArticleSource.feed_id) == f.feed_id)
        stored = select(_BY_FEED.c.article_id).where(_BY_FEED.c.feed_id == f.feed_id)
        conds.append(S.c.article_id.in_(union_all(seen, stored)))
    if f.languages:
        conds.append(
            or_(*(or_(S.c.language == lang, S.c.language.like(f"{lang}-%")) for lang in f.languages))
        )
    if f.story_id is not None:
        conds.append(S.c.story_id == f.story_id)
    if f.since is not None:
        conds.append(S.c.dated_at >= f.since)
    if f.until is not None:
        conds.append(S.c.dated_at < f.until)
    if conds:
        q = q.where(and_(*conds))
    return q, params


def page_by_time(
    *, session: Session, f: Filters, configs: Sequence[str], after: tuple[datetime, int] | None, limit: int
) -> list[tuple[int, datetime, float | None]]:
    """(article id, time, None) newest first, after a (time, id) cursor."""
    q, params = base_query(session, f, configs, S.c.article_id, S.c.dated_at)
    if after is not None:
        key = tuple_(literal(after[0], DateTime()), literal(after[1], Integer()))
        q = q.where(tuple_(S.c.dated_at, S.c.article_id) < key)
    q = q.order_by(_newest_first(session, f), S.c.article_id.desc()).limit(limit)
    return [(int(i), t, None) for i, t in session.execute(q, params)]


def _newest_first(session: Session, f: Filters) -> Any:
    """The page's order: newest first.

    Alone, a text query lets PostgreSQL walk ix_article_search_time newest first, testing each row until a
    page is found: right for a common word. Combined with a filter whose selectivity it cannot estimate
    (`feed_id = f OR id IN (article_sources ...)`, an entity's or a watch's ids, a language), it walked on
    as if one row in two passed: `police` in feed 1 (14 matches at 100,000 articles) tested every one of
    100,000 rows' tsvectors, 456 ms. Then the order is by `dated_at + interval '0'`, an expression no index
    has: the matches come from the GIN bitmap (and the filters' indexes) and a top-N sort (3 ms)."""
    narrowed = f.feed_id is not None or f.entity_ids is not None or f.watch_id is not None or f.languages
    if f.node is not None and narrowed and not is_sqlite(session):
        return (S.c.dated_at + literal_column("interval '0'")).desc()
    return S.c.dated_at.desc()


def _rank(session: Session, configs: Sequence[str]) -> Any:
    """Relevance, higher is better: ts_rank_cd (title words weigh more: weight A) or -bm25 on SQLite."""
    if is_sqlite(session):
        return -func.bm25(literal_column("article_fts"))
    # The query read in each row's own configuration, as in the match condition: one constant per
    # configuration (`CASE config WHEN 'english' THEN to_tsquery('english', q) ...`), parsed once per
    # statement, not `to_tsquery(config::regconfig, q)` per row (a cast and a parse per match: ~40% of it).
    q = bindparam("tsq", type_=String())
    query = case(
        *((S.c.config == c, func.to_tsquery(literal_column(f"'{c}'::regconfig"), q)) for c in configs),
        else_=func.to_tsquery(cast(S.c.config, REGCONFIG), q),
    )
    # float8: a float4 reads back rounded ("1.8"), and the cursor would not compare equal to itself
    return cast(func.ts_rank_cd(literal_column("article_search.document"), query), DOUBLE_PRECISION)


def page_by_rank(
    *,
    session: Session,
    f: Filters,
    configs: Sequence[str],
    after: tuple[float, int] | None,
    limit: int,
    candidates: int = 0,
) -> list[tuple[int, datetime, float | None]]:
    """(article id, time, rank) most relevant first, after a (rank, id) cursor; on PostgreSQL with
    `candidates` > 0, among the newest `candidates` matches only (0: every match)."""
    rank = _rank(session, [c for c in configs if c in CONFIGS])
    if candidates > 0 and not is_sqlite(session):
        return _page_by_rank_bounded(session, f, configs, rank, after, limit, candidates)
    inner, params = base_query(session, f, configs, S.c.article_id, S.c.dated_at, rank.label("rank"))
    return _rank_page(session, inner, params, after, limit)


def _page_by_rank_bounded(
    session: Session,
    f: Filters,
    configs: Sequence[str],
    rank: Any,
    after: tuple[float, int] | None,
    limit: int,
    candidates: int,
) -> list[tuple[int, datetime, float | None]]:
    """Rank the newest `candidates` matches, not every match: ts_rank_cd reads each ranked row's tsvector
    (~4 us a row: 8,088 matches of `bank` at 100,000 articles took 41 ms; 1,000 take ~4 ms).

    The candidates are the ids and times of the matches (a bitmap heap scan of the GIN index's hits),
    the newest kept by a top-N sort, then each one's tsvector read by primary key to rank it. They are
    ordered by `dated_at + interval '0'`, an expression no index has: with `dated_at` PostgreSQL walked
    ix_article_search_time newest first evaluating the text condition on every row it passed (11,719 rows
    for 1,000 matches of `bank`: 32 ms), the costlier plan for any word under ~15% of the corpus."""
    ids, params = base_query(session, f, configs, S.c.article_id, S.c.dated_at)
    newest = (S.c.dated_at + literal_column("interval '0'")).desc()
    cand = (
        ids.order_by(newest, S.c.article_id.desc())
        .limit(candidates)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    r = rank.label("rank")
    inner = select(cand.c.article_id, cand.c.dated_at, r).join(S, S.c.article_id == cand.c.article_id)
    return _rank_page(session, inner, params, after, limit)


def facets(*, session: Session, f: Filters, configs: Sequence[str]) -> list[tuple[str, str, int]]:
    """(UTC day, language, count) of every matching article: both facets from one pass over the matches."""
    if is_sqlite(session):
        day: Any = func.date(S.c.dated_at)
    else:
        day = cast(func.timezone("UTC", S.c.dated_at), Date)
    lang = func.coalesce(S.c.language, "und")
    q, params = base_query(
        session, f, configs, day.label("day"), lang.label("lang"), func.count().label("n"), every=True
    )
    q = q.group_by(text("day"), text("lang"))
    return [(str(d), str(lg), int(n)) for d, lg, n in session.execute(q, params)]


def _rank_page(
    session: Session, inner: Any, params: Any, after: tuple[float, int] | None, limit: int
) -> list[tuple[int, datetime, float | None]]:
    """A page of `inner`'s (article id, time, rank) rows, most relevant first, after a (rank, id) cursor."""
    sub = inner.subquery()
    q = select(sub.c.article_id, sub.c.dated_at, sub.c.rank)
    if after is not None:
        key = tuple_(literal(after[0], Float()), literal(after[1], Integer()))
        q = q.where(tuple_(sub.c.rank, sub.c.article_id) < key)
    q = q.order_by(sub.c.rank.desc(), sub.c.article_id.desc()).limit(limit)
    return [(int(i), t, float(r)) for i, t, r in session.execute(q, params)]
