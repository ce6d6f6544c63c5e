"""SQL for articles, their sources and story bands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import BigInteger, Table, any_, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from shared.db import newest_first
from shared.ingestion.stories import StoryCandidate
from shared.models import Article, ArticleSource
from shared.models.article import StoryBand
from shared.models.base import table_of


def list_page(
    *, session: Session, limit: int, before_id: int | None = None, status: str | None = None
) -> list[Article]:
    """Newest first, keyset-paginated by id."""
    q = newest_first(select(Article), Article.id, limit=limit, before=before_id)
    if status is not None:
        q = q.where(Article.status == status)
    return list(session.exec(q))


def articles_for_stories(*, session: Session, ids: Sequence[int]) -> list[Article]:
    """Articles (by id, ascending) that still need a story."""
    if not ids:
        return []
    q = select(Article).where(col(Article.id).in_(list(ids)), col(Article.story_id).is_(None))
    return list(session.exec(q.order_by(col(Article.id))))


class SqlStoryStore:
    """`StoryStore` on the articles and story_bands tables of one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def story_by_fingerprint(self, fingerprint: str, *, before_id: int) -> int | None:
        """Story of the earliest other article with this fingerprint."""
        q = (
            select(Article.id, Article.story_id)
            .where(Article.fingerprint == fingerprint, col(Article.id) < before_id)
            .order_by(col(Article.id))
            .limit(1)
        )
        row = self.session.exec(q).first()
        return None if row is None else (row[1] or row[0])

    def candidates(self, bands: Sequence[int], *, before_id: int, limit: int) -> list[StoryCandidate]:
        """Earlier articles sharing a band, with their signatures."""
        if not bands:
            return []
        ids_q = (
            select(StoryBand.article_id)
            .where(col(StoryBand.band).in_(list(bands)), col(StoryBand.article_id) < before_id)
            .distinct()
            .limit(limit)
        )
        ids = list(self.session.exec(ids_q))
        if not ids:
            return []
        rows = self.session.exec(
            select(Article.id, Article.story_id, Article.minhash).where(col(Article.id).in_(ids))
        )
        return [StoryCandidate(int(a), s, m) for a, s, m in rows if a is not None]

    def save(self, article_id: int, *, story_id: int, signature: bytes | None, bands: Sequence[int]) -> None:
        """Write story id and signature; add the band rows in one statement."""
        self.session.exec(
            update(Article).where(col(Article.id) == article_id).values(story_id=story_id, minhash=signature)
        )
        if bands:
            rows = [{"band": b, "article_id": article_id} for b in bands]
            self.session.exec(insert(StoryBand).values(rows))


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextlib.contextmanager
def _prefer_indexes(session: Session) -> Iterator[None]:
    """Lookups by a batch of keys must use their index even before the table was first ANALYZEd.

    Without statistics PostgreSQL assumes a many-key `= ANY(...)` matches much of the table and scans it
    all, comparing every row with every key; on a fast-growing table (a new install, a backfill) that
    stays true until autovacuum's first ANALYZE, and each fetch gets slower than the last.
    """
    if not _is_pg(session):
        yield
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_seqscan = on"))


def _insert(session: Session, table: Table) -> Any:
    """An INSERT that understands ON CONFLICT on both supported databases."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _pg_insert_unnest(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: str,
    returning: str | None = None,
) -> Any:
    """INSERT ... SELECT FROM unnest(one array per column) ON CONFLICT DO NOTHING: one statement, one
    round trip and one cached plan whatever the number of rows (PostgreSQL only).

    The SQL is built from the table's own metadata, never from input.
    """
    cols = list(rows[0].keys())
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves this alias untyped
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in cols)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({conflict}) DO NOTHING"
    )
    if returning:
        sql += f" RETURNING {returning}"
    return session.connection().execute(text(sql), {c: [r[c] for r in rows] for c in cols})


def reserve_article_ids(*, session: Session, count: int) -> list[int] | None:
    """`count` fresh article ids from the sequence (PostgreSQL); None where ids come only from inserts."""
    if not _is_pg(session) or count <= 0:
        return None
    q = text("SELECT nextval(pg_get_serial_sequence('articles', 'id')) FROM generate_series(1, :n)")
    return [int(r[0]) for r in session.connection().execute(q, {"n": count})]


def existing_articles(*, session: Session, canonical_urls: Sequence[str]) -> dict[str, int]:
    """{canonical URL: article id} for the URLs already stored."""
    out: dict[str, int] = {}
    unique = list(dict.fromkeys(canonical_urls))
    for i in range(0, len(unique), 500):
        q = select(Article.id, Article.canonical_url).where(
            col(Article.canonical_url).in_(unique[i : i + 500])
        )
        out.update({c: int(a) for a, c in session.exec(q) if a is not None})
    return out


def insert_articles(*, session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert rows, skipping canonical URLs that exist (also under a concurrent insert); {url: new id}."""
    if not rows:
        return {}
    table = table_of(Article)
    if _is_pg(session):
        result = _pg_insert_unnest(
            session, table, rows, conflict="canonical_url", returning="id, canonical_url"
        )
        return {c: int(a) for a, c in result}
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["canonical_url"])
        .returning(table.c.id, table.c.canonical_url)
    )
    result = session.connection().execute(stmt, list(rows))
    return {c: int(a) for a, c in result}


def add_sources(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Remember every (article, feed, guid) pair once; existing pairs are left alone."""
    if not rows:
        return
    table = table_of(ArticleSource)
    if _is_pg(session):
        _pg_insert_unnest(session, table, rows, conflict="article_id, feed_id")
        return
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=["article_id", "feed_id"])
    session.connection().execute(stmt, list(rows))


class SqlBatchStoryStore:
    """`BatchStoryStore` on the articles and story_bands tables of one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def stories_by_fingerprints(self, fingerprints: Sequence[str]) -> dict[str, int]:
        """Story of the earliest assigned article per fingerprint."""
        if not fingerprints:
            return {}
        q = select(Article.fingerprint, Article.id, Article.story_id).where(
            col(Article.fingerprint).in_(list(fingerprints)), col(Article.story_id).is_not(None)
        )
        earliest: dict[str, tuple[int, int]] = {}
        with _prefer_indexes(self.session):
            found = list(self.session.exec(q))
        for fp, aid, story in found:  # earliest article per fingerprint, chosen here: no ORDER BY in SQL
            if (
                fp is not None
                and story is not None
                and aid is not None
                and (fp not in earliest or aid < earliest[fp][0])
            ):
                earliest[fp] = (int(aid), int(story))
        return {fp: story for fp, (_aid, story) in earliest.items()}

    def candidates_for_bands(self, bands: Sequence[int]) -> list[StoryCandidate]:
        """Assigned articles sharing a band (at most 2,000, newest first), with their signatures."""
        if _is_pg(self.session):
            # One array parameter instead of thousands of IN placeholders (parsed on every call).
            match = col(StoryBand.band) == any_(bindparam("bands", list(bands), type_=ARRAY(BigInteger)))
        else:
            match = col(StoryBand.band).in_(list(bands))
        # No DISTINCT/ORDER BY in SQL: they steer the planner to walk the article_id index instead.
        with _prefer_indexes(self.session):
            found = set(self.session.exec(select(StoryBand.article_id).where(match)))
        ids = sorted(found, reverse=True)[:2000]
        if not ids:
            return []
        q = select(Article.id, Article.story_id, Article.minhash).where(col(Article.id).in_(ids))
        return [StoryCandidate(int(a), s, m) for a, s, m in self.session.exec(q) if a is not None]

    def save_bands(self, rows: Sequence[tuple[int, int, bytes | None, Sequence[int]]]) -> None:
        """Insert the band rows only (story and signature were written with the articles)."""
        band_rows = [(b, a) for a, _, _, bands in rows for b in bands]
        if not band_rows:
            return
        if _is_pg(self.session):
            self.session.connection().execute(
                text(
                    "INSERT INTO story_bands (band, article_id) "
                    "SELECT * FROM unnest(CAST(:bands AS bigint[]), CAST(:ids AS integer[]))"
                ),
                {"bands": [b for b, _ in band_rows], "ids": [a for _, a in band_rows]},
            )
            return
        self.session.connection().execute(
            insert(table_of(StoryBand)),
            [{"band": b, "article_id": a} for b, a in band_rows],
        )

    def save_many(self, rows: Sequence[tuple[int, int, bytes | None, Sequence[int]]]) -> None:
        """One executemany UPDATE for stories and signatures, one INSERT for all band rows."""
        if not rows:
            return
        table = table_of(Article)
        conn = self.session.connection()
        band_rows = [(b, a) for a, _, _, bands in rows for b in bands]
        if _is_pg(self.session):
            # Set-at-a-time on PostgreSQL: one statement per table whatever the batch size.
            with _prefer_indexes(self.session):
                conn.execute(
                    text(
                        "UPDATE articles SET story_id = u.story, minhash = u.sig FROM unnest("
                        "CAST(:ids AS integer[]), CAST(:stories AS integer[]), CAST(:sigs AS bytea[])) "
                        "AS u(id, story, sig) WHERE articles.id = u.id"
                    ),
                    {
                        "ids": [r[0] for r in rows],
                        "stories": [r[1] for r in rows],
                        "sigs": [r[2] for r in rows],
                    },
                )
            if band_rows:
                conn.execute(
                    text(
                        "INSERT INTO story_bands (band, article_id) "
                        "SELECT * FROM unnest(CAST(:bands AS bigint[]), CAST(:ids AS integer[]))"
                    ),
                    {"bands": [b for b, _ in band_rows], "ids": [a for _, a in band_rows]},
                )
            return
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(story_id=bindparam("b_story"), minhash=bindparam("b_sig"))
        )
        conn.execute(stmt, [{"b_id": a, "b_story": s, "b_sig": sig} for a, s, sig, _ in rows])
        if band_rows:
            conn.execute(insert(table_of(StoryBand)), [{"band": b, "article_id": a} for b, a in band_rows])
