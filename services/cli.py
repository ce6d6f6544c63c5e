"""The `newswatch` command: run, api, worker, beat, migrate, reindex, seed, analyze, keys, bench, kb, ...

Delegated: import, backtest, bench, kb.

This module parses and dispatches only; each command lives in its own module (services/commands/,
services/embedded.py, ...), imported once the command line has set the environment (e.g. --data-dir),
because the settings are read once per process.

A user's mistake never ends in a traceback: `main` turns a refused input (a domain error), a file that
cannot be read or written, a database that cannot be opened and bad settings into one line on stderr and
exit status 2; a closed output pipe (`newswatch backtest --json | head`) ends quietly with status 141 (as a
process killed by SIGPIPE). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from shared.errors import NewswatchError

EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE, as the shell reports a writer whose reader went away

# Delegated commands parse their own arguments: `main(argv)` of the module (bench: bench.<name>).
DELEGATED = {
    "bench": None,
    "kb": "shared.nlp.wikidata",
    "import": "services.importer",
    "backtest": "services.backtest_cli",
}


def port(text: str) -> int:
    """An argparse type: a TCP port (1-65535)."""
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{text} is not a TCP port (1-65535)")
    return value


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def not_negative(text: str) -> int:
    """An argparse type: an integer of at least 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


for _type, _name in ((port, "port"), (positive, "positive integer"), (not_negative, "integer >= 0")):
    _type.__name__ = _name  # argparse names the type in "invalid <name> value: 'x'"


class Handler:
    """A subcommand's function named as "module:function", imported when that subcommand runs.

    Importing every command's dependencies would cost `newswatch --help` seconds (the database, Celery,
    datasketch/scipy, the NLP stack), and the modules that read settings must load after main() has set
    the environment from the flags; so each command module imports what it needs at its top, and only
    the chosen one is imported.
    """

    def __init__(self, target: str) -> None:
        self.target = target

    def __call__(self, args: argparse.Namespace) -> int:
        module, _, name = self.target.partition(":")
        return int(getattr(importlib.import_module(module), name)(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newswatch", description="News monitoring service.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="embedded mode: API, worker and scheduler on SQLite, no servers needed")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=port, default=8000)
    r.add_argument(
        "--data-dir", help="where the database and queue live (default $NEWSWATCH_DATA_DIR, see README)"
    )
    r.add_argument("--no-seed", action="store_true", help="do not load seeds/")
    r.add_argument("--no-feeds", action="store_true", help="seed watches and articles but not the feeds list")
    r.set_defaults(func=Handler("services.embedded:cmd_run"))

    a = sub.add_parser("api", help="the HTTP API (distributed mode)")
    a.add_argument("--host", default="0.0.0.0")
    a.add_argument("--port", type=port, default=8000)
    a.set_defaults(func=Handler("services.commands.bootstrap:cmd_api"))

    w = sub.add_parser("worker", help="a Celery worker")
    w.add_argument("--queues", "-Q", default="fetcher,pipeline,notifier")
    w.add_argument("--concurrency", "-c", type=not_negative, default=0, help="0: one per CPU")
    w.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    w.add_argument("--beat", action="store_true", help="also run the scheduler in this worker")
    w.add_argument("--hostname", default=None)
    w.add_argument("--loglevel", default="info")
    w.set_defaults(func=Handler("services.commands.workers:cmd_worker"))

    b = sub.add_parser("beat", help="the scheduler")
    b.add_argument("--loglevel", default="info")
    b.set_defaults(func=Handler("services.commands.workers:cmd_beat"))

    h = sub.add_parser("healthcheck", help="exit 0 when this host's workers beat lately (container checks)")
    h.add_argument("--host", help="the host part of the workers' node names (default: this hostname)")
    h.set_defaults(func=Handler("services.commands.health:cmd_healthcheck"))

    m = sub.add_parser("migrate", help="bring the database schema to the latest revision")
    m.set_defaults(func=Handler("services.commands.admin:cmd_migrate"))

    x = sub.add_parser("reindex", help="index processed articles that have no search row (bounded batches)")
    x.add_argument("--all", action="store_true", help="rewrite every article's search row")
    x.add_argument("--batch", type=positive, default=200, help="articles per transaction")
    x.set_defaults(func=Handler("services.commands.admin:cmd_reindex"))

    s = sub.add_parser("seed", help="migrate, create the admin key if needed, load seeds/")
    s.add_argument("--no-feeds", action="store_true")
    s.add_argument(
        "--no-enqueue", action="store_true", help="do not queue the sample articles for processing"
    )
    s.set_defaults(func=Handler("services.commands.bootstrap:cmd_seed"))

    z = sub.add_parser("analyze", help="one article in (JSON or plain text), entities and matches out (JSON)")
    z.add_argument("file", nargs="?", help="a file, or - / nothing for standard input")
    z.add_argument("--watches", help="a YAML or JSON watch file (default: seeds/watchlists)")
    z.set_defaults(func=Handler("services.commands.analyze:cmd_analyze"))

    k = sub.add_parser("keys", help="API keys: create (printed once), list, revoke")
    ks = k.add_subparsers(dest="action", required=True)
    kc = ks.add_parser("create", help="create a key; prints it once (only its hash is stored)")
    kc.add_argument("name")
    kc.add_argument("--scopes", default="read", help="comma-separated: read, write, admin (default read)")
    kc.add_argument("--owner", help="an existing account (a second key for it); default: a new account")
    kl = ks.add_parser("list", help="every key: account, scopes, created, last used, revoked")
    kl.add_argument("--json", action="store_true")
    kr = ks.add_parser("revoke", help="revoke a key by id (not the last working admin key)")
    kr.add_argument("id", type=positive)
    k.set_defaults(func=Handler("services.commands.keys:cmd_keys"))

    for name, help_text in (
        ("bench", "benchmarks: newswatch bench matching|entities|fetch|feeds|delivery|pipeline [--json] ..."),
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


def _closed_pipe() -> int:
    # the reader is gone: send the rest of our output (and the interpreter's final flush) nowhere
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing left to flush
        pass
    return EXIT_BROKEN_PIPE


def user_error(exc: BaseException) -> str | None:
    """One line for an error that is the user's to fix (None: a bug, keep the traceback)."""
    if isinstance(exc, NewswatchError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        # a path given on the command line or in a setting: missing, a folder, not allowed
        return f"{exc.filename}: {exc.strerror or exc}"
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if kind == "pydantic_core._pydantic_core.ValidationError" and getattr(exc, "title", "") == "Settings":
        errors: list[dict[str, Any]] = exc.errors()  # type: ignore[attr-defined]  # pydantic's, not imported
        return "bad setting: " + "; ".join(
            f"NEWSWATCH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in errors
        )
    if kind == "sqlalchemy.exc.OperationalError":
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return (
            f"cannot use the database: {first} (set NEWSWATCH_DATABASE_URL, or NEWSWATCH_DATA_DIR / "
            "--data-dir for the embedded SQLite file; `newswatch migrate` creates the schema)"
        )
    return None


def guarded(command: str, run: Callable[[], int]) -> int:
    """Run a command; a user's mistake prints one line and exits 2, a closed output pipe exits quietly."""
    try:
        code = run()
        sys.stdout.flush()  # a pipe closed early shows here, not at the interpreter's exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = user_error(exc)
        if message is None:
            raise
        print(f"newswatch {command}: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `newswatch` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else "newswatch"
    return guarded(command, lambda: _main(argv))


def _main(argv: list[str]) -> int:
    if "--data-dir" in argv:
        i = argv.index("--data-dir")
        if i + 1 < len(argv):
            os.environ["NEWSWATCH_DATA_DIR"] = argv[i + 1]
    if argv and argv[0] == "run":
        os.environ["NEWSWATCH_MODE"] = "embedded"  # before any module builds something from the settings
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
