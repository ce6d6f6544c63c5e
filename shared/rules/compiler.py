"""Rule compiler: query trees → per-rule evaluation closures over a per-article context.

Each distinct term gets a *presence key*: the lower-cased word itself for single plain words (found by
a set intersection with the article's words, in C), or its Aho-Corasick key for phrases, wildcards and
CJK terms. Presence of the key is necessary for a term hit; for plain words without case rules it is
also sufficient (`exact`), so most evaluation is set membership. Exact positions (needed for NEAR,
fields, case checks and results) are found lazily, per term, only for the rules actually evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from shared.rules.ast import And, Entity, Field, Lang, Near, Node, Not, Or, Term, Weighted
from shared.rules.stats import Frequencies
from shared.rules.terms import Key, TermInfo
from shared.rules.text import WordPat, term_pattern, within_words
from shared.rules.types import EntityResolver, WatchSpec

if TYPE_CHECKING:
    from shared.rules.engine import Ctx

Hit = tuple[int, int, int]  # (field index, start, end): character offsets into that field
BoolFn = Callable[["Ctx"], bool]
SpanFn = Callable[["Ctx"], list[Hit]]
FIELD_INDEX = {"title": 0, "text": 1}
MAX_GROUPS = 4  # required key sets checked per rule in the presearch

_LABELS = {
    "person": frozenset({"PERSON", "PER"}),
    "org": frozenset({"ORG", "ORGANIZATION"}),
    "place": frozenset({"PLACE", "GPE", "LOC", "LOCATION"}),
}


class Rule:
    """A compiled watch: its evaluator, the terms that count as evidence, and weight scorers."""

    __slots__ = (
        "anchor",
        "decided",
        "fn",
        "index",
        "need",
        "positive_keys",
        "positive_rest",
        "positives",
        "required",
        "scores",
        "spec",
    )

    def __init__(self, index: int, spec: WatchSpec) -> None:
        self.index = index
        self.spec = spec
        self.fn: BoolFn = _never
        # The cheapest key set one of which must be present (the presearch index key), and further sets
        # that must each be hit too (checked with C-level set tests before any closure runs).
        self.anchor: frozenset[Key] | None = None
        self.required: tuple[frozenset[Key], ...] = ()
        self.need = 1  # distinct anchor keys that must be present (SCORE rules may need several)
        # True when passing the presearch is the match: an AND of ORs of plain words and pairs, every
        # operand among the sets the presearch checks; such rules skip their evaluator.
        self.decided = False
        self.positives: list[tuple[int, int | None, str]] = []  # (term id, field or None, display)
        self.scores: list[Callable[[Ctx], float]] = []
        # For the default score (distinct terms matched): keys whose presence is a hit, and the rest.
        self.positive_keys: frozenset[Key] = frozenset()
        self.positive_rest: tuple[tuple[int, int | None], ...] = ()


def _never(c: Ctx) -> bool:
    return False


class Compiler:
    """Builds Rules; shares one term table across all rules of an engine."""

    def __init__(self, resolver: EntityResolver | None, frequencies: Frequencies | None = None) -> None:
        self.resolver = resolver
        self.freq = frequencies
        self.by_text: dict[tuple[str, str], int] = {}
        self.by_pattern: dict[tuple[WordPat, ...], int] = {}
        self.terms: list[TermInfo] = []
        self.key_cost: dict[Key, float] = {}
        self.office_cache: dict[tuple[str, date | None], frozenset[str]] = {}
        self.rule: Rule | None = None

    def tid(self, term: Term) -> int:
        """The id of a term, adding it to the table on first sight."""
        tid = self.by_text.get((term.text, term.case))
        if tid is not None:
            return tid
        pattern = term_pattern(term.text, term.case)
        tid = self.by_pattern.get(pattern)
        if tid is None:
            tid = self.by_pattern[pattern] = len(self.terms)
            info = TermInfo(tid, term.text, pattern)
            if self.freq is not None:
                info.cost = self.freq.cost(info.pkey)
            self.terms.append(info)
            self.key_cost[info.pkey] = min(self.key_cost.get(info.pkey, info.cost), info.cost)
        self.by_text[(term.text, term.case)] = tid
        return tid

    def compile(self, index: int, spec: WatchSpec, tree: Node) -> Rule:
        """One rule from its parsed tree."""
        rule = self.rule = Rule(index, spec)
        rule.fn = self.boolean(tree, None, False)
        groups = sorted(set(self.groups(tree)), key=self.cost)
        if groups:
            rule.anchor = groups[0]
            rule.required = tuple(groups[1:MAX_GROUPS])
            if isinstance(tree, Weighted):
                rule.need = self._weighted_need(tree)
            rule.decided = len(groups) <= MAX_GROUPS and self._presence_only(tree)
        unique: dict[tuple[int, int | None], tuple[int, int | None, str]] = {}
        for p in rule.positives:
            unique.setdefault((p[0], p[1]), p)
        rule.positives = list(unique.values())
        infos = self.terms
        quick = [p for p in rule.positives if p[1] is None and infos[p[0]].exact]
        rule.positive_keys = frozenset(infos[p[0]].pkey for p in quick)
        rule.positive_rest = tuple((p[0], p[1]) for p in rule.positives if p not in quick)
        self.rule = None
        return rule

    # -- presearch anchors --------------------------------------------------------------------------
    def anchor(self, node: Node) -> frozenset[Key] | None:
        """Presence keys at least one of which must occur for the node to match; None when none must."""
        if isinstance(node, Term):
            return frozenset((self.terms[self.tid(node)].pkey,))
        if isinstance(node, Field):
            return self.anchor(node.child)
        if isinstance(node, Or):
            out: set[Key] = set()
            for c in node.children:
                a = self.anchor(c)
                if a is None:
                    return None
                out |= a
            return frozenset(out)
        if isinstance(node, And | Near):
            groups = self.groups(node)
            return min(groups, key=self.cost) if groups else None
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

    def groups(self, node: Node) -> list[frozenset[Key]]:
        """Key sets that must *all* be hit (AND and NEAR operands); empty when nothing is required."""
        if isinstance(node, Field):
            return self.groups(node.child)
        if isinstance(node, And):
            return [g for c in node.children for g in self.groups(c)]
        if isinstance(node, Near):
            return self.groups(node.left) + self.groups(node.right)
        one = self.anchor(node)
        return [one] if one is not None else []

    def _presence_only(self, node: Node) -> bool:
        """True for an AND/OR tree of terms whose presence key alone is a hit (no field, case, NOT)."""
        if isinstance(node, Or):
            return all(self._exact_key(c, None) is not None for c in node.children)
        if isinstance(node, And):
            return all(self._presence_only(c) for c in node.children)
        return self._exact_key(node, None) is not None

    def _weighted_need(self, node: Weighted) -> int:
        """How many distinct item keys a SCORE rule needs present: its threshold over its top weights.

        Valid only when every item is one plain term (one key); otherwise one key is all we can ask.
        """
        by_key: dict[Key, float] = {}
        for item, weight in node.items:
            if not isinstance(item, Term):
                return 1
            if weight > 0:
                key = self.terms[self.tid(item)].pkey
                by_key[key] = by_key.get(key, 0.0) + weight
        total = 0.0
        for need, w in enumerate(sorted(by_key.values(), reverse=True), 1):
            total += w
            if total >= node.threshold:
                return need
        return 1  # unreachable threshold: the evaluator says no; keep the rule a plain candidate

    def cost(self, keys: frozenset[Key]) -> float:
        """Estimated frequency of a key set: the presearcher indexes each rule under its cheapest set."""
        return sum(self.key_cost[k] for k in keys)

    # -- evaluators ---------------------------------------------------------------------------------
    def _positive(self, tid: int, field: int | None, text: str, negated: bool) -> None:
        if not negated and self.rule is not None:
            self.rule.positives.append((tid, field, text))

    def boolean(self, node: Node, field: int | None, negated: bool) -> BoolFn:
        """A closure telling whether the node matches the article in the context."""
        if isinstance(node, Term):
            tid = self.tid(node)
            info = self.terms[tid]
            self._positive(tid, field, node.text, negated)
            key = info.pkey
            if field is None:
                if info.exact:
                    return lambda c: key in c.present
                return lambda c: key in c.present and bool(c.hits(tid))
            return lambda c: key in c.present and any(h[0] == field for h in c.hits(tid))
        if isinstance(node, Field):
            return self.boolean(node.child, FIELD_INDEX[node.field], negated)
        if isinstance(node, And):
            ordered = sorted(node.children, key=self._eval_cost)
            fns = tuple(self.boolean(ch, field, negated) for ch in ordered)
            if len(fns) == 2:
                a, b = fns
                return lambda c: a(c) and b(c)

            def all_of(c: Ctx) -> bool:
                for f in fns:  # noqa: SIM110 - a plain loop beats all() over a generator here
                    if not f(c):
                        return False
                return True

            return all_of
        if isinstance(node, Or):
            return self._or(node, field, negated)
        if isinstance(node, Not):
            inner = self.boolean(node.child, field, not negated)
            return lambda c: not inner(c)
        if isinstance(node, Near):
            spans = self.spans(node, field, negated)
            return lambda c: bool(spans(c))
        if isinstance(node, Lang):
            code = node.code
            return lambda c: lang_ok(c.doc.language, code)
        if isinstance(node, Entity):
            return self.entity(node)
        if isinstance(node, Weighted):
            return self._weighted(node, field, negated)
        raise TypeError(f"not a query node: {node!r}")

    def _exact_key(self, node: Node, field: int | None) -> str | None:
        if field is None and isinstance(node, Term):
            info = self.terms[self.tid(node)]
            return info.pkey if info.exact else None
        return None

    def _eval_cost(self, node: Node) -> tuple[int, float]:
        # Cheap set tests first, rarest first, so AND fails fast; NEAR and NOT last.
        if isinstance(node, Term | Or | Field):
            anchor = self.anchor(node)
            return (0, self.cost(anchor)) if anchor is not None else (1, 0.0)
        if isinstance(node, And):
            return (0, min((self._eval_cost(c)[1] for c in node.children), default=0.0))
        if isinstance(node, Lang | Entity):
            return (1, 0.0)
        return (2, 0.0)

    def _or(self, node: Or, field: int | None, negated: bool) -> BoolFn:
        keys: set[Key] = set()
        rest: list[BoolFn] = []
        for ch in node.children:
            key = self._exact_key(ch, field)
            if key is not None:
                keys.add(key)
                self.boolean(ch, field, negated)  # records the positive term
            else:
                rest.append(self.boolean(ch, field, negated))
        frozen, others = frozenset(keys), tuple(rest)
        if not others:
            return lambda c: not frozen.isdisjoint(c.present)

        def any_of(c: Ctx) -> bool:
            if not frozen.isdisjoint(c.present):
                return True
            for f in others:  # noqa: SIM110
                if f(c):
                    return True
            return False

        return any_of

    def _weighted(self, node: Weighted, field: int | None, negated: bool) -> BoolFn:
        threshold = node.threshold
        weights: dict[str, float] = {}
        rest: list[tuple[BoolFn, float]] = []
        for item, w in node.items:
            key = self._exact_key(item, field)
            fn = self.boolean(item, field, negated)
            if key is not None:
                weights[key] = weights.get(key, 0.0) + w
            else:
                rest.append((fn, w))
        wkeys = frozenset(weights)
        others = tuple(rest)

        def total(c: Ctx) -> float:
            s = sum(weights[k] for k in wkeys.intersection(c.present)) if wkeys else 0.0
            for f, w in others:
                if f(c):
                    s += w
            return s

        if not negated and self.rule is not None:
            self.rule.scores.append(total)
        return lambda c: total(c) >= threshold

    def spans(self, node: Node, field: int | None, negated: bool) -> SpanFn:
        """A closure giving the node's hits (NEAR operands)."""
        if isinstance(node, Term):
            tid = self.tid(node)
            self._positive(tid, field, node.text, negated)
            if field is None:
                return lambda c: c.hits(tid)
            return lambda c: [h for h in c.hits(tid) if h[0] == field]
        if isinstance(node, Field):
            return self.spans(node.child, FIELD_INDEX[node.field], negated)
        if isinstance(node, Or):
            fns = tuple(self.spans(ch, field, negated) for ch in node.children)
            return lambda c: [h for f in fns for h in f(c)]
        if isinstance(node, Near):
            left = self.spans(node.left, field, negated)
            right = self.spans(node.right, field, negated)
            n, ordered = node.distance, node.ordered

            def near(c: Ctx) -> list[Hit]:
                a = left(c)
                return _near(a, right(c), n, ordered, c.norms) if a else []

            return near
        raise TypeError(f"not a span node: {node!r}")

    def entity(self, node: Entity) -> BoolFn:
        """An entity constraint over the article's linked entities."""
        value, kind, resolver = node.value, node.kind, self.resolver
        if kind == "office":
            if resolver is None:
                return _never
            cache = self.office_cache

            def holds_office(c: Ctx) -> bool:
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

        def has_entity(c: Ctx) -> bool:
            for e in c.doc.entities:
                if labels is not None and e.label.upper() not in labels:
                    continue
                if value == "*" or (e.entity_id is not None and e.entity_id in ids):
                    return True
                if e.text.casefold() == folded or (e.canonical or "").casefold() == folded:
                    return True
            return False

        return has_entity


def lang_ok(language: str | None, code: str) -> bool:
    """True when the article language is `code` or a regional form of it (en-GB for en)."""
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
