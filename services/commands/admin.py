"""`newswatch migrate`."""

from __future__ import annotations

import argparse
import sys

from shared.config import fresh_settings
from shared.migrations import upgrade


def cmd_migrate(_: argparse.Namespace) -> int:
    """Bring the database schema to the latest revision."""
    settings = fresh_settings()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print(f"database at head: {settings.effective_database_url.split('@')[-1]}", file=sys.stderr)
    return 0
