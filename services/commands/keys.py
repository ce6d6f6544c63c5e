"""`newswatch keys create|list|revoke`: API keys from the command line, with the API's rules."""

from __future__ import annotations

import argparse
import json
import sys

from shared.config import fresh_settings
from shared.db import session_scope
from shared.errors import NewswatchError
from shared.security import accounts
from shared.security.schemas import KeyOut


def _create(args: argparse.Namespace) -> int:
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    with session_scope() as session:
        row, key = accounts.create_key(session=session, name=args.name, scopes=scopes, owner=args.owner)
        print(f"key {row.id} of account {row.account_id}, scopes {','.join(row.scopes)}", file=sys.stderr)
    print(key)
    return 0


def _list(args: argparse.Namespace) -> int:
    with session_scope() as session:
        names = {a.id: a for a, _ in accounts.list_accounts(session=session)}
        rows = [KeyOut.of(k, names[k.account_id]) for k in accounts.list_keys(session=session)]
    if args.json:
        json.dump([r.model_dump(mode="json") for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{'id':>4}  {'name':<24} {'owner':<20} {'scopes':<17} {'last used':<20} revoked")
    for r in rows:
        used = r.last_used_at.strftime("%Y-%m-%d %H:%M") if r.last_used_at else "never"
        revoked = r.revoked_at.strftime("%Y-%m-%d %H:%M") if r.revoked_at else ""
        print(
            f"{r.id:>4}  {r.name[:24]:<24} {r.owner[:20]:<20} {','.join(r.scopes):<17} {used:<20} {revoked}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with session_scope() as session:
        row = accounts.revoke_key(session=session, key_id=args.id)
    print(f"key {row.id} ({row.name}) revoked", file=sys.stderr)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """keys create|list|revoke, with the API's rules; a refused one (unknown scope, last admin key…)
    prints one line and exits 2."""
    fresh_settings()
    action = {"create": _create, "list": _list, "revoke": _revoke}[args.action]
    try:
        return action(args)
    except NewswatchError as exc:
        print(f"newswatch keys: {exc}", file=sys.stderr)
        return 2
