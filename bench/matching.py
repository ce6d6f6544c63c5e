"""Benchmark: watch matching at 100 / 1,000 / 10,000 rules against a naive per-rule regex baseline.

Rules are generated (seeded) from the vocabulary of the BBC articles in ../shared/data/full/bbc.jsonl.gz.
The default mix, "topical" (bench/_matching_rules.py: generate_topical), is what analysts write: each
rule is about the story of one random BBC article, its terms drawn from that article's topical words
(document frequency 2 to 2% of the corpus) and capitalised phrases, with a few outside words. Shapes:
25% OR of 5-20 terms AND OR of 2-6; 20% phrase AND OR of 1-4 (or OR of 2-5 AND a term); 20% OR of 5-20
AND OR of 1-3 NOT OR of 1-4; 20% word NEAR/5 OR of 1-6; 15% SCORE>=4..6 over 3-8 weighted terms; ~5%
wildcards and ~5% capitalised or all-caps words. No shape is dropped. Each size reports matches per
article and how the rules fire (share never firing, firing on <1%, 1-10%, >10% of articles).
`--mix broad` (rules one common term can fire; ~179 of 10,000 fire on every article) and `--mix paired`
(random terms with no topic, so most rules never fire) are kept for comparison.

Every article is matched on one core, plain and with every match's terms and snippet materialised.
Rules are anchored by word frequencies of 500 articles of another corpus (../shared/data/random_2000_non_sco,
as workers use their 500 latest articles); `--anchors length` is a new install's fallback (longer = rarer).
Memory is the Python objects (tracemalloc) plus the arrays the C matcher allocates (`c_memory_bytes`).
Timing is CPU time, the sizes timed in interleaved rounds so other load on the machine hits all alike.
The naive baseline (each term its own compiled regex, every rule checked on every article) runs on the
first articles within a time budget; a raw Aho-Corasick scan of every term key over the same texts is
the floor, and `engine_cost_vs_raw_scan` the engine's cost as a multiple of it (robust to machine load).
Prints JSON.

    .venv/bin/python -m bench.matching --json --naive-seconds 5
    .venv/bin/newswatch bench matching --rules 10000 --json
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ahocorasick

from bench._matching_rules import (
    BBC,
    MIX_CAPS,
    MIXES,
    frequency_sample,
    generate_rules,
    generate_topical,
    load_articles,
    vocabulary,
)
from shared.rules import Engine, MatchDocument, WatchSpec, compile_watches, document_frequencies, parse
from shared.rules.ast import And, Near, Node, Not, Or, Term, Weighted

# -- naive baseline: one regex per term, every rule checked on every article --------------------------
Fields = tuple[str, str]


def _pattern(term: Term) -> str:
    words = term.text.split()
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    body = r"\b" + r"\W+".join(parts) + r"\b"
    caps = any(w.isupper() and len(w) > 1 for w in words)
    return body if caps else f"(?i:{body})"


def naive_rule(node: Node) -> Callable[[Fields], bool]:
    """The home-grown way: regex searches (title and text each) combined in Python."""
    if isinstance(node, Term):
        rx = re.compile(_pattern(node))
        return lambda fs: rx.search(fs[0]) is not None or rx.search(fs[1]) is not None
    if isinstance(node, And):
        subs = [naive_rule(c) for c in node.children]
        return lambda fs: all(f(fs) for f in subs)
    if isinstance(node, Or):
        subs = [naive_rule(c) for c in node.children]
        return lambda fs: any(f(fs) for f in subs)
    if isinstance(node, Not):
        sub = naive_rule(node.child)
        return lambda fs: not sub(fs)
    if isinstance(node, Near):
        terms = [c for c in (node.right.children if isinstance(node.right, Or) else (node.right,))]
        left = _pattern(node.left)  # type: ignore[arg-type]
        alts = "|".join(_pattern(t) for t in terms)  # type: ignore[arg-type]
        gap = rf"\W+(?:\w+\W+){{0,{node.distance}}}"
        rx = re.compile(rf"{left}{gap}(?:{alts})|(?:{alts}){gap}{left}")
        return lambda fs: rx.search(fs[0]) is not None or rx.search(fs[1]) is not None
    if isinstance(node, Weighted):
        items = [(naive_rule(i), w) for i, w in node.items]
        t = node.threshold
        return lambda fs: sum(w for f, w in items if f(fs)) >= t
    raise TypeError(node)


def _rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * 4096 / 1e6
    except OSError:
        return float("nan")


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def measure(
    sizes: list[int],
    docs: list[MatchDocument],
    words: list[str],
    phrases: list[str],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """Compile every size, then time them in interleaved rounds so load from other processes hits all."""
    engines: list[Engine] = []
    out: list[dict[str, Any]] = []
    specs_by_size = {}
    freq = document_frequencies(frequency_sample()) if args.anchors == "frequencies" else None
    for n in sizes:
        if args.mix == "topical":
            specs = generate_topical(n, docs, words, phrases)
        else:
            specs = generate_rules(n, words, phrases, mix=args.mix)
        specs_by_size[n] = specs
        gc.collect()
        rss0 = _rss_mb()
        t0 = time.perf_counter()
        engine = compile_watches(specs, frequencies=freq)
        compile_s = time.perf_counter() - t0
        rss_delta = _rss_mb() - rss0
        tracemalloc.start()
        again = compile_watches(specs, frequencies=freq)
        traced_mb = tracemalloc.get_traced_memory()[0] / 1e6
        tracemalloc.stop()
        for d in docs[:200]:
            again.match(d)  # the scratch areas grow to the longest article's size
        c_mb = again.c_memory_bytes / 1e6
        del again
        engines.append(engine)
        out.append(
            {
                "rules": n,
                "terms": engine.term_count,
                "articles": len(docs),
                "compile_seconds": round(compile_s, 3),
                # Python objects (tracemalloc) plus the arrays the C matcher allocates itself.
                "engine_memory_mb": round(traced_mb + c_mb, 1),
                "engine_memory_mb_tracemalloc": round(traced_mb, 1),
                "engine_memory_mb_c": round(c_mb, 1),
                "engine_memory_mb_rss_delta": round(rss_delta, 1),
            }
        )

    def plain(engine: Engine) -> Callable[[], object]:
        return lambda: sum(len(engine.match(d)) for d in docs)

    def ids(engine: Engine) -> Callable[[], object]:
        # What every consumer reads of a match: its watch id (results resolve it on access).
        return lambda: sum(1 for d in docs for m in engine.match(d) if m.watch_id is not None)

    def detailed(engine: Engine) -> Callable[[], object]:
        # Materialise what an alert carries: every term hit and the highlighted snippet.
        return lambda: sum(len(r.terms) + len(r.snippet) for d in docs for r in engine.match(d))

    def presearch(engine: Engine) -> Callable[[], int]:
        # Presence keys and candidate rules only: the part that should barely grow with the rule count.
        return lambda: sum(len(engine.candidates(d)) for d in docs)

    # cpu, wall, cpu with details, wall with details, presearch cpu, cpu reading ids
    best = [[float("inf")] * 6 for _ in engines]
    for _ in range(args.rounds):
        for i, engine in enumerate(engines):
            cpu, wall = _timed(plain(engine))
            best[i][0], best[i][1] = min(best[i][0], cpu), min(best[i][1], wall)
            cpu, wall = _timed(detailed(engine))
            best[i][2], best[i][3] = min(best[i][2], cpu), min(best[i][3], wall)
            best[i][4] = min(best[i][4], _timed(presearch(engine))[0])
            best[i][5] = min(best[i][5], _timed(ids(engine))[0])

    for row, engine, (cpu, wall, dcpu, _dwall, pcpu, icpu) in zip(out, engines, best, strict=True):
        fired = Counter(m.watch_id for d in docs for m in engine.match(d))
        matches = sum(fired.values())
        row.update(
            {
                "articles_per_cpu_second": round(len(docs) / cpu, 1),
                "articles_per_second_wall": round(len(docs) / wall, 1),
                "us_per_article_cpu": round(1e6 * cpu / len(docs), 1),
                "articles_per_cpu_second_with_details": round(len(docs) / dcpu, 1),
                "us_per_article_cpu_with_details": round(1e6 * dcpu / len(docs), 1),
                "us_per_article_cpu_presearch": round(1e6 * pcpu / len(docs), 1),
                "us_per_article_cpu_reading_ids": round(1e6 * icpu / len(docs), 1),
                "candidates_per_article": round(presearch(engine)() / len(docs), 2),
                "matches": matches,
                "matches_per_article": round(matches / len(docs), 2),
                # Evaluation and results past the presearch, per match: grows with the output, not the rules.
                "us_per_match_cpu_after_presearch": round(1e6 * max(0.0, cpu - pcpu) / max(1, matches), 2),
            }
        )
        row["rules_firing_share"] = _firing(fired, row["rules"], len(docs))
        row.update(_raw_scan(engine, docs))
        raw = row["raw_aho_corasick_articles_per_cpu_second"]
        row["engine_cost_vs_raw_scan"] = round(raw / row["articles_per_cpu_second"], 2)
        row.update(_naive(engine, specs_by_size[row["rules"]], docs, args.naive_seconds, cpu / len(docs)))
    return out


def _firing(fired: Counter[int | str], rules: int, articles: int) -> dict[str, float]:
    """Share of rules by the share of articles they fire on."""
    shares = [fired.get(i, 0) / articles for i in range(rules)]
    bands = {
        "never": sum(s == 0 for s in shares),
        "under_1pct": sum(0 < s < 0.01 for s in shares),
        "1_to_10pct": sum(0.01 <= s <= 0.1 for s in shares),
        "over_10pct": sum(s > 0.1 for s in shares),
    }
    return {k: round(v / max(1, rules), 4) for k, v in bands.items()}


def _raw_scan(engine: Engine, docs: list[MatchDocument]) -> dict[str, Any]:
    """A raw Aho-Corasick scan of every term key over the lower-cased texts: the floor of a presearcher."""
    auto = ahocorasick.Automaton()
    for i, key in enumerate(engine.term_keys):
        auto.add_word(key, i)
    auto.make_automaton()
    texts = [f" {d.title} {d.text} ".lower() for d in docs]

    def scan() -> None:
        for s in texts:
            for _ in auto.iter(s):
                pass

    cpu, _wall = _timed(scan)
    return {"raw_aho_corasick_articles_per_cpu_second": round(len(docs) / cpu, 1)}


def _naive(
    engine: Engine, specs: list[WatchSpec], docs: list[MatchDocument], budget: float, ours: float
) -> dict[str, Any]:
    """The naive baseline on the first articles within a time budget, and agreement on that sample."""
    naive = [naive_rule(parse(s.query)) for s in specs]
    done, theirs = 0, set()
    c0, t0 = time.process_time(), time.perf_counter()
    while done < len(docs) and (time.perf_counter() - t0 < budget or done < 3):
        fs = (docs[done].title, docs[done].text)
        theirs |= {(done, i) for i, f in enumerate(naive) if f(fs)}
        done += 1
    per_article = (time.process_time() - c0) / done
    mine = {(j, m.watch_id) for j, d in enumerate(docs[:done]) for m in engine.match(d)}
    union = mine | theirs
    return {
        "naive_articles_per_cpu_second": round(1 / per_article, 2),
        "naive_articles_measured": done,
        "speedup_vs_naive": round(per_article / ours, 1),
        "agreement_with_naive_jaccard": round(len(mine & theirs) / max(1, len(union)), 4),
        "naive_only": sorted(theirs - mine)[:5],
        "engine_only": sorted(mine - theirs)[:5],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    ap = argparse.ArgumentParser(prog="newswatch bench matching", description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--rules", type=int, action="append", help="rule count (repeatable; default 100 1000 10000)"
    )
    ap.add_argument("--articles", type=int, default=None, help="limit the number of BBC articles")
    ap.add_argument(
        "--mix", choices=MIXES, default="topical", help="rule mix (generate_topical, generate_rules)"
    )
    ap.add_argument(
        "--anchors",
        choices=("frequencies", "length"),
        default="frequencies",
        help="presearch anchors from word frequencies of 500 other news articles (as workers do with their "
        "latest 500), or by word length (a new install with no articles yet)",
    )
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per size (best is reported)")
    ap.add_argument("--naive-seconds", type=float, default=10.0, help="time budget of the naive baseline")
    ap.add_argument("--json", action="store_true", help="print compact JSON only")
    args = ap.parse_args(argv)
    if not BBC.is_file():
        print(json.dumps({"error": f"{BBC} not found"}))
        return 2
    docs = load_articles(args.articles)
    words, phrases = vocabulary(docs, MIX_CAPS[args.mix])
    sizes = sorted(set(args.rules or [100, 1000, 10000]))
    results = measure(sizes, docs, words, phrases, args)
    report: dict[str, Any] = {
        "benchmark": "matching",
        "mix": args.mix,
        "anchors": args.anchors,
        "vocabulary": len(words),
        "phrases": len(phrases),
        "timing": "CPU time of this process, best of --rounds interleaved rounds, one core",
        "results": results,
    }
    if len(results) > 1:
        for name, field in (
            ("per_article_cost_vs_smallest", "us_per_article_cpu"),
            ("per_article_cost_vs_smallest_reading_ids", "us_per_article_cpu_reading_ids"),
            ("presearch_cost_vs_smallest", "us_per_article_cpu_presearch"),
        ):
            report[name] = {str(r["rules"]): round(r[field] / results[0][field], 2) for r in results}
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
