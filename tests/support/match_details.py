"""The reference of a match's details: the plain Python way the engine built them before the C path.

Evidence comes from `Core.rule_hits` (each positive's hits as character offsets, and the score); the
term hits, their order, the display of a span named by several positives and the snippet are built here
in Python, with shared/rules/snippet.py `highlight`. Tests compare `MatchResult.terms/snippet/score`
(built in C by `Core.details`) with it.
"""

from __future__ import annotations

from shared.rules import Engine, MatchDocument, TermHit
from shared.rules.engine import FIELDS
from shared.rules.snippet import highlight

Details = tuple[list[tuple[str, str, int, int, str]], str, float]


def reference_details(engine: Engine, doc: MatchDocument, rules: list[int]) -> dict[int, Details]:
    """{rule: (terms as (term, field, start, end, text), snippet, score)} the Python way."""
    fields, texts, maps = engine._prepare(doc)
    got = engine._rule_hits(fields, rules, doc)
    out: dict[int, Details] = {}
    for rule in rules:
        positives = engine.program.positives[rule]
        found: dict[tuple[int, int, int], str] = {}
        hits, score = got[rule]
        for k, f, s, e in hits:
            fmap = maps[f]
            if fmap is not None:
                s, e = fmap.span(s, e)
            found.setdefault((f, s, e), positives[k][2])
        ordered = sorted(found.items())
        terms = [(display, FIELDS[f], s, e, texts[f][s:e]) for (f, s, e), display in ordered]
        f = 1 if any(h[0] == 1 for h, _d in ordered) else 0
        snippet = highlight(texts[f], [(s, e) for (ff, s, e), _d in ordered if ff == f])
        out[rule] = (terms, snippet, score)
    return out


def as_tuples(hits: list[TermHit]) -> list[tuple[str, str, int, int, str]]:
    return [(h.term, h.field, h.start, h.end, h.text) for h in hits]


def assert_details_match_reference(engine: Engine, doc: MatchDocument) -> int:
    """Every match's terms, snippet and score equal the reference; returns the number of matches."""
    found = engine.match(doc)
    index = {wid: i for i, wid in enumerate(engine._ids)}
    rules = [index[m.watch_id] for m in found]
    expected = reference_details(engine, doc, rules)
    for m, rule in zip(found, rules, strict=True):
        got = (as_tuples(m.terms), m.snippet, m.score)
        assert got == expected[rule], (m.watch_name, doc.title[:60], got, expected[rule])
        keys = ("term", "field", "start", "end", "text")
        assert m.term_dicts() == [dict(zip(keys, t, strict=True)) for t in expected[rule][0]]
    return len(found)
