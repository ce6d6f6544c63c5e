"""`newswatch migrate`, `newswatch reindex`."""

from __future__ import annotations

import argparse
import sys

from shared.config import fresh_settings
from shared.db import session_scope
from shared.migrations import upgrade
from shared.search.backfill import index_missing


def cmd_migrate(_: argparse.Namespace) -> int:
    """Bring the database schema to the latest revision."""
    settings = fresh_settings()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print(f"database at head: {settings.effective_database_url.split('@')[-1]}", file=sys.stderr)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Index the processed articles that have no search row (every one with --all), a batch at a time."""
    n = index_missing(sessions=session_scope, batch=max(1, args.batch), rebuild=args.all)
    print(f"indexed {n} articles", file=sys.stderr)
    return 0
