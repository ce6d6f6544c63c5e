"""The benchmark's topical rule mix: every shape the issue lists, all parseable, firing on their topic."""

from __future__ import annotations

import random

from bench._matching_rules import generate_rules, generate_topical, vocabulary
from shared.rules import MatchDocument, compile_watches

STEMS = (
    ("alder", "birch", "cedar", "dogwood", "elmwood", "firwood"),
    ("falcon", "gannet", "heron", "ibisbill", "jackdaw", "kiwibird"),
    ("kestrel", "linnet", "merlin", "nuthatch", "osprey", "plover"),
)
# Thirty words per topic, so every synthetic article has enough topical words to seed a rule.
TOPICS = [[s + suffix for s in stems for suffix in ("ing", "ers", "ish", "ness", "less")] for stems in STEMS]


def _docs() -> list[MatchDocument]:
    rng = random.Random(3)
    docs = []
    for i in range(60):
        words = TOPICS[i % len(TOPICS)]
        body = " ".join(rng.choice(words) for _ in range(60))
        title = f"{words[0].capitalize()} {words[1].capitalize()} report"
        docs.append(MatchDocument(title=title, text=f"{title}. {body}", language="en"))
    return docs


def test_topical_mix_has_every_shape_and_fires_on_a_fraction() -> None:
    docs = _docs()
    words, phrases = vocabulary(docs, cap_share=0.5)
    specs = generate_topical(300, docs, words, phrases)
    queries = [s.query for s in specs]
    for shape in (" OR ", " AND ", " NOT ", " NEAR/5 ", "SCORE>=", '"', "*"):
        assert any(shape in q for q in queries), shape
    engine = compile_watches(specs)
    fired = {m.watch_id for d in docs for m in engine.match(d)}
    # Rules come from one seed article's words: most fire somewhere, none on everything by design.
    assert len(fired) > len(specs) // 2
    assert generate_topical(300, docs, words, phrases) == specs  # seeded


def test_older_mixes_still_generate() -> None:
    docs = _docs()
    words, phrases = vocabulary(docs, cap_share=0.5)
    for mix in ("broad", "paired"):
        compile_watches(generate_rules(50, words, phrases, mix=mix))
