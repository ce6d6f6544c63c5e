"""The `newswatch` command: run, api, worker, beat, migrate, seed, analyze, keys, bench, kb, import, backtest.

Modules that read settings are imported inside each command, after the command line has set the
environment (e.g. --data-dir), because the settings are read once per process.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

DELEGATED = {
    "bench": None,  # bench.<name>.main(argv)
    "kb": "shared.nlp.wikidata",
    "import": "services.importer",
    "backtest": "services.backtest_cli",
}


def _settings():  # type: ignore[no-untyped-def]
    from shared.config import get_settings

    get_settings.cache_clear()
    return get_settings()


def cmd_migrate(_: argparse.Namespace) -> int:
    from shared.migrations import upgrade

    settings = _settings()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print(f"database at head: {settings.effective_database_url.split('@')[-1]}", file=sys.stderr)
    return 0


def bootstrap(*, with_feeds: bool, seed: bool) -> list[int]:
    """Migrate, ensure an admin key (printing a generated one once), seed; returns new article ids."""
    from shared.db import session_scope
    from shared.migrations import upgrade
    from shared.security.accounts import ensure_admin_key
    from shared.seeding import seed as load_seeds

    settings = _settings()
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
    ids = bootstrap(with_feeds=not args.no_feeds, seed=True)
    if ids and not args.no_enqueue:
        from services.queue import chunks, send

        for batch in chunks(ids, _settings().pipeline_batch_size):
            send("pipeline.process_batch", [batch])
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    bootstrap(with_feeds=False, seed=False)
    uvicorn.run("services.api.app:app", host=args.host, port=args.port, log_level="info")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from services.queue import app

    argv = ["worker", "--loglevel", args.loglevel, "-Q", args.queues, "--pool", args.pool]
    if args.concurrency:
        argv += ["--concurrency", str(args.concurrency)]
    if args.beat:
        argv += ["--beat", "--schedule", str(_settings().data_dir / "celerybeat-schedule")]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    from services.queue import app

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.start(
        ["beat", "--loglevel", args.loglevel, "--schedule", str(settings.data_dir / "celerybeat-schedule")]
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from services.embedded import run_embedded

    return run_embedded(host=args.host, port=args.port, seed=not args.no_seed, with_feeds=not args.no_feeds)


def cmd_analyze(args: argparse.Namespace) -> int:
    from shared.analyze import AnalyzeError, analyze_input

    raw = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text(encoding="utf-8")
    try:
        out = analyze_input(
            raw, watches_file=Path(args.watches) if args.watches else None, settings=_settings()
        )
    except AnalyzeError as exc:
        print(f"newswatch analyze: {exc}", file=sys.stderr)
        return 2
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """keys create|list|revoke: the same rules as /api/v1/keys (scopes, owners, no lock-out)."""
    from services.keys_cli import run

    _settings()
    return run(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newswatch", description="News monitoring service.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="embedded mode: API, worker and scheduler on SQLite, no servers needed")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=8000)
    r.add_argument("--data-dir", help="where the database and queue live (default .newswatch)")
    r.add_argument("--no-seed", action="store_true", help="do not load seeds/")
    r.add_argument("--no-feeds", action="store_true", help="seed watches and articles but not the feeds list")
    r.set_defaults(func=cmd_run)

    a = sub.add_parser("api", help="the HTTP API (distributed mode)")
    a.add_argument("--host", default="0.0.0.0")
    a.add_argument("--port", type=int, default=8000)
    a.set_defaults(func=cmd_api)

    w = sub.add_parser("worker", help="a Celery worker")
    w.add_argument("--queues", "-Q", default="fetcher,pipeline,notifier")
    w.add_argument("--concurrency", "-c", type=int, default=0)
    w.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    w.add_argument("--beat", action="store_true", help="also run the scheduler in this worker")
    w.add_argument("--hostname", default=None)
    w.add_argument("--loglevel", default="info")
    w.set_defaults(func=cmd_worker)

    b = sub.add_parser("beat", help="the scheduler")
    b.add_argument("--loglevel", default="info")
    b.set_defaults(func=cmd_beat)

    m = sub.add_parser("migrate", help="bring the database schema to the latest revision")
    m.set_defaults(func=cmd_migrate)

    s = sub.add_parser("seed", help="migrate, create the admin key if needed, load seeds/")
    s.add_argument("--no-feeds", action="store_true")
    s.add_argument(
        "--no-enqueue", action="store_true", help="do not queue the sample articles for processing"
    )
    s.set_defaults(func=cmd_seed)

    z = sub.add_parser("analyze", help="one article in (JSON or plain text), entities and matches out (JSON)")
    z.add_argument("file", nargs="?", help="a file, or - / nothing for standard input")
    z.add_argument("--watches", help="a YAML or JSON watch file (default: seeds/watchlists)")
    z.set_defaults(func=cmd_analyze)

    k = sub.add_parser("keys", help="API keys: create (printed once), list, revoke")
    ks = k.add_subparsers(dest="action", required=True)
    kc = ks.add_parser("create", help="create a key; prints it once (only its hash is stored)")
    kc.add_argument("name")
    kc.add_argument("--scopes", default="read", help="comma-separated: read, write, admin (default read)")
    kc.add_argument("--owner", help="an existing account (a second key for it); default: a new account")
    kl = ks.add_parser("list", help="every key: account, scopes, created, last used, revoked")
    kl.add_argument("--json", action="store_true")
    kr = ks.add_parser("revoke", help="revoke a key by id (not the last working admin key)")
    kr.add_argument("id", type=int)
    k.set_defaults(func=cmd_keys)

    for name, help_text in (
        ("bench", "benchmarks: newswatch bench matching|entities|fetch|delivery|pipeline [--json] ..."),
        ("kb", "knowledge base: newswatch kb import-wikidata DUMP ..."),
        ("import", "import an archive: newswatch import FILE.jsonl"),
        ("backtest", "run a rule over stored articles: newswatch backtest ..."),
    ):
        d = sub.add_parser(name, help=help_text, add_help=False)
        d.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def _delegate(command: str, rest: list[str]) -> int:
    if command == "bench":
        if not rest or rest[0].startswith("-"):
            print("usage: newswatch bench NAME [options]", file=sys.stderr)
            return 2
        module, rest = f"bench.{rest[0]}", rest[1:]
    else:
        module = DELEGATED[command] or ""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        print(f"newswatch {command}: {exc}", file=sys.stderr)
        return 2
    return int(mod.main(rest) or 0)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `newswatch` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--data-dir" in argv:
        i = argv.index("--data-dir")
        if i + 1 < len(argv):
            os.environ["NEWSWATCH_DATA_DIR"] = argv[i + 1]
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
