"""Benchmark: watch matching at 100 / 1,000 / 10,000 rules against a naive per-rule regex baseline.

Rules are generated (seeded) from the vocabulary of the BBC articles in ../shared/data/full/bbc.jsonl.gz:
phrases, ORs of 5-20 terms, NOT clauses, NEAR/5, weights and some wildcards. Every article is matched
on one core; the naive baseline (each term its own compiled regex, every rule checked on every article)
runs on a sample of articles within a time budget. A raw Aho-Corasick scan of the same texts gives the
floor. Prints JSON.

    .venv/bin/python -m bench.matching --rules 10000 --json
"""

from __future__ import annotations

import argparse
import gc
import gzip
import itertools
import json
import random
import re
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ahocorasick

from shared.rules import MatchDocument, WatchSpec, compile_watches, parse
from shared.rules.ast import And, Near, Node, Not, Or, Term, Weighted
from shared.rules.text import TOKEN_RE

# Monitoring terms are topical: at most 2% of articles contain any one of them (no "said", "year").
CAP = 0.02
REPO = Path(__file__).resolve().parents[1]
BBC = REPO / ".." / "shared" / "data" / "full" / "bbc.jsonl.gz"
STOP = frozenset(
    [
        "that",
        "with",
        "from",
        "have",
        "this",
        "they",
        "were",
        "been",
        "said",
        "will",
        "would",
        "their",
        "which",
        "there",
        "about",
        "also",
        "than",
        "more",
        "after",
        "when",
        "what",
        "other",
        "into",
        "some",
        "could",
        "them",
        "only",
        "over",
        "such",
        "year",
        "years",
        "people",
        "time",
        "first",
        "last",
    ]
)


def load_articles(limit: int | None = None) -> list[MatchDocument]:
    """The BBC articles as match documents."""
    with gzip.open(BBC, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    docs = [MatchDocument(title=r["title"] or "", text=r["text"] or "", language="en") for r in rows]
    return docs[:limit] if limit else docs


def vocabulary(docs: list[MatchDocument]) -> tuple[list[str], list[str]]:
    """Content words and two-word phrases by document frequency (monitoring terms, not stop words)."""
    df: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for d in docs:
        toks = TOKEN_RE.findall(f"{d.title} {d.text}")
        df.update({t.lower() for t in toks})
        bigrams.update({f"{a} {b}".lower() for a, b in itertools.pairwise(toks) if a[:1].isupper()})
    cap = CAP * len(docs)
    words = sorted(
        w for w, n in df.items() if 2 <= n <= cap and len(w) >= 4 and w.isalpha() and w not in STOP
    )
    phrases = sorted(
        p for p, n in bigrams.items() if 2 <= n <= cap and all(len(x) >= 3 and x.isalpha() for x in p.split())
    )
    return words, phrases


def generate_rules(n: int, words: list[str], phrases: list[str], seed: int = 7) -> list[WatchSpec]:
    """A realistic mix of monitoring rules."""
    rng = random.Random(seed)

    def term() -> str:
        r = rng.random()
        if r < 0.25:
            return f'"{rng.choice(phrases)}"'
        w = rng.choice(words)
        if r < 0.30 and len(w) >= 6:
            return w[: rng.randint(4, len(w) - 1)] + "*"
        if r < 0.35:
            return w.upper() if len(w) <= 5 else w.capitalize()
        return w

    def ors(lo: int, hi: int) -> str:
        return "(" + " OR ".join(term() for _ in range(rng.randint(lo, hi))) + ")"

    out = []
    for i in range(n):
        # Real monitoring rules pair topic terms with context; every shape below needs two things.
        kind = rng.random()
        if kind < 0.25:
            q = f"{ors(5, 20)} AND {ors(2, 6)}"
        elif kind < 0.45:
            q = f'"{rng.choice(phrases)}" AND {ors(1, 4)}' if rng.random() < 0.5 else f"{ors(2, 5)} {term()}"
        elif kind < 0.65:
            q = f"{ors(5, 20)} AND {ors(1, 3)} NOT {ors(1, 4)}"
        elif kind < 0.85:
            q = f"{term()} NEAR/5 {ors(1, 6)}"
        else:
            items = ", ".join(f"{term()}^{rng.randint(1, 3)}" for _ in range(rng.randint(3, 8)))
            q = f"SCORE>={rng.randint(4, 6)}({items})"
        out.append(WatchSpec(id=i, name=f"r{i}", query=q))
    return out


# -- naive baseline: one regex per term, every rule checked on every article --------------------------
def _regex(term: Term) -> re.Pattern[str]:
    words = term.text.split()
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    body = r"\W+".join(parts)
    caps = any(w.isupper() and len(w) > 1 for w in words)
    return re.compile(rf"\b{body}\b", 0 if caps else re.IGNORECASE)


def naive_rule(node: Node) -> Callable[[str], bool]:
    """The home-grown way: regex searches combined in Python."""
    if isinstance(node, Term):
        rx = _regex(node)
        return lambda s: rx.search(s) is not None
    if isinstance(node, And):
        fs = [naive_rule(c) for c in node.children]
        return lambda s: all(f(s) for f in fs)
    if isinstance(node, Or):
        fs = [naive_rule(c) for c in node.children]
        return lambda s: any(f(s) for f in fs)
    if isinstance(node, Not):
        f = naive_rule(node.child)
        return lambda s: not f(s)
    if isinstance(node, Near):
        terms = [c for c in (node.right.children if isinstance(node.right, Or) else (node.right,))]
        left = _regex(node.left).pattern  # type: ignore[arg-type]
        alts = "|".join(_regex(t).pattern for t in terms)  # type: ignore[arg-type]
        gap = rf"\W+(?:\w+\W+){{0,{node.distance}}}"
        rx = re.compile(rf"{left}{gap}(?:{alts})|(?:{alts}){gap}{left}", re.IGNORECASE)
        return lambda s: rx.search(s) is not None
    if isinstance(node, Weighted):
        items = [(naive_rule(i), w) for i, w in node.items]
        t = node.threshold
        return lambda s: sum(w for f, w in items if f(s)) >= t
    raise TypeError(node)


def _rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * 4096 / 1e6
    except OSError:
        return float("nan")


def run(
    n_rules: int, docs: list[MatchDocument], words: list[str], phrases: list[str], budget: float
) -> dict[str, Any]:
    """Measure one rule count."""
    specs = generate_rules(n_rules, words, phrases)
    gc.collect()
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    engine = compile_watches(specs)
    compile_s = time.perf_counter() - t0
    rss_delta = _rss_mb() - rss0

    best = float("inf")
    matches = 0
    for _ in range(2):
        t0 = time.perf_counter()
        matches = sum(len(engine.match(d)) for d in docs)
        best = min(best, time.perf_counter() - t0)

    # Raw automaton scan of the same lower-cased texts: the floor for any presearcher.
    auto = ahocorasick.Automaton()
    for i, p in enumerate(engine._patterns):
        auto.add_word(" " + " ".join(w.norm for w in p) + " ", i)
    auto.make_automaton()
    texts = [f"{d.title} {d.text}".lower() for d in docs]
    t0 = time.perf_counter()
    for s in texts:
        for _ in auto.iter(s):
            pass
    raw_s = time.perf_counter() - t0

    # Naive baseline within a time budget, on the first articles; agreement checked on the same sample.
    naive = [naive_rule(parse(s.query)) for s in specs]
    done, naive_matches, agree = 0, 0, 0
    t0 = time.perf_counter()
    while done < len(docs) and (time.perf_counter() - t0 < budget or done < 3):
        d = docs[done]
        s = f"{d.title}\n{d.text}"
        got = {i for i, f in enumerate(naive) if f(s)}
        naive_matches += len(got)
        done += 1
    naive_s = time.perf_counter() - t0
    ours = {(j, m.watch_id) for j, d in enumerate(docs[:done]) for m in engine.match(d)}
    theirs = {
        (j, i) for j, d in enumerate(docs[:done]) for i, f in enumerate(naive) if f(f"{d.title}\n{d.text}")
    }
    agree = len(ours & theirs) / max(1, len(ours | theirs))

    tracemalloc.start()
    again = compile_watches(specs)
    traced_mb = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    del again

    aps = len(docs) / best
    naive_aps = done / naive_s
    return {
        "rules": n_rules,
        "terms": engine.term_count,
        "articles": len(docs),
        "compile_seconds": round(compile_s, 3),
        "engine_memory_mb_tracemalloc": round(traced_mb, 1),
        "engine_memory_mb_rss_delta": round(rss_delta, 1),
        "articles_per_second": round(aps, 1),
        "us_per_article": round(1e6 / aps, 1),
        "matches": matches,
        "matches_per_article": round(matches / len(docs), 2),
        "raw_aho_corasick_articles_per_second": round(len(docs) / raw_s, 1),
        "naive_articles_per_second": round(naive_aps, 2),
        "naive_articles_measured": done,
        "speedup_vs_naive": round(aps / naive_aps, 1),
        "agreement_with_naive_jaccard": round(agree, 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    ap = argparse.ArgumentParser(prog="newswatch bench matching", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--rules", type=int, action="append", help="rule count (repeatable; default 100 1000 10000)"
    )
    ap.add_argument("--articles", type=int, default=None, help="limit the number of BBC articles")
    ap.add_argument("--naive-seconds", type=float, default=10.0, help="time budget of the naive baseline")
    ap.add_argument("--json", action="store_true", help="print compact JSON only")
    args = ap.parse_args(argv)
    if not BBC.is_file():
        print(json.dumps({"error": f"{BBC} not found"}))
        return 2
    docs = load_articles(args.articles)
    words, phrases = vocabulary(docs)
    results = [run(n, docs, words, phrases, args.naive_seconds) for n in (args.rules or [100, 1000, 10000])]
    report: dict[str, Any] = {
        "benchmark": "matching",
        "vocabulary": len(words),
        "phrases": len(phrases),
        "results": results,
    }
    if len(results) > 1:
        base = results[0]["us_per_article"]
        report["per_article_cost_vs_smallest"] = {
            str(r["rules"]): round(r["us_per_article"] / base, 2) for r in results
        }
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
