"""Start-up shared by `run`, `api` and `seed`: migrate, ensure the admin key, load the seeds."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import uvicorn

from services.dispatch import enqueue_processing
from shared import logs, metrics
from shared.config import Settings, fresh_settings
from shared.db import session_scope
from shared.migrations import upgrade
from shared.security.accounts import ensure_admin_key
from shared.seeding import seed as load_seeds


def bootstrap(*, with_feeds: bool, seed: bool) -> list[int]:
    """Migrate, ensure an admin key (printing a generated one once), seed; returns new article ids."""
    settings = fresh_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    with session_scope() as session:
        generated = ensure_admin_key(session=session, configured=settings.admin_api_key)
        report = load_seeds(session=session, settings=settings, with_feeds=with_feeds) if seed else None
    if generated:
        print(
            "\n  Admin API key (shown once, store it now):\n\n"
            f"    {generated}\n\n  Use it as: Authorization: Bearer <key>\n",
            file=sys.stderr,
            flush=True,
        )
    if report is not None:
        print(
            f"seeded {report.watches} watches, {report.feeds} feeds, {len(report.article_ids)} articles",
            file=sys.stderr,
        )
        return report.article_ids
    return []


def cmd_seed(args: argparse.Namespace) -> int:
    """Migrate, create the admin key if needed, load seeds/ and queue the sample articles."""
    ids = bootstrap(with_feeds=not args.no_feeds, seed=True)
    if ids and not args.no_enqueue:
        enqueue_processing(ids, settings=fresh_settings())
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    """The HTTP API (distributed mode)."""
    settings = fresh_settings()
    metrics.prepare(settings.effective_metrics_dir)
    bootstrap(with_feeds=False, seed=False)
    uvicorn.run(
        "services.api.app:app",
        host=args.host,
        port=args.port,
        workers=settings.effective_api_workers,
        **uvicorn_logging(settings),
    )
    return 0


def uvicorn_logging(settings: Settings) -> dict[str, Any]:
    """uvicorn's own text logs, or (NEWSWATCH_LOG_FORMAT=json) its records through our JSON handler."""
    if settings.log_format != "json":
        return {"log_level": "info"}
    logs.configure("json")
    return {"log_config": None, "log_level": "info"}
