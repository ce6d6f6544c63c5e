"""`newswatch backtest`: run a query or a stored watch over the stored articles of a time window.

    newswatch backtest --query 'SCO NEAR/5 summit' [--since 2024-01-01 --until 2024-01-31] [--json]
    newswatch backtest --watch 3 [--limit 20]

Exit status: 0 on success, 2 for an invalid query (the message names the position), a bad window or an
unknown watch.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from services.cli import not_negative, positive
from shared.config import get_settings
from shared.db import session_scope
from shared.nlp import cached_knowledge_base
from shared.rules import RuleSyntaxError, store
from shared.rules.backtest import BacktestWindowError, backtest


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `newswatch backtest`."""
    p = argparse.ArgumentParser(prog="newswatch backtest", description=(__doc__ or "").splitlines()[0])
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--query", help="a draft query")
    what.add_argument("--watch", type=positive, help="the id of a stored watch")
    p.add_argument("--since", help="ISO date or date-time (default: 30 days before --until)")
    p.add_argument("--until", help="ISO date (whole day) or date-time (default: now)")
    p.add_argument("--limit", type=not_negative, default=20, help="matches to list (default 20)")
    p.add_argument("--offset", type=not_negative, default=0, help="matches to skip")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    return p


def _print_text(result: dict[str, Any]) -> None:
    print(f"query:   {result['query']}")
    print(f"window:  {result['since']} .. {result['until']}")
    print(f"matched: {result['total']} of {result['scanned']} articles")
    for day, n in result["per_day"].items():
        print(f"  {day}  {n}")
    for m in result["matches"]:
        print(f"- #{m['article_id']} {m['published'][:10]} score {m['score']:g}  {m['title']}")
        if m["snippet"]:
            print(f"    {m['snippet']}")


def main(argv: list[str] | None = None) -> int:
    """Run the backtest and print it; non-zero exit with the error position for an invalid query."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        with session_scope() as session:
            query, name = args.query, "draft"
            if args.watch is not None:
                watch = store.get_watch(session=session, watch_id=args.watch)
                if watch is None:
                    print(f"newswatch backtest: no watch with id {args.watch}", file=sys.stderr)
                    return 2
                query, name = watch.query, watch.name
            result = backtest(
                session=session,
                query=query,
                since=args.since,
                until=args.until,
                limit=args.limit,
                offset=args.offset,
                resolver=cached_knowledge_base(settings.effective_kb_path),
                name=name,
            ).to_dict()
    except RuleSyntaxError as exc:
        print(f"newswatch backtest: invalid query: {exc}", file=sys.stderr)
        if args.query is not None:
            print(f"  {args.query}\n  {' ' * exc.position}^", file=sys.stderr)
        return 2
    except BacktestWindowError as exc:
        print(f"newswatch backtest: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_text(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
