"""`newswatch import FILE.jsonl[.gz]`: backfill an archive of articles, idempotently and resumably.

One JSON object per line with `title`, `text`, `url`, `published` (or `date`), and optionally `author`,
`language`, `guid` (or `id`). Articles are stored like any other (one row per canonical URL, or per content
fingerprint when there is no URL), get their story, and go to the pipeline unless `--no-process`.

Resumable: after every committed batch the byte offset is written to a checkpoint under the data dir, and
the next run starts there (`--restart` ignores it). Idempotent: a second run over the same lines creates
nothing, because ingestion is keyed on the canonical URL.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from services.cli import positive
from services.dispatch import enqueue_processing
from shared.config import get_settings
from shared.db import session_scope
from shared.ingestion.schemas import ArticleIn
from shared.ingestion.service import store_entries


def _checkpoint_path(data_dir: Path, source: Path) -> Path:
    st = source.stat()
    key = hashlib.sha1(f"{source.resolve()}|{st.st_size}".encode()).hexdigest()[:16]
    return data_dir / "imports" / f"{source.name}.{key}.json"


def _article(row: dict[str, Any]) -> ArticleIn:
    url = row.get("url") or None
    guid = row.get("guid") or row.get("id")
    return ArticleIn(
        title=str(row.get("title") or "")[:2000],
        text=str(row.get("text") or "")[:2_000_000],
        url=url if isinstance(url, str) and len(url) <= 2000 else None,
        published=row.get("published") or row.get("date") or None,
        author=str(row["author"])[:500] if row.get("author") else None,
        language=str(row["language"])[:10] if row.get("language") else None,
        guid=str(guid)[:2000] if guid else None,
    )


class _Progress:
    """A one-line progress bar on stderr (only when it is a terminal, or when forced)."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = max(total, 1)
        self.enabled = enabled
        self.start = time.monotonic()
        self.last = 0.0

    def show(self, position: int, lines: int, new: int, errors: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.last < 0.2):
            return
        self.last = now
        frac = min(1.0, position / self.total)
        bar = "#" * int(frac * 30)
        rate = lines / max(now - self.start, 1e-6)
        sys.stderr.write(
            f"\r[{bar:<30}] {frac:6.1%} {lines:,} lines, {new:,} new, {errors:,} bad, {rate:,.0f} lines/s"
        )
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _open(path: Path) -> tuple[io.BufferedIOBase, io.BufferedReader]:
    """(line reader, raw file for progress): gzip archives are read through, positions are raw bytes."""
    raw = path.open("rb")
    if path.suffix == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    return raw, raw


def run_import(
    path: Path, *, batch_size: int = 200, process: bool = True, restart: bool = False,
    limit: int | None = None, progress: bool | None = None,
) -> dict[str, int]:  # fmt: skip
    """Import the file; returns counts {lines, new, existing, errors, resumed_at}."""
    settings = get_settings()
    checkpoint = _checkpoint_path(Path(settings.data_dir), path)
    state = {"offset": 0, "lines": 0, "new": 0, "existing": 0, "errors": 0}
    if checkpoint.exists() and not restart:
        state.update(json.loads(checkpoint.read_text()))
    resumed_at = state["lines"]
    reader, raw = _open(path)
    bar = _Progress(path.stat().st_size, enabled=sys.stderr.isatty() if progress is None else progress)
    done_this_run = 0
    try:
        if state["offset"]:
            reader.seek(state["offset"])
        batch: list[ArticleIn] = []

        def flush() -> None:
            if not batch:
                return
            with session_scope() as session:
                result = store_entries(session=session, items=batch, source="import")
            state["new"] += len(result.new_ids)
            state["existing"] += len(result.ids) - len(result.new_ids)
            if process and result.new_ids:
                enqueue_processing(result.new_ids, settings=settings)
            batch.clear()
            # The checkpoint moves only after the commit: a crash repeats at most one batch, harmlessly.
            state["offset"] = reader.tell()
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            checkpoint.write_text(json.dumps(state))

        while limit is None or done_this_run < limit:
            line = reader.readline()
            if not line:
                break
            done_this_run += 1
            state["lines"] += 1
            if line.strip():
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("not a JSON object")
                    batch.append(_article(row))
                except (ValueError, ValidationError) as exc:
                    state["errors"] += 1
                    if state["errors"] <= 5:
                        print(
                            f"\nline {state['lines']}: skipped: {str(exc).splitlines()[0]}", file=sys.stderr
                        )
            if len(batch) >= batch_size:
                flush()
            bar.show(raw.tell(), state["lines"], state["new"], state["errors"])
        flush()
        # Lines without a usable article still advance the checkpoint.
        state["offset"] = reader.tell()
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.write_text(json.dumps(state))
        bar.show(raw.tell(), state["lines"], state["new"], state["errors"], final=True)
    finally:
        reader.close()
        raw.close()
    return {**{k: state[k] for k in ("lines", "new", "existing", "errors")}, "resumed_at": resumed_at}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `newswatch import`."""
    parser = argparse.ArgumentParser(prog="newswatch import", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="JSON Lines archive (.jsonl or .jsonl.gz)")
    parser.add_argument("--batch-size", type=positive, default=200, help="articles per transaction")
    parser.add_argument("--no-process", action="store_true", help="store only; do not enqueue the pipeline")
    parser.add_argument("--restart", action="store_true", help="ignore the checkpoint of an earlier run")
    parser.add_argument(
        "--limit", type=positive, default=None, help="stop after this many lines (resume later)"
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="default: on a terminal"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `newswatch import`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"newswatch import: no such file {args.file}", file=sys.stderr)
        return 2
    counts = run_import(
        args.file, batch_size=max(1, args.batch_size), process=not args.no_process, restart=args.restart,
        limit=args.limit, progress=args.progress,
    )  # fmt: skip
    print(json.dumps(counts))
    return 1 if counts["errors"] and not counts["new"] and not counts["existing"] else 0


if __name__ == "__main__":
    sys.exit(main())
