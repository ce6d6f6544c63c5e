"""Compiler and matcher: many watch rules against one article, cheaply.

How it works (the Lucene Monitor idea):
1. Every term of every rule goes into one Aho-Corasick automaton, keyed on lower-cased words framed by
   spaces; an article's fields are tokenised and joined the same way, so one scan finds every term
   occurrence at word boundaries (case and multi-word wildcard checks happen on the tokens after).
2. Each rule is indexed under an *anchor*: a set of terms at least one of which must occur for the rule
   to match (OR: all children's terms; AND: the cheapest child's). Rules with no such set (NOT-only,
   lang:/entity-only, SCORE with a threshold ≤ 0) are evaluated for every article, so they are never lost.
3. Only candidate rules are evaluated exactly, on token positions (phrases, NEAR/ONEAR, fields, weights).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

import ahocorasick

from shared.rules.ast import And, Entity, Field, Lang, Near, Node, Not, Or, Term, Weighted
from shared.rules.errors import RuleSyntaxError
from shared.rules.parser import parse
from shared.rules.snippet import highlight
from shared.rules.text import (
    CompiledTerm,
    WordPat,
    blank_cjk,
    compile_term,
    normalize,
    term_pattern,
    within_words,
)
from shared.rules.types import EntityResolver, MatchDocument, MatchResult, TermHit, WatchSpec

FIELDS = ("title", "text")
_FIELD_INDEX = {"title": 0, "text": 1}
_LABELS = {
    "person": frozenset({"PERSON", "PER"}),
    "org": frozenset({"ORG", "ORGANIZATION"}),
    "place": frozenset({"PLACE", "GPE", "LOC", "LOCATION"}),
}

MAX_GROUPS = 4
Hit = tuple[int, int, int]  # (field index, start, end): character offsets into that field
BoolFn = Callable[["_Ctx"], bool]
SpanFn = Callable[["_Ctx"], list[Hit]]


class _Ctx:
    """Per-article state shared by the evaluators of all candidate rules."""

    __slots__ = ("date", "doc", "hits", "norms")

    def __init__(self, doc: MatchDocument, hits: dict[int, list[Hit]], norms: list[str]) -> None:
        self.doc = doc
        self.hits = hits
        self.norms = norms
        pub = doc.published
        self.date: date | None = pub.date() if isinstance(pub, datetime) else pub


class _Rule:
    __slots__ = ("fn", "index", "positives", "scores", "spec")

    def __init__(self, index: int, spec: WatchSpec) -> None:
        self.index = index
        self.spec = spec
        self.fn: BoolFn = lambda c: False
        self.positives: list[tuple[int, int | None, str]] = []
        self.scores: list[Callable[[_Ctx], float]] = []


class _Compiler:
    def __init__(self, resolver: EntityResolver | None) -> None:
        self.resolver = resolver
        self.terms: dict[tuple[WordPat, ...], int] = {}
        self.patterns: list[tuple[WordPat, ...]] = []
        self.compiled: list[CompiledTerm] = []
        self.costs: list[float] = []
        self.office_cache: dict[tuple[str, date | None], frozenset[str]] = {}
        self.rule: _Rule | None = None

    def tid(self, term: Term) -> int:
        pattern = term_pattern(term.text, term.case)
        tid = self.terms.get(pattern)
        if tid is None:
            tid = self.terms[pattern] = len(self.patterns)
            self.patterns.append(pattern)
            self.compiled.append(compile_term(term.text, pattern))
            # Longer words and phrases are rarer; prefixes match more. A guess, good enough for anchors.
            chars = sum(len(w.norm) for w in pattern)
            prefix = sum(3.0 for w in pattern if w.prefix)
            self.costs.append((1.0 + prefix) / (chars + 4.0 * (len(pattern) - 1)))
        return tid

    # -- anchors ------------------------------------------------------------------------------------
    def anchor(self, node: Node) -> frozenset[int] | None:
        """Terms at least one of which must occur for the node to match; None when there is no such set."""
        if isinstance(node, Term):
            return frozenset((self.tid(node),))
        if isinstance(node, Field):
            return self.anchor(node.child)
        if isinstance(node, Or):
            out: set[int] = set()
            for c in node.children:
                a = self.anchor(c)
                if a is None:
                    return None
                out |= a
            return frozenset(out)
        if isinstance(node, And):
            options = [a for a in (self.anchor(c) for c in node.children) if a is not None]
            return min(options, key=self.cost) if options else None
        if isinstance(node, Near):
            options = [a for a in (self.anchor(node.left), self.anchor(node.right)) if a is not None]
            return min(options, key=self.cost) if options else None
        if isinstance(node, Weighted):
            if node.threshold <= 0:
                return None
            out = set()
            for item, weight in node.items:
                if weight <= 0:
                    continue
                a = self.anchor(item)
                if a is None:
                    return None
                out |= a
            return frozenset(out)
        return None  # Not, Lang, Entity

    def groups(self, node: Node) -> list[frozenset[int]]:
        """Anchor sets that must *all* be hit (AND and NEAR children); empty when nothing is required."""
        if isinstance(node, Field):
            return self.groups(node.child)
        if isinstance(node, And):
            return [g for c in node.children for g in self.groups(c)]
        if isinstance(node, Near):
            return self.groups(node.left) + self.groups(node.right)
        one = self.anchor(node)
        return [one] if one is not None else []

    def cost(self, tids: frozenset[int]) -> float:
        return sum(self.costs[t] for t in tids)

    # -- evaluators ---------------------------------------------------------------------------------
    def boolean(self, node: Node, field: int | None, negated: bool) -> BoolFn:
        assert self.rule is not None
        if isinstance(node, Term):
            tid = self.tid(node)
            if not negated:
                self.rule.positives.append((tid, field, node.text))
            if field is None:
                return lambda c: tid in c.hits
            return lambda c: any(h[0] == field for h in c.hits.get(tid, ()))
        if isinstance(node, Field):
            return self.boolean(node.child, _FIELD_INDEX[node.field], negated)
        if isinstance(node, And):
            fns = tuple(self.boolean(ch, field, negated) for ch in node.children)
            if len(fns) == 2:
                a, b = fns
                return lambda c: a(c) and b(c)

            def all_of(c: _Ctx) -> bool:
                # A plain loop: measurably faster than all() over a generator on the hot path.
                for f in fns:  # noqa: SIM110
                    if not f(c):
                        return False
                return True

            return all_of
        if isinstance(node, Or):
            # OR of plain terms (the common case) is a set intersection test.
            if field is None and all(isinstance(ch, Term) for ch in node.children):
                for ch in node.children:
                    self.boolean(ch, field, negated)  # records the positive terms
                tids = frozenset(self.tid(ch) for ch in node.children if isinstance(ch, Term))
                return lambda c: not tids.isdisjoint(c.hits)
            fns = tuple(self.boolean(ch, field, negated) for ch in node.children)

            def any_of(c: _Ctx) -> bool:
                for f in fns:  # noqa: SIM110
                    if f(c):
                        return True
                return False

            return any_of
        if isinstance(node, Not):
            inner = self.boolean(node.child, field, not negated)
            return lambda c: not inner(c)
        if isinstance(node, Near):
            spans = self.spans(node, field, negated)
            return lambda c: bool(spans(c))
        if isinstance(node, Lang):
            code = node.code
            return lambda c: _lang_ok(c.doc.language, code)
        if isinstance(node, Entity):
            return self.entity(node)
        if isinstance(node, Weighted):
            items = tuple((self.boolean(i, field, negated), w) for i, w in node.items)
            threshold = node.threshold

            def total(c: _Ctx) -> float:
                return sum(w for f, w in items if f(c))

            if not negated:
                self.rule.scores.append(total)
            return lambda c: total(c) >= threshold
        raise TypeError(f"not a query node: {node!r}")

    def spans(self, node: Node, field: int | None, negated: bool) -> SpanFn:
        assert self.rule is not None
        if isinstance(node, Term):
            tid = self.tid(node)
            if not negated:
                self.rule.positives.append((tid, field, node.text))
            if field is None:
                return lambda c: c.hits.get(tid, [])
            return lambda c: [h for h in c.hits.get(tid, ()) if h[0] == field]
        if isinstance(node, Field):
            return self.spans(node.child, _FIELD_INDEX[node.field], negated)
        if isinstance(node, Or):
            fns = tuple(self.spans(ch, field, negated) for ch in node.children)
            return lambda c: [h for f in fns for h in f(c)]
        if isinstance(node, Near):
            left = self.spans(node.left, field, negated)
            right = self.spans(node.right, field, negated)
            n, ordered = node.distance, node.ordered
            return lambda c: _near(left(c), right(c), n, ordered, c.norms)
        raise TypeError(f"not a span node: {node!r}")

    def entity(self, node: Entity) -> BoolFn:
        value, kind, resolver = node.value, node.kind, self.resolver
        if kind == "office":
            if resolver is None:
                return lambda c: False
            cache = self.office_cache

            def holds_office(c: _Ctx) -> bool:
                key = (value, c.date)
                ids = cache.get(key)
                if ids is None:
                    ids = cache[key] = frozenset(resolver.office_holders(value, c.date))
                return any(e.entity_id in ids for e in c.doc.entities if e.entity_id)

            return holds_office
        ids = (
            frozenset(resolver.ids_for_name(value)) if resolver is not None and value != "*" else frozenset()
        )
        labels = _LABELS.get(kind)
        folded = value.casefold()

        def has_entity(c: _Ctx) -> bool:
            for e in c.doc.entities:
                if labels is not None and e.label.upper() not in labels:
                    continue
                if value == "*" or (e.entity_id is not None and e.entity_id in ids):
                    return True
                if e.text.casefold() == folded or (e.canonical or "").casefold() == folded:
                    return True
            return False

        return has_entity


def _lang_ok(language: str | None, code: str) -> bool:
    if not language:
        return False
    lang = language.lower().replace("_", "-")
    return lang == code or lang.startswith(code + "-")


def _near(left: list[Hit], right: list[Hit], n: int, ordered: bool, norms: list[str]) -> list[Hit]:
    out: list[Hit] = []
    for f1, s1, e1 in left:
        for f2, s2, e2 in right:
            if f1 != f2:
                continue
            norm = norms[f1]
            if (s2 >= e1 and within_words(norm, e1, s2, n)) or (
                not ordered and s1 >= e2 and within_words(norm, e2, s1, n)
            ):
                out.append((f1, min(s1, s2), max(e1, e2)))
    return out


class Engine:
    """A compiled rule set; `match` is safe to call from one thread at a time per engine."""

    def __init__(self, rules: list[_Rule], compiler: _Compiler, version: int | None = None) -> None:
        self.version = version
        self._rules = rules
        self._patterns = compiler.patterns
        self._always: list[int] = []
        # Presearch: each rule has up to MAX_GROUPS term sets that must all be hit; the cheapest is its
        # primary. A rule is a candidate when its primary set is hit and every other set is hit too.
        self._tid_groups: dict[int, list[int]] = {}
        self._primary: dict[int, int] = {}  # group id → rule index, for primary groups
        self._rule_groups: list[frozenset[int]] = []
        self._automaton = ahocorasick.Automaton()
        keys: dict[str, list[tuple[int, int, CompiledTerm | None, bool]]] = {}
        leads: dict[str, int] = {}
        for tid, cterm in enumerate(compiler.compiled):
            keys.setdefault(cterm.key, []).append(
                (tid, cterm.body, None if cterm.simple else cterm, cterm.has_cjk)
            )
            leads[cterm.key] = cterm.lead
        for key, entries in keys.items():
            # The value gives the distance from the key's last character back to the term's first.
            self._automaton.add_word(key, (len(key) - 1 - leads[key], tuple(entries)))
        if keys:
            self._automaton.make_automaton()
        self._has_keys = bool(keys)

    @property
    def watch_count(self) -> int:
        """Number of compiled watches."""
        return len(self._rules)

    @property
    def term_count(self) -> int:
        """Number of distinct term patterns in the automaton."""
        return len(self._patterns)

    def _scan(self, field: int, text: str, hits: dict[int, list[Hit]]) -> str:
        norm = normalize(text) if text else ""
        if not norm or not self._has_keys:
            return norm
        # Framed by spaces so words at the very start and end match; offsets shift by one.
        self._scan_norm(field, text, f" {norm} ", hits, None)
        if not norm.isascii() and (blank := blank_cjk(norm)) != norm:
            # Latin words touching CJK characters ("SCO峰会"): scan again with CJK blanked out.
            seen = {(t, h[1]) for t, hs in hits.items() for h in hs}
            self._scan_norm(field, text, f" {blank} ", hits, seen)
        return norm

    def _scan_norm(
        self, field: int, text: str, norm: str, hits: dict[int, list[Hit]], seen: set[tuple[int, int]] | None
    ) -> None:
        for end, (back, entries) in self._automaton.iter(norm):
            start = end - back - 1  # in `text` coordinates; the framed `norm` is one ahead
            for tid, body, cterm, has_cjk in entries:
                stop = start + body
                if cterm is not None:
                    if not all(text.startswith(lit, start + off) for off, lit in cterm.checks):
                        continue
                    if cterm.tail is not None:
                        m = cterm.tail.match(norm, stop + 1)
                        if m is None or not all(
                            text.startswith(lit, m.start(g) - 1)
                            and (prefix or m.end(g) - m.start(g) == len(lit))
                            for g, lit, prefix in cterm.tail_checks
                        ):
                            continue
                        stop = m.end() - 1
                if seen is not None and (has_cjk or (tid, start) in seen):
                    continue
                got = hits.get(tid)
                if got is None:
                    hits[tid] = [(field, start, stop)]
                else:
                    got.append((field, start, stop))

    def candidates(self, hits: dict[int, list[Hit]]) -> list[int]:
        """Indices of the rules worth evaluating given the terms found."""
        hit_groups: set[int] = set()
        tid_groups = self._tid_groups
        for tid in hits:
            got = tid_groups.get(tid)
            if got:
                hit_groups.update(got)
        cand = list(self._always)
        primary, rule_groups = self._primary, self._rule_groups
        for g in hit_groups:
            rule = primary.get(g)
            if rule is not None and hit_groups.issuperset(rule_groups[rule]):
                cand.append(rule)
        cand.sort()
        return cand

    def match(self, doc: MatchDocument) -> list[MatchResult]:
        """Every watch that matches the document, in rule order."""
        hits: dict[int, list[Hit]] = {}
        norms = [self._scan(0, doc.title, hits), self._scan(1, doc.text, hits)]
        ctx = _Ctx(doc, hits, norms)
        out: list[MatchResult] = []
        for index in self.candidates(hits):
            rule = self._rules[index]
            if rule.fn(ctx):
                out.append(self._result(rule, ctx))
        return out

    def _result(self, rule: _Rule, ctx: _Ctx) -> MatchResult:
        seen: set[tuple[int, int, int]] = set()
        found: list[tuple[int, int, int, str]] = []
        for tid, field, display in rule.positives:
            for f, s, e in ctx.hits.get(tid, ()):
                if (field is None or f == field) and (f, s, e) not in seen:
                    seen.add((f, s, e))
                    found.append((f, s, e, display))
        found.sort()
        terms: list[TermHit] = []
        for f, start, end, display in found:
            source = ctx.doc.title if f == 0 else ctx.doc.text
            terms.append(TermHit(term=display, field=FIELDS[f], start=start, end=end, text=source[start:end]))
        if rule.scores:
            score = float(sum(fn(ctx) for fn in rule.scores))
        else:
            score = float(len({t.term for t in terms})) or 1.0
        field = "text" if any(t.field == "text" for t in terms) else "title"
        source = ctx.doc.text if field == "text" else ctx.doc.title
        spans = [(t.start, t.end) for t in terms if t.field == field]
        snippet = highlight(source, spans)
        return MatchResult(rule.spec.id, rule.spec.name, score, terms, snippet)


def compile_watches(
    watches: Iterable[WatchSpec], *, resolver: EntityResolver | None = None, version: int | None = None
) -> Engine:
    """Compile watches into one Engine; a bad query raises RuleSyntaxError naming the watch."""
    compiler = _Compiler(resolver)
    rules: list[_Rule] = []
    groups: list[list[frozenset[int]]] = []
    for spec in watches:
        try:
            tree = parse(spec.query)
        except RuleSyntaxError as e:
            raise e.for_watch(spec.name) from None
        rule = _Rule(len(rules), spec)
        compiler.rule = rule
        rule.fn = compiler.boolean(tree, None, False)
        rules.append(rule)
        groups.append(sorted(set(compiler.groups(tree)), key=compiler.cost)[:MAX_GROUPS])
    engine = Engine(rules, compiler, version)
    next_group = 0
    for index, rule_sets in enumerate(groups):
        if not rule_sets:
            engine._always.append(index)
            engine._rule_groups.append(frozenset())
            continue
        ids = range(next_group, next_group + len(rule_sets))
        next_group += len(rule_sets)
        engine._primary[ids[0]] = index
        engine._rule_groups.append(frozenset(ids))
        for gid, tids in zip(ids, rule_sets, strict=True):
            for tid in tids:
                engine._tid_groups.setdefault(tid, []).append(gid)
    return engine


__all__ = ["FIELDS", "Engine", "compile_watches"]
