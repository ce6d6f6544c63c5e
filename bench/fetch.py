"""Fetch benchmark: new items/s through fetch + parse + dedup + store, on real PostgreSQL and Redis.

A server process on 127.0.0.1 serves N feeds × M items built from real texts in ../shared/data (Reuters,
BBC, AG News); every feed has its own host name (f<i>.bench.test, resolved to 127.0.0.1 by an injected
resolver) so per-host politeness applies per feed as it would in production. Worker processes run the real
fetch service (`shared.fetching.service.fetch_feed`) with the Redis host limiter against a fresh database,
each on a few threads (`--threads`, default 4) as the fetcher's thread pool does in a deployment.

Measured in the same run:
- baseline: the same feeds fetched by the same processes and threads with a bare GET (no parse, no store);
- fetch (the headline): the full path, every item new, with production's per-host politeness (the settings'
  defaults: `NEWSWATCH_FETCH_HOST_CONCURRENCY` requests at once and `NEWSWATCH_FETCH_HOST_MIN_GAP_SECONDS`
  between two requests to one host, shared through Redis);
- fetch_without_politeness: the same on a fresh database with the limiter's gap at 0 (labelled, for
  comparison: what the code costs when no host has to be waited for);
- fetch+extract (with --extract or --both): feeds carry only summaries, every item's page is fetched and
  extracted with trafilatura. Politeness matters most here: a feed's pages all come from its one host, so
  with the default 1 s gap a feed of 50 items takes about 50 s whatever the machine.
Memory per worker is the peak RSS of each worker process.

    .venv/bin/python -m bench.fetch --json
    .venv/bin/python -m bench.fetch --clusters      # near-duplicate clustering on BBC and Reuters
    newswatch bench fetch --json
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import multiprocessing as mp
import os
import resource
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench._serve import create_database, drop_database, free_port

REPO = Path(__file__).resolve().parent.parent
DATA = (REPO / ".." / "shared" / "data").resolve()
BASE_TIME = datetime(2025, 5, 1, tzinfo=UTC)


def load_texts(limit: int) -> list[tuple[str, str]]:
    """(title, text) pairs from the real corpora, longest first within each corpus, up to `limit`."""
    out: list[tuple[str, str]] = []
    for name in ("reuters", "bbc", "agnews"):
        path = DATA / "full" / f"{name}.jsonl.gz"
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row.get("title") and row.get("text") and len(row["text"]) > 200:
                    out.append((row["title"], row["text"]))
                    if len(out) >= limit:
                        return out
    return out


def _render_feed(i: int, items: int, texts: list[tuple[str, str]], port: int, summary_only: bool) -> bytes:
    parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench {i}</title>']
    for j in range(items):
        title, text = texts[(i * items + j) % len(texts)]
        body = text[:300] if summary_only else text[:4000]
        when = format_datetime(BASE_TIME + timedelta(minutes=i * items + j), usegmt=True)
        link = f"http://f{i}.bench.test:{port}/article/{i}/{j}"
        parts.append(
            f"<item><title>{html.escape(title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{when}</pubDate><description>{html.escape(body)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def _render_page(i: int, j: int, items: int, texts: list[tuple[str, str]]) -> bytes:
    title, text = texts[(i * items + j) % len(texts)]
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return (
        f"<html lang='en'><head><title>{html.escape(title)}</title><meta name='author' content='Bench Desk'>"
        f"</head><body><nav>Home | World | Business</nav><article><h1>{html.escape(title)}</h1>{paras}"
        f"</article><footer>Copyright Bench</footer></body></html>"
    ).encode()


def _server_main(port: int, feeds: int, items: int, n_texts: int, summary_only: bool, ready: Any) -> None:
    texts = load_texts(n_texts)
    rendered = [_render_feed(i, items, texts, port, summary_only) for i in range(feeds)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if parts[0] == "feed":
                body, ctype = rendered[int(parts[1])], "application/rss+xml"
            elif parts[0] == "article":
                body, ctype = _render_page(int(parts[1]), int(parts[2]), items, texts), "text/html"
            else:
                body, ctype = b"no", "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def _resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def _threaded(items: list[Any], threads: int, work: Any) -> list[Any]:
    """Run work(item, client) over items on `threads` threads, one HttpClient per thread (like a pool)."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.outbound.http import HttpClient
    from shared.outbound.policy import AddressPolicy, parse_networks

    local = threading.local()

    def run(item: Any) -> Any:
        if not hasattr(local, "client"):
            local.client = HttpClient(AddressPolicy(parse_networks("127.0.0.0/8"), _resolver))
        return work(item, local.client)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, items))


def _baseline_worker(urls: list[str], threads: int, out: Any) -> None:
    out.put(sum(_threaded(urls, threads, lambda url, client: len(client.get(url).content))))


def _fetch_worker(
    feed_ids: list[int], db_url: str, redis_url: str, extract: bool, threads: int, polite: bool, out: Any
) -> None:
    os.environ["NEWSWATCH_DATABASE_URL"] = db_url
    os.environ["NEWSWATCH_REDIS_URL"] = redis_url
    os.environ["NEWSWATCH_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    import redis

    from shared.alerts.service import feed_unhealthy
    from shared.config import get_settings
    from shared.db import session_scope
    from shared.fetching import events, service
    from shared.fetching.politeness import RedisHostLimiter

    events.listen(feed_unhealthy)  # as the fetcher tasks do
    settings = get_settings()
    # production's limits (the settings' defaults) unless this is the labelled run without politeness
    limiter = RedisHostLimiter(
        redis.Redis.from_url(redis_url),
        max_concurrent=settings.fetch_host_concurrency,
        min_gap=settings.fetch_host_min_gap_seconds if polite else 0.0,
        prefix="bench",
    )
    start = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = start.ru_utime + start.ru_stime  # imports and setup are not the workload

    def fetch(feed_id: int, client: Any) -> tuple[int, bool]:
        outcome = service.fetch_feed(
            feed_id=feed_id, settings=settings, session_factory=session_scope, client=client, limiter=limiter
        )
        return len(outcome.new_article_ids), outcome.error is not None

    results = _threaded(feed_ids, threads, fetch)
    new = sum(n for n, _ in results)
    errors = sum(e for _, e in results)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    out.put({"new": new, "errors": errors, "max_rss_mb": usage.ru_maxrss / 1024, "cpu_s": cpu})


def _split(seq: list[Any], n: int) -> list[list[Any]]:
    return [seq[k::n] for k in range(n)]


def _run_processes(target: Any, arg_sets: list[tuple[Any, ...]]) -> tuple[float, list[Any]]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, out)) for args in arg_sets]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get(timeout=1800) for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join(timeout=30)
    return elapsed, results


def _settings() -> Any:
    from shared.config import fresh_settings

    return fresh_settings()


def _fetch_run(
    urls: list[str], db_name: str, redis_url: str, extract: bool, threads: int, workers: int, polite: bool
) -> dict[str, Any]:
    """The full fetch path over every feed on a fresh database (politeness as given)."""
    db_url = create_database(db_name)
    os.environ["NEWSWATCH_DATABASE_URL"] = db_url
    from sqlmodel import Session

    from shared.db import engine_for
    from shared.models import Feed

    with Session(engine_for(db_url)) as session:
        rows = [Feed(url=u, extract_full_text=extract) for u in urls]
        session.add_all(rows)
        session.commit()
        ids = [r.id for r in rows]
    engine_for(db_url).dispose()
    engine_for.cache_clear()
    import redis

    r = redis.Redis.from_url(redis_url)
    for key in r.scan_iter("bench:*"):
        r.delete(key)
    elapsed, results = _run_processes(
        _fetch_worker,
        [(chunk, db_url, redis_url, extract, threads, polite) for chunk in _split(ids, workers)],
    )
    new = sum(x["new"] for x in results)
    return {
        "politeness": "production defaults" if polite else "off (min gap 0)",
        "seconds": round(elapsed, 2),
        "new_items": new,
        "new_items_per_s": round(new / elapsed, 1),
        "errors": sum(x["errors"] for x in results),
        "worker_peak_rss_mb": [round(x["max_rss_mb"], 1) for x in results],
        # Less sensitive to other load on the machine than wall time (PostgreSQL's CPU not included).
        "worker_cpu_s": [round(x["cpu_s"], 1) for x in results],
        "new_items_per_worker_cpu_s": round(new / max(sum(x["cpu_s"] for x in results), 1e-9), 1),
    }


def run_scenario(
    *, feeds: int, items: int, workers: int, extract: bool, redis_url: str, threads: int = 4
) -> dict[str, Any]:
    """Serve the feeds, measure the bare-GET baseline and the full fetch path; returns the numbers."""
    ctx = mp.get_context("spawn")
    port = free_port()
    ready = ctx.Event()
    server = ctx.Process(
        target=_server_main, args=(port, feeds, items, feeds * items, extract, ready), daemon=True
    )
    server.start()
    db_name = f"newswatch_bench_fetch_{os.getpid()}"
    try:
        if not ready.wait(300):
            raise RuntimeError("bench server did not start")
        urls = [f"http://f{i}.bench.test:{port}/feed/{i}" for i in range(feeds)]
        base_s, base_bytes = _run_processes(
            _baseline_worker, [(chunk, threads) for chunk in _split(urls, workers)]
        )
        out: dict[str, Any] = {
            "feeds": feeds,
            "items_per_feed": items,
            "workers": workers,
            "threads_per_worker": threads,
            "extract": extract,
            "baseline_bare_get": {
                "seconds": round(base_s, 2),
                "feeds_per_s": round(feeds / base_s, 1),
                "items_per_s_equivalent": round(feeds * items / base_s, 1),
                "mb": round(sum(base_bytes) / 1e6, 1),
            },
        }
        for polite in (True, False):
            label = "fetch" if polite else "fetch_without_politeness"
            out[label] = _fetch_run(urls, db_name, redis_url, extract, threads, workers, polite)
        out["politeness"] = {
            "host_concurrency": _settings().fetch_host_concurrency,
            "host_min_gap_seconds": _settings().fetch_host_min_gap_seconds,
            "headline_is": "fetch (production defaults)",
        }
        return out
    finally:
        server.terminate()
        server.join(timeout=10)
        from shared.db import engine_for

        engine_for.cache_clear()
        drop_database(db_name)


def cluster_corpora(corpora: list[str]) -> dict[str, Any]:
    """Exact and near-duplicate counts on the real corpora with the production MinHash settings."""
    from shared.ingestion.dedup import MinHasher, StoryIndex, content_fingerprint

    report: dict[str, Any] = {}
    for name in corpora:
        with gzip.open(DATA / "full" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        hasher, index = MinHasher(), StoryIndex()
        seen: dict[str, int] = {}
        exact = near = short = 0
        samples: list[dict[str, Any]] = []
        start = time.perf_counter()
        for i, row in enumerate(rows):
            title, text = row.get("title") or "", row.get("text") or ""
            fp = content_fingerprint(title, text)
            is_exact = fp in seen
            seen.setdefault(fp, i)
            sig = hasher.signature(title, text)
            if sig is None:
                short += 1
            else:
                found = index.candidates(sig)
                if found and not is_exact:
                    near += 1
                    if len(samples) < 12:
                        other = rows[found[0][0]]
                        samples.append(
                            {
                                "similarity": round(found[0][1], 2),
                                "a": [row["id"], title],
                                "b": [other["id"], other["title"]],
                            }
                        )
            exact += is_exact
            index.assign(i, sig)
        elapsed = time.perf_counter() - start
        stories: dict[int, int] = {}
        for i in range(len(rows)):
            story = index.story_of(i)
            stories[story or i] = stories.get(story or i, 0) + 1
        multi = [n for n in stories.values() if n > 1]
        report[name] = {
            "documents": len(rows),
            "exact_duplicates": exact,
            "near_duplicates_not_exact": near,
            "too_short_to_cluster": short,
            "stories": len(stories),
            "stories_with_several_articles": len(multi),
            "largest_story": max(multi, default=1),
            "docs_per_s": round(len(rows) / elapsed, 1),
            "samples": samples,
        }
    return report


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints JSON with --json, a short summary otherwise."""
    parser = argparse.ArgumentParser(prog="newswatch bench fetch", description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker process (the fetcher runs a thread pool)"
    )
    parser.add_argument("--extract", action="store_true", help="only the run with full-text extraction")
    parser.add_argument("--both", action="store_true", help="run without and with extraction")
    parser.add_argument("--extract-feeds", type=int, default=100, help="feeds in the extraction run")
    parser.add_argument("--clusters", action="store_true", help="measure clustering on BBC and Reuters")
    parser.add_argument(
        "--redis-url", default=os.environ.get("NEWSWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"{DATA} is absent: the benchmark needs the real corpora", file=sys.stderr)
        return 2
    if args.clusters:
        result: dict[str, Any] = {"clusters": cluster_corpora(["bbc", "reuters"])}
    else:
        result = {"runs": []}
        if not args.extract:
            result["runs"].append(
                run_scenario(feeds=args.feeds, items=args.items, workers=args.workers, extract=False,
                             redis_url=args.redis_url, threads=args.threads)
            )  # fmt: skip
        if args.extract or args.both:
            result["runs"].append(
                run_scenario(feeds=args.extract_feeds, items=args.items, workers=args.workers, extract=True,
                             redis_url=args.redis_url, threads=args.threads)
            )  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for run in result.get("runs", []):
            f, off = run["fetch"], run["fetch_without_politeness"]
            print(
                f"extract={run['extract']}: {f['new_items']} new items in {f['seconds']}s"
                f" = {f['new_items_per_s']}/s with production politeness"
                f" ({off['new_items_per_s']}/s without); "
                f"bare GET baseline {run['baseline_bare_get']['items_per_s_equivalent']} items/s, "
                f"worker RSS {f['worker_peak_rss_mb']} MB"
            )
        for name, c in result.get("clusters", {}).items():
            print(f"{name}: {c['near_duplicates_not_exact']} near-duplicates, {c['exact_duplicates']} exact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
