"""Benchmark: watch matching at 1,000 / 10,000 / 100,000 rules, read as the pipeline reads it.

Headline: articles per CPU-second on one core **with details**: every match's terms, snippet and score
read exactly as the pipeline consumes them (shared/pipeline/service.py `_process`: `engine.match(doc)`,
then `terms`, `snippet`, `score` of every match; shared/alerts/service.py `record_matches`: the term dicts
a Match row stores). Beside it, labelled `lazy`: the same matching with the results only counted
(`len(engine.match(doc))`, the details never built), and the presearch alone.

Rules are generated (seeded) from the vocabulary of the BBC articles in ../shared/data/full/bbc.jsonl.gz.
The default mix, "topical" (bench/_matching_rules.py: generate_topical), is what analysts write: each
rule is about the story of one random BBC article, its terms drawn from that article's topical words
(document frequency 2 to 2% of the corpus) and capitalised phrases, with a few outside words. Shapes:
25% OR of 5-20 terms AND OR of 2-6; 20% phrase AND OR of 1-4 (or OR of 2-5 AND a term); 20% OR of 5-20
AND OR of 1-3 NOT OR of 1-4; 20% word NEAR/5 OR of 1-6; 15% SCORE>=4..6 over 3-8 weighted terms; ~5%
wildcards and ~5% capitalised or all-caps words. Each size reports matches per article and how the rules
fire (share never firing, firing on <1%, 1-10%, >10% of articles). `--mix broad` and `--mix paired` are
kept for comparison. Rules are anchored by word frequencies of 500 articles of another corpus
(../shared/data/random_2000_non_sco, as workers use their 500 latest articles); `--anchors length` is a
new install's fallback (longer = rarer).

Compile: wall seconds and memory of each size: the process's resident set while compiling (peak above
the resident set before, Linux VmHWM reset per size) and after (kept), and the arrays the C matcher holds
(`c_memory_bytes`, part of the resident set). Growth from the middle size to the largest is reported
(`growth`). Timing is CPU time, the sizes timed in interleaved rounds so other load on the machine hits
all alike; `load_average` says what else ran.

Baselines, same run: the naive way (each term its own compiled regex, every rule checked on every
article, no presearch) on at least `--naive-articles` articles at every size (more within
`--naive-seconds`); and a raw Aho-Corasick scan of every term key over the same texts (the floor of
any presearcher). `goals` holds the issue's goals with what this run measured.

    .venv/bin/newswatch bench matching --json
    .venv/bin/python -m bench.matching --rules 10000 --naive-articles 20 --json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
import time
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

GOAL_DETAILS_RULES = 10_000
GOAL_DETAILS_PER_SECOND = 5_000.0
GOAL_BIG_RULES = 100_000
GOAL_COMPILE_SECONDS = 60.0
GOAL_MEMORY_MB = 1_000.0

# -- naive baseline: one regex per term, every rule checked on every article --------------------------
Fields = tuple[str, str]


def _pattern(term: Term) -> str:
    words = term.text.split()
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    body = r"\b" + r"\W+".join(parts) + r"\b"
    caps = any(w.isupper() and len(w) > 1 for w in words)
    return body if caps else f"(?i:{body})"


def naive_rule(node: Node, cache: dict[str, re.Pattern[str]]) -> Callable[[Fields], bool]:
    """The home-grown way: regex searches (title and text each) combined in Python (regexes shared)."""

    def rx(pattern: str) -> re.Pattern[str]:
        got = cache.get(pattern)
        if got is None:
            got = cache[pattern] = re.compile(pattern)
        return got

    if isinstance(node, Term):
        t = rx(_pattern(node))
        return lambda fs: t.search(fs[0]) is not None or t.search(fs[1]) is not None
    if isinstance(node, And):
        subs = [naive_rule(c, cache) for c in node.children]
        return lambda fs: all(f(fs) for f in subs)
    if isinstance(node, Or):
        subs = [naive_rule(c, cache) for c in node.children]
        return lambda fs: any(f(fs) for f in subs)
    if isinstance(node, Not):
        sub = naive_rule(node.child, cache)
        return lambda fs: not sub(fs)
    if isinstance(node, Near):
        terms = [c for c in (node.right.children if isinstance(node.right, Or) else (node.right,))]
        left = _pattern(node.left)  # type: ignore[arg-type]
        alts = "|".join(_pattern(t) for t in terms)  # type: ignore[arg-type]
        gap = rf"\W+(?:\w+\W+){{0,{node.distance}}}"
        near = rx(rf"{left}{gap}(?:{alts})|(?:{alts}){gap}{left}")
        return lambda fs: near.search(fs[0]) is not None or near.search(fs[1]) is not None
    if isinstance(node, Weighted):
        items = [(naive_rule(i, cache), w) for i, w in node.items]
        threshold = node.threshold
        return lambda fs: sum(w for f, w in items if f(fs)) >= threshold
    raise TypeError(node)


# -- what the pipeline reads of a match ------------------------------------------------------------------
def consume(engine: Engine, doc: MatchDocument) -> int:
    """Match one article and read every result as the pipeline does; returns a checksum."""
    found = engine.match(doc)
    for match in found:
        _ = (match.terms, match.snippet, match.score)  # shared/pipeline/service.py: _process
    total = 0
    for match in found:  # shared/alerts/service.py: record_matches (the Match row's terms, snippet, score)
        terms = match.term_dicts()
        total += len(terms) + len(match.snippet) + int(match.score) + (match.watch_id is not None)
    return total


# -- memory ---------------------------------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the resident-set high-water mark (Linux: 5 > /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def _compile(specs: list[WatchSpec], freq: Any) -> tuple[Engine, dict[str, Any]]:
    gc.collect()
    peak_ok = _reset_peak()
    rss0 = _status_kb("VmRSS") or 0
    c0, t0 = time.process_time(), time.perf_counter()
    engine = compile_watches(specs, frequencies=freq)
    compile_s, compile_cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _status_kb("VmHWM") if peak_ok else None
    rss1 = _status_kb("VmRSS") or 0
    return engine, {
        "compile_seconds": round(compile_s, 2),
        "compile_cpu_seconds": round(compile_cpu, 2),
        "compile_peak_memory_mb": round((peak - rss0) / 1024, 1) if peak else None,
        "engine_memory_mb": round((rss1 - rss0) / 1024, 1),
    }


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
        engine, row = _compile(specs, freq)
        for d in docs[:200]:
            engine.match(d)  # the scratch areas grow to the longest article's size
        engines.append(engine)
        out.append(
            {"rules": n, "terms": engine.term_count, "articles": len(docs), **row}
            | {"engine_memory_mb_c": round(engine.c_memory_bytes / 1e6, 1)}
        )

    def detailed(engine: Engine) -> Callable[[], object]:
        return lambda: sum(consume(engine, d) for d in docs)

    def lazy(engine: Engine) -> Callable[[], object]:
        return lambda: sum(len(engine.match(d)) for d in docs)

    def presearch(engine: Engine) -> Callable[[], int]:
        # Presence keys and candidate rules only: the part that should barely grow with the rule count.
        return lambda: sum(len(engine.candidates(d)) for d in docs)

    # cpu with details, wall with details, lazy cpu, lazy wall, presearch cpu
    best = [[float("inf")] * 5 for _ in engines]
    for _ in range(args.rounds):
        for i, engine in enumerate(engines):
            cpu, wall = _timed(detailed(engine))
            best[i][0], best[i][1] = min(best[i][0], cpu), min(best[i][1], wall)
            cpu, wall = _timed(lazy(engine))
            best[i][2], best[i][3] = min(best[i][2], cpu), min(best[i][3], wall)
            best[i][4] = min(best[i][4], _timed(presearch(engine))[0])

    for row, engine, (dcpu, dwall, cpu, wall, pcpu) in zip(out, engines, best, strict=True):
        fired = Counter(m.watch_id for d in docs for m in engine.match(d))
        matches = sum(fired.values())
        row.update(
            {
                "articles_per_cpu_second_with_details": round(len(docs) / dcpu, 1),
                "articles_per_second_wall_with_details": round(len(docs) / dwall, 1),
                "us_per_article_cpu_with_details": round(1e6 * dcpu / len(docs), 1),
                "us_per_match_cpu_details": round(1e6 * max(0.0, dcpu - cpu) / max(1, matches), 2),
                "articles_per_cpu_second_lazy": round(len(docs) / cpu, 1),
                "articles_per_second_wall_lazy": round(len(docs) / wall, 1),
                "us_per_article_cpu_lazy": round(1e6 * cpu / len(docs), 1),
                "us_per_article_cpu_presearch": round(1e6 * pcpu / len(docs), 1),
                "candidates_per_article": round(presearch(engine)() / len(docs), 2),
                "matches": matches,
                "matches_per_article": round(matches / len(docs), 2),
            }
        )
        row["rules_firing_share"] = _firing(fired, row["rules"], len(docs))
        row.update(_raw_scan(engine, docs))
        row.update(_naive(engine, specs_by_size[row["rules"]], docs, args, dcpu / len(docs), cpu / len(docs)))
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
    engine: Engine,
    specs: list[WatchSpec],
    docs: list[MatchDocument],
    args: argparse.Namespace,
    ours_details: float,
    ours_lazy: float,
) -> dict[str, Any]:
    """The naive baseline on the first articles (at least `--naive-articles`, more within the budget)."""
    cache: dict[str, re.Pattern[str]] = {}
    naive = [naive_rule(parse(s.query), cache) for s in specs]
    done, theirs = 0, set()
    c0, t0 = time.process_time(), time.perf_counter()
    while done < len(docs) and (time.perf_counter() - t0 < args.naive_seconds or done < args.naive_articles):
        fs = (docs[done].title, docs[done].text)
        theirs |= {(done, i) for i, f in enumerate(naive) if f(fs)}
        done += 1
    per_article = (time.process_time() - c0) / done
    mine = {(j, m.watch_id) for j, d in enumerate(docs[:done]) for m in engine.match(d)}
    union = mine | theirs
    return {
        "naive_articles_per_cpu_second": round(1 / per_article, 3),
        "naive_articles_measured": done,
        "speedup_vs_naive_with_details": round(per_article / ours_details, 1),
        "speedup_vs_naive_lazy": round(per_article / ours_lazy, 1),
        "agreement_with_naive_jaccard": round(len(mine & theirs) / max(1, len(union)), 4),
        "naive_only": sorted(theirs - mine)[:5],
        "engine_only": sorted(mine - theirs)[:5],
    }


def _growth(results: list[dict[str, Any]]) -> dict[str, Any]:
    """How costs grow from the second largest size to the largest (10,000 → 100,000 by default)."""
    small, big = results[-2], results[-1]

    def ratio(field: str) -> float | None:
        a, b = small.get(field), big.get(field)
        return round(b / a, 2) if a and b else None

    return {
        "from_rules": small["rules"],
        "to_rules": big["rules"],
        "rules": round(big["rules"] / small["rules"], 2),
        "per_article_cost_with_details": ratio("us_per_article_cpu_with_details"),
        "per_article_cost_lazy": ratio("us_per_article_cpu_lazy"),
        "presearch_cost": ratio("us_per_article_cpu_presearch"),
        "matches_per_article": ratio("matches_per_article"),
        "details_cost_per_match": ratio("us_per_match_cpu_details"),
        "compile_seconds": ratio("compile_seconds"),
        "compile_peak_memory": ratio("compile_peak_memory_mb"),
        "engine_memory": ratio("engine_memory_mb"),
    }


def _goals(results: list[dict[str, Any]]) -> dict[str, Any]:
    by = {r["rules"]: r for r in results}
    goals: dict[str, Any] = {}
    if GOAL_DETAILS_RULES in by:
        got = by[GOAL_DETAILS_RULES]["articles_per_cpu_second_with_details"]
        goals["details_articles_per_cpu_second_at_10000"] = {
            "goal": f">= {GOAL_DETAILS_PER_SECOND:.0f}",
            "measured": got,
            "met": got >= GOAL_DETAILS_PER_SECOND,
        }
    if GOAL_BIG_RULES in by:
        row = by[GOAL_BIG_RULES]
        # CPU seconds of the compiling process: wall time on a shared machine counts the others' work too.
        goals["compile_seconds_at_100000"] = {
            "goal": f"<= {GOAL_COMPILE_SECONDS:.0f} (CPU seconds, one core; wall beside it)",
            "measured": row["compile_cpu_seconds"],
            "wall": row["compile_seconds"],
            "met": row["compile_cpu_seconds"] <= GOAL_COMPILE_SECONDS,
        }
        mem = max(row["compile_peak_memory_mb"] or 0.0, row["engine_memory_mb"])
        goals["memory_mb_at_100000"] = {
            "goal": f"<= {GOAL_MEMORY_MB:.0f} (peak resident set while compiling, or kept after)",
            "measured": mem,
            "met": mem <= GOAL_MEMORY_MB,
        }
    return goals


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    ap = argparse.ArgumentParser(prog="newswatch bench matching", description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--rules", type=int, action="append", help="rule count (repeatable; default 1000 10000 100000)"
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
    ap.add_argument(
        "--naive-articles", type=int, default=20, help="articles the naive baseline measures at least"
    )
    ap.add_argument(
        "--naive-seconds", type=float, default=10.0, help="the naive baseline goes on to more articles"
    )
    ap.add_argument("--json", action="store_true", help="print compact JSON only")
    args = ap.parse_args(argv)
    if not BBC.is_file():
        print(json.dumps({"error": f"{BBC} not found"}))
        return 2
    docs = load_articles(args.articles)
    words, phrases = vocabulary(docs, MIX_CAPS[args.mix])
    sizes = sorted(set(args.rules or [1_000, 10_000, 100_000]))
    load_before = os.getloadavg()
    results = measure(sizes, docs, words, phrases, args)
    headline = next((r for r in results if r["rules"] == GOAL_DETAILS_RULES), results[-1])
    report: dict[str, Any] = {
        "benchmark": "matching",
        "headline": {
            "rules": headline["rules"],
            "articles_per_cpu_second_with_details": headline["articles_per_cpu_second_with_details"],
            "articles_per_cpu_second_lazy": headline["articles_per_cpu_second_lazy"],
            "naive_articles_per_cpu_second": headline["naive_articles_per_cpu_second"],
        },
        "with_details": "every match's terms, snippet and score read as shared/pipeline/service.py and "
        "alerts.record_matches read them (the headline)",
        "lazy": "results counted only, details never built (not what the pipeline does)",
        "mix": args.mix,
        "anchors": args.anchors,
        "vocabulary": len(words),
        "phrases": len(phrases),
        "timing": "CPU time of this process, best of --rounds interleaved rounds, one core",
        "load_average": {"before": [round(x, 2) for x in load_before], "after": list(os.getloadavg())},
        "cpus": os.cpu_count(),
        "results": results,
        "goals": _goals(results),
    }
    if len(results) > 1:
        report["growth"] = _growth(results)
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
