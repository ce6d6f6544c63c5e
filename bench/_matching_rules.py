"""Seeded rule sets for bench.matching: BBC vocabulary, and the topical, broad and paired rule mixes."""

from __future__ import annotations

import gzip
import itertools
import json
import random
from collections import Counter
from pathlib import Path

from shared.rules import MatchDocument, WatchSpec
from shared.rules.ast import KEYWORD_RE
from shared.rules.text import TOKEN_RE

# Monitoring terms are topical: at most this share of articles contains any one of them (no "said").
MIX_CAPS = {"topical": 0.02, "broad": 0.05, "paired": 0.02}
REPO = Path(__file__).resolve().parents[1]
BBC = REPO / ".." / "shared" / "data" / "full" / "bbc.jsonl.gz"
# Other news (not BBC): the word-frequency sample for anchors, as workers take their 500 latest articles.
OTHER_NEWS = REPO / ".." / "shared" / "data" / "random_2000_non_sco.jsonl"
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


def frequency_sample(limit: int = 500) -> list[str]:
    """Title and start of the text of `limit` articles from another corpus (the workers' sample size)."""
    out = []
    with OTHER_NEWS.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append(f"{row.get('title') or ''} {(row.get('text') or '')[:2000]}")
            if len(out) >= limit:
                break
    return out


def _styled(rng: random.Random, w: str, r: float, *, wildcard_below: float, caps_below: float) -> str:
    """A word as an analyst may write it, by the draw `r`: a wildcard stem (long words), capitals or plain."""
    if r < wildcard_below and len(w) >= 6:
        return w[: rng.randint(4, len(w) - 1)] + "*"
    if r < caps_below:
        w = w.upper() if len(w) <= 5 else w.capitalize()
        # A word spelled like an operator (NEAR, AND) is quoted, as an analyst would.
        return f'"{w}"' if KEYWORD_RE.match(w) else w
    return w


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


MIXES = ("topical", "broad", "paired")


def generate_rules(
    n: int, words: list[str], phrases: list[str], seed: int = 7, mix: str = "broad"
) -> list[WatchSpec]:
    """A mix of monitoring rules: phrases, ORs of 5-20 terms, NOT clauses, NEAR/5, weights, wildcards.

    "broad" (the phase-1 default) includes rules that one term can fire: plain ORs of
    2-5 terms, topic ORs with only a NOT, SCORE rules whose threshold one heavy term reaches. "paired"
    gives every rule two required parts (topic AND context), so fewer rules fire per article.
    """
    rng = random.Random(seed)

    def term() -> str:
        r = rng.random()
        if r < 0.25:
            return f'"{rng.choice(phrases)}"'
        return _styled(rng, rng.choice(words), r, wildcard_below=0.30, caps_below=0.35)

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


def generate_topical(
    n: int, docs: list[MatchDocument], words: list[str], phrases: list[str], seed: int = 7
) -> list[WatchSpec]:
    """Rules an analyst would write about a story: each from the words of one seed article.

    Each rule picks a random BBC article and draws its terms from that article's topical words (document
    frequency 2 to 2% of the corpus, no stop words) and capitalised two-word phrases, plus a few words from
    the whole vocabulary (synonyms that may not occur). Shapes, in these shares: 25% an OR of 5-20 terms
    AND an OR of 2-6; 20% a phrase AND an OR of 1-4 (or an OR of 2-5 AND a term); 20% an OR of 5-20 AND an
    OR of 1-3 NOT an OR of 1-4 (the NOT terms from anywhere); 20% a word NEAR/5 an OR of 1-6 that holds a
    word found within five words of it in the seed; 15% SCORE>=4..6 over 3-8 weighted terms (weights 1-3).
    About 5% of words are wildcards (a stem of 4+ letters) and 5% are written capitalised or in capitals.
    So a rule fires on its seed article and on articles about the same story, not on everything.
    """
    rng = random.Random(seed)
    out: list[WatchSpec] = []
    vocab, phrase_set = set(words), set(phrases)
    seeds = []
    for d in docs:
        toks = TOKEN_RE.findall(f"{d.title} {d.text}")
        low = [t.lower() for t in toks]
        ws = sorted({w for w in low if w in vocab})
        ps = sorted({f"{a} {b}" for a, b in itertools.pairwise(low)} & phrase_set)
        if len(ws) >= 20:
            seeds.append((low, ws, ps))

    def styled(w: str) -> str:
        return _styled(rng, w, rng.random(), wildcard_below=0.05, caps_below=0.10)

    for i in range(n):
        low, ws, ps = rng.choice(seeds)

        def term(ws: list[str] = ws, ps: list[str] = ps) -> str:
            r = rng.random()
            if r < 0.2 and ps:
                return f'"{rng.choice(ps)}"'
            return styled(rng.choice(words) if r > 0.9 else rng.choice(ws))

        def ors(lo: int, hi: int) -> str:
            return "(" + " OR ".join(term() for _ in range(rng.randint(lo, hi))) + ")"

        kind = rng.random()
        if kind < 0.25:
            q = f"{ors(5, 20)} AND {ors(2, 6)}"
        elif kind < 0.45:
            if ps and rng.random() < 0.5:
                q = f'"{rng.choice(ps)}" AND {ors(1, 4)}'
            else:
                q = f"{ors(2, 5)} {term()}"
        elif kind < 0.65:
            nots = " OR ".join(styled(rng.choice(words)) for _ in range(rng.randint(1, 4)))
            q = f"{ors(5, 20)} AND {ors(1, 3)} NOT ({nots})"
        elif kind < 0.85:
            at = [j for j, t in enumerate(low) if t in vocab]
            j = rng.choice(at)
            near = [t for t in low[j + 1 : j + 6] if t in vocab and t != low[j]] or [rng.choice(ws)]
            right = [rng.choice(near)] + [rng.choice(ws) for _ in range(rng.randint(0, 5))]
            q = f"{styled(low[j])} NEAR/5 ({' OR '.join(styled(w) for w in right)})"
        else:
            items = ", ".join(f"{term()}^{rng.randint(1, 3)}" for _ in range(rng.randint(3, 8)))
            q = f"SCORE>={rng.randint(4, 6)}({items})"
        out.append(WatchSpec(id=i, name=f"r{i}", query=q))
    return out
