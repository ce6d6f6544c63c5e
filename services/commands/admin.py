"""`newswatch migrate` and `newswatch keys`."""

from __future__ import annotations

import argparse
import sys

from shared.config import fresh_settings
from shared.db import session_scope
from shared.migrations import upgrade
from shared.security.keys import create_api_key


def cmd_migrate(_: argparse.Namespace) -> int:
    """Bring the database schema to the latest revision."""
    settings = fresh_settings()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print(f"database at head: {settings.effective_database_url.split('@')[-1]}", file=sys.stderr)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Create an API key and print it once."""
    fresh_settings()
    with session_scope() as session:
        _, key = create_api_key(session=session, name=args.name, is_admin=args.admin)
    print(key)
    return 0
