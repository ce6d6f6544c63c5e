"""Integration fixtures: a fresh PostgreSQL database per run, a flushed Redis, the API, workers, servers."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import TEST_DB_NAME
from tests.support import processes
from tests.support.corpus import sqlite_session
from tests.support.servers import LocalServer

ADMIN_KEY = os.environ["NEWSWATCH_ADMIN_API_KEY"]
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _admin_conn() -> psycopg.Connection:
    return psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)


@pytest.fixture(autouse=True)
def _fresh_subscription_cache() -> Iterator[None]:
    """Tests reuse subscription ids (tables are truncated between tests): no cached endpoint may leak."""
    from shared.alerts import outbox

    outbox.forget_subscription()
    yield
    outbox.forget_subscription()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this run, migrated to head, dropped at the end."""
    from shared.config import get_settings
    from shared.migrations import upgrade

    try:
        conn = _admin_conn()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering on 127.0.0.1:5432 (run scripts/ensure-services.sh): {exc}")
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEST_DB_NAME}"')
    get_settings.cache_clear()
    url = get_settings().effective_database_url
    upgrade(url)
    from shared.db import session_scope
    from shared.security.accounts import ensure_admin_key

    with session_scope() as session:
        ensure_admin_key(session=session, configured=ADMIN_KEY)
    yield url
    from shared.db import engine_for

    engine_for(url).dispose()
    with contextlib.suppress(psycopg.Error), _admin_conn() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}" WITH (FORCE)')


@pytest.fixture()
def redis_client() -> Iterator[redis.Redis]:
    """The test Redis database, flushed before and after the test."""
    client = redis.Redis.from_url(os.environ["NEWSWATCH_REDIS_URL"])
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not answering on 127.0.0.1:6379 (run scripts/ensure-services.sh): {exc}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture()
def clean_db(database_url: str) -> str:
    """Empty every table, so each test starts from nothing but the system account and its admin key."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    import shared.models  # noqa: F401  (every table registered)
    from shared.db import get_engine, session_scope
    from shared.models.account import SYSTEM_ACCOUNT_ID
    from shared.security.accounts import ensure_admin_key
    from shared.security.keys import hash_key

    kept = ("api_keys", "accounts")
    tables = ", ".join(t for t in SQLModel.metadata.tables if t not in kept)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM api_keys WHERE key_hash != :h"), {"h": hash_key(ADMIN_KEY)})
        conn.execute(text("DELETE FROM accounts WHERE id != :i"), {"i": SYSTEM_ACCOUNT_ID})
    with session_scope() as session:
        ensure_admin_key(session=session, configured=ADMIN_KEY)  # working again if a test revoked it
    return database_url


@pytest.fixture()
def api(clean_db: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    """The API in-process (real PostgreSQL, real Redis broker), authorised with the admin key."""
    from services.api.app import create_app

    with TestClient(create_app(), headers=ADMIN) as client:
        yield client


@pytest.fixture()
def server() -> Iterator[LocalServer]:
    """A scriptable HTTP server on 127.0.0.1 (feeds, pages, webhook receivers)."""
    with LocalServer() as srv:
        yield srv


@pytest.fixture()
def worker(clean_db: str, redis_client: redis.Redis) -> Iterator[processes.Proc]:
    """A real Celery worker on all queues with the scheduler inside it."""
    proc = processes.worker(beat=True)
    yield proc
    proc.stop()


@pytest.fixture(params=["postgresql", "sqlite"])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A session on each database in turn: the run's PostgreSQL (emptied) and a migrated SQLite file."""
    if request.param == "sqlite":
        with sqlite_session(tmp_path) as s:
            yield s
        return
    request.getfixturevalue("clean_db")
    from shared.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as s:
        yield s
