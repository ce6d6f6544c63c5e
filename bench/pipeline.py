"""Articles/s through the distributed pipeline (real PostgreSQL, Redis, Celery workers) against bare spaCy
on the same texts in the same run.

    newswatch bench pipeline [--articles N] [--workers C] [--json]

Creates a throw-away PostgreSQL database, loads the default watchlists, inserts N BBC articles (from
../shared/data/full/bbc.jsonl.gz), enqueues them in batches and times a pipeline worker with C processes until
every article is processed. The baseline is `nlp.pipe` of the same model on the same texts in this process.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench._serve import create_database, database_url, drop_database

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / ".." / "shared" / "data" / "full" / "bbc.jsonl.gz"


def load_texts(n: int) -> list[tuple[str, str]]:
    """The first n BBC articles as (title, text)."""
    out: list[tuple[str, str]] = []
    with gzip.open(DATA, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out.append((rec.get("title") or "", rec.get("text") or ""))
            if len(out) >= n:
                break
    return out


def bare_spacy(texts: list[tuple[str, str]], model: str) -> float:
    """Articles/s of nlp.pipe (tok2vec + ner) on one core."""
    import spacy

    nlp = spacy.load(model, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer"])
    docs = [f"{t}\n\n{x}" for t, x in texts]
    started = time.perf_counter()
    for _ in nlp.pipe(docs, batch_size=32):
        pass
    return len(docs) / (time.perf_counter() - started)


def run(n: int, workers: int) -> dict[str, object]:
    db = f"newswatch_bench_{os.getpid()}"
    url = database_url(db)
    os.environ.update(
        {
            "NEWSWATCH_DATABASE_URL": url,
            "NEWSWATCH_REDIS_URL": "redis://127.0.0.1:6379/0",
            "NEWSWATCH_REDIS_KEY_PREFIX": f"nwbench{os.getpid()}:",
            "NEWSWATCH_MODE": "distributed",
            "NEWSWATCH_PIPELINE_STUCK_AFTER_SECONDS": "3600",
        }
    )
    create_database(db, migrate=False)
    texts = load_texts(n)
    try:
        from services.dispatch import enqueue_processing
        from shared.config import fresh_settings
        from shared.db import session_scope
        from shared.ingestion.schemas import ArticleIn
        from shared.ingestion.service import ingest
        from shared.migrations import upgrade
        from shared.seeding import seed

        settings = fresh_settings()
        upgrade(settings.effective_database_url)
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        for key in client.scan_iter(f"{settings.redis_key_prefix}*"):
            client.delete(key)
        with session_scope() as session:
            seed(session=session, settings=settings, with_feeds=False)
            ids = ingest(
                session=session,
                items=[
                    ArticleIn(title=t, text=x, url=f"https://bench.example/{i}")
                    for i, (t, x) in enumerate(texts)
                ],
                source="import",
            ).new_ids
            seed_ids = [i for i in range(1, min(ids) if ids else 1)]
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "services.cli",
                "worker",
                "-Q",
                "pipeline",
                "-c",
                str(workers),
                "--loglevel",
                "warning",
            ],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,  # the JSON on stdout is ours alone
        )
        # warm up: the seed articles load the model in every worker process before the clock starts
        for _ in range(workers):
            enqueue_processing(seed_ids, batch_size=1)
        time.sleep(1)
        from sqlalchemy import text as sql

        from shared.db import get_engine

        def processed() -> int:
            with get_engine().connect() as conn:
                return int(
                    conn.execute(sql("SELECT count(*) FROM articles WHERE status='processed'")).scalar() or 0
                )

        deadline = time.monotonic() + 300
        while processed() < len(seed_ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # let each worker process finish loading its model
        started = time.perf_counter()
        enqueue_processing(ids, settings=settings)
        target = len(ids) + len(seed_ids)
        while processed() < target and time.monotonic() < deadline + 600:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        done = processed() - len(seed_ids)
        worker.terminate()
        worker.wait(timeout=60)
        with get_engine().connect() as conn:
            alerts = int(conn.execute(sql("SELECT count(*) FROM alerts")).scalar() or 0)
            mentions = int(conn.execute(sql("SELECT count(*) FROM mentions")).scalar() or 0)
        get_engine().dispose()
    finally:
        drop_database(db)
    baseline = bare_spacy(texts, settings.spacy_model)
    pipeline_rate = done / elapsed if elapsed else 0.0
    return {
        "benchmark": "pipeline",
        "articles": done,
        "worker_processes": workers,
        "pipeline_articles_per_s": round(pipeline_rate, 1),
        "pipeline_articles_per_s_per_process": round(pipeline_rate / workers, 1),
        "bare_spacy_articles_per_s_one_core": round(baseline, 1),
        "pipeline_per_process_vs_bare_spacy": round(pipeline_rate / workers / baseline, 3)
        if baseline
        else None,
        "alerts": alerts,
        "mentions": mentions,
        "elapsed_s": round(elapsed, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry: `newswatch bench pipeline`."""
    p = argparse.ArgumentParser(prog="newswatch bench pipeline", description=__doc__)
    p.add_argument("--articles", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not DATA.exists():
        print(f"{DATA} is absent", file=sys.stderr)
        return 2
    result = run(args.articles, args.workers)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
