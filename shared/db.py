"""Database engine and sessions: `session_scope()` for tasks and CLI, one engine per URL per process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, create_engine
from sqlmodel.sql.expression import Select, SelectOfScalar

from shared.config import get_settings

Q = TypeVar("Q", Select[*tuple[Any, ...]], SelectOfScalar[Any])  # a select of any number of columns


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """A pooled engine for the URL; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def get_engine() -> Engine:
    """The engine for the configured database."""
    return engine_for(get_settings().effective_database_url)


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    """True on SQLite (no SKIP LOCKED, one writer)."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def select_columns(*columns: Any) -> Select[*tuple[Any, ...]]:
    """`select()` of five or more columns or expressions.

    sqlmodel's `select` is typed for at most four (beyond that no overload matches); for more it builds
    this same `Select(*columns)`, whose rows the type checker sees as tuples of Any.
    """
    return Select(*columns)


def newest_first(q: Q, id_column: Any, *, limit: int, before: int | None) -> Q:
    """A keyset page of `q`: newest first by `id_column`, `limit` rows, ids below `before` when given."""
    q = q.order_by(col(id_column).desc()).limit(limit)
    return q if before is None else q.where(col(id_column) < before)
