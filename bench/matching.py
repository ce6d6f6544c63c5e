"""Benchmark: watch matching at 100 / 1,000 / 10,000 rules against a naive per-rule regex baseline.

Rules are generated (seeded) from the vocabulary of the BBC articles in ../shared/data/full/bbc.jsonl.gz:
phrases, ORs of 5-20 terms, NOT clauses, NEAR/5, weights and some wildcards. Every article is matched on
one core, plain and with every match's terms and snippet materialised. Timing is CPU time, the sizes timed
in interleaved rounds so other load on the machine hits all alike. The naive baseline (each term its own
compiled regex, every rule checked on every article) runs on the first articles within a time budget;
a raw Aho-Corasick scan of the same texts gives the floor. Prints JSON.

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

from shared.rules import Engine, MatchDocument, WatchSpec, compile_watches, parse
from shared.rules.ast import KEYWORD_RE, And, Near, Node, Not, Or, Term, Weighted
from shared.rules.text import TOKEN_RE

# Monitoring terms are topical: at most this share of articles contains any one of them (no "said").
MIX_CAPS = {"broad": 0.05, "paired": 0.02}
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


def vocabulary(docs: list[MatchDocument], cap_share: float = 0.05) -> tuple[list[str], list[str]]:
    """Content words and two-word phrases by document frequency (monitoring terms, not stop words)."""
    df: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for d in docs:
        toks = TOKEN_RE.findall(f"{d.title} {d.text}")
        df.update({t.lower() for t in toks})
        bigrams.update({f"{a} {b}".lower() for a, b in itertools.pairwise(toks) if a[:1].isupper()})
    cap = cap_share * len(docs)
    words = sorted(
        w for w, n in df.items() if 2 <= n <= cap and len(w) >= 4 and w.isalpha() and w not in STOP
    )
    phrases = sorted(
        p for p, n in bigrams.items() if 2 <= n <= cap and all(len(x) >= 3 and x.isalpha() for x in p.split())
    )
    return words, phrases


MIXES = ("broad", "paired")


def generate_rules(
    n: int, words: list[str], phrases: list[str], seed: int = 7, mix: str = "broad"
) -> list[WatchSpec]:
    """A mix of monitoring rules: phrases, ORs of 5-20 terms, NOT clauses, NEAR/5, weights, wildcards.

    "broad" (the default, unchanged since phase 1) includes rules that one term can fire: plain ORs of
    2-5 terms, topic ORs with only a NOT, SCORE rules whose threshold one heavy term reaches. "paired"
    gives every rule two required parts (topic AND context), so fewer rules fire per article.
    """
    rng = random.Random(seed)

    def term() -> str:
        r = rng.random()
        if r < 0.25:
            return f'"{rng.choice(phrases)}"'
        w = rng.choice(words)
        if r < 0.30 and len(w) >= 6:
            return w[: rng.randint(4, len(w) - 1)] + "*"
        if r < 0.35:
            w = w.upper() if len(w) <= 5 else w.capitalize()
            # A word spelled like an operator (NEAR, AND) is quoted, as an analyst would.
            return f'"{w}"' if KEYWORD_RE.match(w) else w
        return w

    def ors(lo: int, hi: int) -> str:
        return "(" + " OR ".join(term() for _ in range(rng.randint(lo, hi))) + ")"

    out = []
    for i in range(n):
        kind = rng.random()
        if mix == "paired":
            # Every shape needs two things: topic terms with context.
            if kind < 0.25:
                q = f"{ors(5, 20)} AND {ors(2, 6)}"
            elif kind < 0.45:
                q = (
                    f'"{rng.choice(phrases)}" AND {ors(1, 4)}'
                    if rng.random() < 0.5
                    else f"{ors(2, 5)} {term()}"
                )
            elif kind < 0.65:
                q = f"{ors(5, 20)} AND {ors(1, 3)} NOT {ors(1, 4)}"
            elif kind < 0.85:
                q = f"{term()} NEAR/5 {ors(1, 6)}"
            else:
                items = ", ".join(f"{term()}^{rng.randint(1, 3)}" for _ in range(rng.randint(3, 8)))
                q = f"SCORE>={rng.randint(4, 6)}({items})"
        elif kind < 0.25:
            q = f"{ors(5, 20)} AND {ors(2, 6)}"
        elif kind < 0.45:
            q = f"{ors(1, 4)} AND {term()}" if rng.random() < 0.5 else ors(2, 5)
        elif kind < 0.65:
            q = f"{ors(5, 20)} NOT {ors(1, 4)}"
        elif kind < 0.85:
            q = f"{term()} NEAR/5 {ors(1, 6)}"
        else:
            items = ", ".join(f"{term()}^{rng.randint(1, 3)}" for _ in range(rng.randint(3, 8)))
            q = f"SCORE>={rng.randint(2, 5)}({items})"
        out.append(WatchSpec(id=i, name=f"r{i}", query=q))
    return out


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
    for n in sizes:
        specs = specs_by_size[n] = generate_rules(n, words, phrases, mix=args.mix)
        gc.collect()
        rss0 = _rss_mb()
        t0 = time.perf_counter()
        engine = compile_watches(specs)
        compile_s = time.perf_counter() - t0
        rss_delta = _rss_mb() - rss0
        tracemalloc.start()
        again = compile_watches(specs)
        traced_mb = tracemalloc.get_traced_memory()[0] / 1e6
        tracemalloc.stop()
        del again
        engines.append(engine)
        out.append(
            {
                "rules": n,
                "terms": engine.term_count,
                "articles": len(docs),
                "compile_seconds": round(compile_s, 3),
                "engine_memory_mb_tracemalloc": round(traced_mb, 1),
                "engine_memory_mb_rss_delta": round(rss_delta, 1),
            }
        )

    def plain(engine: Engine) -> Callable[[], object]:
        return lambda: sum(len(engine.match(d)) for d in docs)

    def detailed(engine: Engine) -> Callable[[], object]:
        # Materialise what an alert carries: every term hit and the highlighted snippet.
        return lambda: sum(len(r.terms) + len(r.snippet) for d in docs for r in engine.match(d))

    best = [[float("inf")] * 4 for _ in engines]  # cpu, wall, cpu with details, wall with details
    for _ in range(args.rounds):
        for i, engine in enumerate(engines):
            cpu, wall = _timed(plain(engine))
            best[i][0], best[i][1] = min(best[i][0], cpu), min(best[i][1], wall)
            cpu, wall = _timed(detailed(engine))
            best[i][2], best[i][3] = min(best[i][2], cpu), min(best[i][3], wall)

    for row, engine, (cpu, wall, dcpu, _dwall) in zip(out, engines, best, strict=True):
        matches = sum(len(engine.match(d)) for d in docs)
        row.update(
            {
                "articles_per_cpu_second": round(len(docs) / cpu, 1),
                "articles_per_second_wall": round(len(docs) / wall, 1),
                "us_per_article_cpu": round(1e6 * cpu / len(docs), 1),
                "articles_per_cpu_second_with_details": round(len(docs) / dcpu, 1),
                "us_per_article_cpu_with_details": round(1e6 * dcpu / len(docs), 1),
                "matches": matches,
                "matches_per_article": round(matches / len(docs), 2),
            }
        )
        row.update(_raw_scan(engine, docs))
        row.update(_naive(engine, specs_by_size[row["rules"]], docs, args.naive_seconds, cpu / len(docs)))
    return out


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
    ap.add_argument("--mix", choices=MIXES, default="broad", help="rule mix (see generate_rules)")
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
        "vocabulary": len(words),
        "phrases": len(phrases),
        "timing": "CPU time of this process, best of --rounds interleaved rounds, one core",
        "results": results,
    }
    if len(results) > 1:
        base = results[0]["us_per_article_cpu"]
        report["per_article_cost_vs_smallest"] = {
            str(r["rules"]): round(r["us_per_article_cpu"] / base, 2) for r in results
        }
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
