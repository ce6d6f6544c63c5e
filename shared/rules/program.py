"""Rule compiler: query trees → the flat program the C matcher runs (shared/rules/_core.pyx).

Vocabulary: every word of every term, lower-cased (the document's normalisation), is a *key*; so is
every wildcard stem ("sanction" of `sanction*`), and every pair of adjacent plain words of a phrase
("united nations": the tokenizer finds pairs of vocabulary words side by side). A term is a sequence of
word patterns (key, prefix or not, exact capitals or not); Chinese, Japanese and Korean characters are
one word each, so CJK terms are phrases of characters. Each term is anchored on its rarest key (word,
stem or pair). Presence of all of a term's keys is necessary for a hit; for an *exact* term (one plain
word, or two plain words anchored on their pair, no case rule) it is sufficient (`t_simple`), so most
evaluation is a bit test.

Presearch (Lucene Monitor's presearcher, with every required group checked): a rule needs every one of
its *groups*, the key sets one of which must occur (a term: its rarest word; OR: all children's keys;
AND/NEAR: each operand's groups; SCORE: the keys of its positive items). The keys of its cheapest group
post the rule; the first posting of an article checks its other groups on the article's key bitmap, so
only rules with a key of every group present are evaluated. A SCORE rule counts distinct keys up to its
need instead.
Rules with no group (NOT-only, lang:/entity-only, SCORE with threshold <= 0) are evaluated on every
article: never lost. Costs (document frequencies when given, else Lucene Monitor's default: longer
words are rarer) order the groups and lay the rules out in memory by their cheapest group.

Nodes are arrays (op, a, b, c, d, w): TERM(term, field, the term's anchor key), AND/OR(kids offset,
count), NOT(child), NEAR(left, right, distance, ordered), WEIGHTED(items offset, count; threshold in w,
weights in kid_w), LANG(code index), ENTITY(callable index), and for plain words (one word, no case rule,
either field)
KEY(key), ANYKEY/ALLKEY(keys offset, count): stamp checks over contiguous keys, no term lookup.
Children of a node are contiguous in `kids`.

The walks here recurse over the tree: `add_rule` and `has_anchor` refuse a tree deeper than any parsed
query can be (ast.check_depth), so the recursion is bounded; the C side checks the emitted program again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.folding import fold
from shared.rules._core import MAX_COUNTED
from shared.rules.ast import And, Entity, Field, Lang, Near, Node, Not, Or, Term, Weighted, check_depth
from shared.rules.stats import STEM, Frequencies
from shared.rules.text import COMMON_WORDS, WordPat, term_pattern
from shared.rules.types import EntityResolver, MatchDocument

FIELD_INDEX = {"title": 0, "text": 1}
PAIR_BASE = -(1 << 31)  # build-time keys: words >= 0, stems -1 - id, pairs PAIR_BASE - id
MAX_NEED = MAX_COUNTED  # distinct keys a SCORE rule can be asked for (a lower need is still necessary)
(
    OP_TERM,
    OP_AND,
    OP_OR,
    OP_NOT,
    OP_NEAR,
    OP_WEIGHTED,
    OP_LANG,
    OP_ENTITY,
    OP_FALSE,
    OP_KEY,
    OP_ANYKEY,
    OP_ALLKEY,
    OP_TRUE,
) = range(13)

_LABELS = {
    "person": frozenset({"PERSON", "PER"}),
    "org": frozenset({"ORG", "ORGANIZATION"}),
    "place": frozenset({"PLACE", "GPE", "LOC", "LOCATION"}),
}

EntityFn = Callable[[MatchDocument], bool]


@dataclass
class Program:
    """Everything `_core.Core` needs, as plain lists; plus what the Python side uses for results."""

    words: list[str] = field(default_factory=list)
    stems: list[str] = field(default_factory=list)
    cased: list[str] = field(default_factory=list)
    t_off: list[int] = field(default_factory=lambda: [0])
    t_anchor: list[int] = field(default_factory=list)
    t_akey: list[int] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)
    t_simple: list[int] = field(default_factory=list)
    tw_key: list[int] = field(default_factory=list)
    tw_prefix: list[int] = field(default_factory=list)
    tw_cased: list[int] = field(default_factory=list)
    op: list[int] = field(default_factory=list)
    na: list[int] = field(default_factory=list)
    nb: list[int] = field(default_factory=list)
    nc: list[int] = field(default_factory=list)
    nd: list[int] = field(default_factory=list)
    nw: list[float] = field(default_factory=list)
    kids: list[int] = field(default_factory=list)
    kid_w: list[float] = field(default_factory=list)
    root: list[int] = field(default_factory=list)
    r_node0: list[int] = field(default_factory=list)
    r_kid0: list[int] = field(default_factory=list)
    kr_off: list[int] = field(default_factory=list)
    kr: list[int] = field(default_factory=list)
    rg: list[int] = field(default_factory=list)
    gk: list[int] = field(default_factory=list)
    always: list[int] = field(default_factory=list)
    need: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    pos_off: list[int] = field(default_factory=lambda: [0])
    pos_term: list[int] = field(default_factory=list)
    pos_field: list[int] = field(default_factory=list)
    pos_key: list[int] = field(default_factory=list)
    sc_off: list[int] = field(default_factory=lambda: [0])
    sc_node: list[int] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    entities: list[EntityFn] = field(default_factory=list)
    # Python side: per term its words (for display keys), per rule its positives with display text.
    term_patterns: list[tuple[WordPat, ...]] = field(default_factory=list)
    positives: list[list[tuple[int, int, str]]] = field(default_factory=list)


def key_cost(norm: str, prefix: bool, freq: Frequencies | None) -> float:
    """Estimated share of articles holding a word (or a word starting with a stem)."""
    if freq is not None:
        return freq.cost(STEM + norm) if prefix else freq.word(norm)
    # Lucene Monitor's default weighting: longer words are rarer; prefixes and stop words match more.
    common = 20.0 if norm in COMMON_WORDS else 1.0
    return common * (4.0 if prefix else 1.0) / (len(norm) + 4.0)


class Builder:
    """Compiles rules one by one into a shared Program (terms and keys are shared across rules)."""

    def __init__(
        self, resolver: EntityResolver | None = None, frequencies: Frequencies | None = None
    ) -> None:
        self.resolver = resolver
        self.freq = frequencies
        self.p = Program()
        self._words: dict[str, int] = {}
        self._stems: dict[str, int] = {}
        self._pairs: dict[tuple[int, int], int] = {}  # adjacent plain words (word ids) → pair id
        self._cased: dict[str, int] = {}
        self._by_text: dict[tuple[str, str], int] = {}
        self._by_pattern: dict[tuple[WordPat, ...], int] = {}
        self._term_key: list[int] = []  # the anchor key of each term (stems as -1 - stem id)
        self._cost: dict[int, float] = {}
        self._langs: dict[str, int] = {}
        self._office_cache: dict[tuple[str, date | None], frozenset[str]] = {}
        self._clauses: list[list[frozenset[int]]] = []  # per rule: key sets that must each be hit
        self._trees: list[Node] = []
        self._counted: set[frozenset[int]] = set()
        self._positives: list[tuple[int, int, str]] | None = None
        self._scores: list[int] | None = None

    # -- terms ------------------------------------------------------------------------------------------
    def tid(self, term: Term) -> int:
        """The id of a term, adding it on first sight (terms with the same words share one id)."""
        tid = self._by_text.get((term.text, term.case))
        if tid is not None:
            return tid
        pattern = term_pattern(term.text, term.case)
        tid = self._by_pattern.get(pattern)
        if tid is None:
            tid = self._by_pattern[pattern] = len(self._term_key)
            p = self.p
            keys = []
            for w in pattern:
                if w.prefix:
                    key = -1 - self._stems.setdefault(w.norm, len(self._stems))
                else:
                    key = self._words.setdefault(w.norm, len(self._words))
                self._cost.setdefault(key, key_cost(w.norm, w.prefix, self.freq))
                keys.append(key)
                p.tw_key.append(key)
                p.tw_prefix.append(int(w.prefix))
                p.tw_cased.append(
                    -1 if w.cased is None else self._cased.setdefault(w.cased, len(self._cased))
                )
            # The anchor: the rarest plain word, stem, or pair of adjacent plain words (a pair is far rarer
            # than either word: "the next" is not "next").
            options = [(self._cost[k], j, k) for j, k in enumerate(keys)]
            for j in range(len(keys) - 1):
                a, b = pattern[j], pattern[j + 1]
                if not a.prefix and not b.prefix:
                    pair = self._pair(keys[j], keys[j + 1], a.norm, b.norm)
                    options.append((self._cost[pair], j, pair))
            _cost, anchor, akey = min(options)
            p.t_anchor.append(anchor)
            p.t_akey.append(akey)
            plain = all(not w.prefix and w.cased is None for w in pattern)
            p.t_simple.append(int(plain and (len(pattern) == 1 or (len(pattern) == 2 and akey <= PAIR_BASE))))
            p.t_off.append(len(p.tw_key))
            p.term_patterns.append(pattern)
            self._term_key.append(akey)
        self._by_text[(term.text, term.case)] = tid
        return tid

    def _pair(self, a: int, b: int, a_norm: str, b_norm: str) -> int:
        pid = self._pairs.get((a, b))
        if pid is None:
            pid = self._pairs[(a, b)] = len(self._pairs)
            key = PAIR_BASE - pid
            if self.freq is not None:
                self._cost[key] = self.freq.cost((a_norm, b_norm))
            else:
                self._cost[key] = min(self._cost[a], self._cost[b]) * 0.1
            return key
        return PAIR_BASE - pid

    # -- presearch anchors --------------------------------------------------------------------------------
    def cost(self, keys: frozenset[int]) -> float:
        """Estimated frequency of a key set: a rule is indexed under its cheapest required set."""
        return sum(self._cost[k] for k in keys)

    def anchor(self, node: Node) -> frozenset[int] | None:
        """Keys at least one of which must occur for the node to match; None when none must."""
        if isinstance(node, Term):
            return frozenset((self._term_key[self.tid(node)],))
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

    def groups(self, node: Node) -> list[frozenset[int]]:
        """Key sets that must *all* be hit (AND and NEAR operands); empty when nothing is required."""
        if isinstance(node, Field):
            return self.groups(node.child)
        if isinstance(node, And):
            return [g for c in node.children for g in self.groups(c)]
        if isinstance(node, Near):
            return self.groups(node.left) + self.groups(node.right)
        one = self.anchor(node)
        return [one] if one is not None else []

    def _eval_cost(self, node: Node) -> tuple[int, float]:
        # Cheap tests first, rarest first, so AND fails fast; entities, NEAR and NOT last.
        if isinstance(node, Term | Or | Field | And):
            anchor = self.anchor(node)
            return (0, self.cost(anchor)) if anchor is not None else (1, 0.0)
        if isinstance(node, Lang):
            return (0, 0.0)
        if isinstance(node, Entity):
            return (2, 0.0)
        return (1, 1.0)

    def _weighted_need(self, node: Weighted) -> int:
        """How many distinct anchor keys a SCORE rule needs present: its threshold over its top weights.

        Each item that is a term is anchored on one key, so k present keys bring at most the k largest
        per-key weight sums. With any other item (a group) one key is all that can be asked.
        """
        by_key: dict[int, float] = {}
        for item, weight in node.items:
            if not isinstance(item, Term):
                return 1
            if weight > 0:
                key = self._term_key[self.tid(item)]
                by_key[key] = by_key.get(key, 0.0) + weight
        total = 0.0
        for need, w in enumerate(sorted(by_key.values(), reverse=True), 1):
            total += w
            if total >= node.threshold:
                return need
        return 1  # unreachable threshold: the evaluator says no; keep the rule a plain candidate

    # -- nodes ------------------------------------------------------------------------------------------
    def _node(self, op: int, a: int = 0, b: int = 0, c: int = 0, d: int = 0, w: float = 0.0) -> int:
        p = self.p
        p.op.append(op)
        p.na.append(a)
        p.nb.append(b)
        p.nc.append(c)
        p.nd.append(d)
        p.nw.append(w)
        return len(p.op) - 1

    def _kids(self, kids: list[int], weights: list[float] | None = None) -> int:
        off = len(self.p.kids)
        self.p.kids.extend(kids)
        self.p.kid_w.extend(weights if weights is not None else [0.0] * len(kids))
        return off

    def _term(self, node: Term, fld: int, negated: bool) -> int:
        tid = self.tid(node)
        if not negated and self._positives is not None:
            self._positives.append((tid, fld, node.text))
        return self._node(OP_TERM, tid, fld, self._term_key[tid])

    def _plain_key(self, node: Node, fld: int, negated: bool) -> int | None:
        """The key of an exact term (its presence is a hit), recording it as evidence; else None."""
        if fld != -1 or not isinstance(node, Term):
            return None
        tid = self.tid(node)
        if not self.p.t_simple[tid]:
            return None
        if not negated and self._positives is not None:
            self._positives.append((tid, fld, node.text))
        return self._term_key[tid]

    def _counted_group(self, node: Node, fld: int, negated: bool) -> bool:
        """True for a required operand that is exactly a counted group of plain words (recorded as evidence).

        A rule is evaluated only once every counted group has a key present, and for plain words (one
        word, no case rule, either field) presence is a hit: such an operand is true for every candidate.
        """
        if negated or fld != -1 or not self._counted:
            return False
        children = node.children if isinstance(node, Or) else (node,)
        terms = [c for c in children if isinstance(c, Term)]
        if len(terms) < len(children) or not all(self.p.t_simple[self.tid(t)] for t in terms):
            return False
        if frozenset(self._term_key[self.tid(t)] for t in terms) not in self._counted:
            return False
        for c in children:
            self._plain_key(c, fld, negated)
        return True

    def emit(self, node: Node, fld: int, negated: bool, required: bool = False) -> int:
        """The node index of a boolean node (fld: -1 both fields, 0 title, 1 text).

        `required`: the node must match for the rule to (the root and, through ANDs, its operands).
        """
        if required and self._counted_group(node, fld, negated):
            return self._node(OP_TRUE)
        if isinstance(node, Term):
            key = self._plain_key(node, fld, negated)
            return self._term(node, fld, negated) if key is None else self._node(OP_KEY, key)
        if isinstance(node, Field):
            return self.emit(node.child, FIELD_INDEX[node.field], negated, required)
        if isinstance(node, And | Or):
            is_and = isinstance(node, And)
            children = sorted(node.children, key=self._eval_cost) if is_and else node.children
            keys, rest = [], []
            for c in children:
                if is_and and required and self._counted_group(c, fld, negated):
                    continue  # known true for every candidate
                key = self._plain_key(c, fld, negated)
                if key is None:
                    rest.append(c)
                else:
                    keys.append(key)
            kids = [self.emit(c, fld, negated, is_and and required) for c in rest]
            if is_and and not keys and not kids:
                return self._node(OP_TRUE)
            if keys:
                # Plain words first: one tight loop of stamp checks.
                keyed = self._node(OP_ALLKEY if is_and else OP_ANYKEY, self._kids(keys), len(keys))
                if not kids:
                    return keyed
                kids.insert(0, keyed)
            if len(kids) == 1:
                return kids[0]  # the one operand left (the others are known true)
            return self._node(OP_AND if is_and else OP_OR, self._kids(kids), len(kids))
        if isinstance(node, Not):
            return self._node(OP_NOT, self.emit(node.child, fld, not negated))
        if isinstance(node, Near):
            return self.span(node, fld, negated)
        if isinstance(node, Lang):
            return self._node(OP_LANG, self._langs.setdefault(node.code, len(self._langs)))
        if isinstance(node, Entity):
            self.p.entities.append(self.entity(node))
            return self._node(OP_ENTITY, len(self.p.entities) - 1)
        if isinstance(node, Weighted):
            kids = [self.emit(item, fld, negated) for item, _w in node.items]
            off = self._kids(kids, [float(w) for _i, w in node.items])
            idx = self._node(OP_WEIGHTED, off, len(kids), w=float(node.threshold))
            if not negated and self._scores is not None:
                self._scores.append(idx)
            return idx
        raise TypeError(f"not a query node: {node!r}")

    def span(self, node: Node, fld: int, negated: bool) -> int:
        """The node index of a node with word positions (NEAR operands: terms, OR of them, NEAR)."""
        if isinstance(node, Term):
            return self._term(node, fld, negated)
        if isinstance(node, Field):
            return self.span(node.child, FIELD_INDEX[node.field], negated)
        if isinstance(node, Or):
            kids = [self.span(c, fld, negated) for c in node.children]
            return self._node(OP_OR, self._kids(kids), len(kids))
        if isinstance(node, Near):
            left = self.span(node.left, fld, negated)
            right = self.span(node.right, fld, negated)
            return self._node(OP_NEAR, left, right, node.distance, int(node.ordered))
        raise TypeError(f"not a span node: {node!r}")

    def entity(self, node: Entity) -> EntityFn:
        """An entity constraint over the article's linked entities."""
        value, kind, resolver = node.value, node.kind, self.resolver
        if kind == "office":
            if resolver is None:
                return _never
            cache = self._office_cache

            def holds_office(doc: MatchDocument) -> bool:
                pub = doc.published
                key = (value, pub.date() if isinstance(pub, datetime) else pub)
                ids = cache.get(key)
                if ids is None:
                    ids = cache[key] = frozenset(resolver.office_holders(value, key[1]))
                return any(e.entity_id in ids for e in doc.entities if e.entity_id)

            return holds_office
        ids = (
            frozenset(resolver.ids_for_name(value)) if resolver is not None and value != "*" else frozenset()
        )
        labels = _LABELS.get(kind)
        folded = fold(value).casefold()  # an unlinked name in either Chinese script

        def has_entity(doc: MatchDocument) -> bool:
            for e in doc.entities:
                if labels is not None and e.label.upper() not in labels:
                    continue
                if value == "*" or (e.entity_id is not None and e.entity_id in ids):
                    return True
                if fold(e.text).casefold() == folded or fold(e.canonical or "").casefold() == folded:
                    return True
            return False

        return has_entity

    # -- rules ------------------------------------------------------------------------------------------
    def add_rule(self, tree: Node) -> int:
        """Register one rule (terms, required groups, need); `finish` emits its nodes. Returns its index."""
        check_depth(tree)
        groups = sorted(set(self.groups(tree)), key=self.cost)
        self._clauses.append(groups)
        self.p.groups.append(len(groups))
        self.p.need.append(self._weighted_need(tree) if groups and isinstance(tree, Weighted) else 1)
        self._trees.append(tree)
        return len(self._trees) - 1

    def _emit_rule(self, r: int) -> None:
        p = self.p
        self._positives, self._scores = [], []
        p.r_node0[r] = len(p.op)
        p.r_kid0[r] = len(p.kids)
        # Groups the presearch checks (all of them, unless a SCORE rule counts keys instead).
        self._counted = set(self._clauses[r]) if p.need[r] <= 1 else set()
        p.root[r] = self.emit(self._trees[r], -1, False, required=True)
        self._counted = set()
        unique: dict[tuple[int, int], tuple[int, int, str]] = {}
        for pos in self._positives:
            unique.setdefault((pos[0], pos[1]), pos)
        p.positives[r] = list(unique.values())
        self._rule_scores[r] = self._scores
        self._positives = self._scores = None

    def finish(self) -> Program:
        """The program: nodes emitted in presearch order, stem keys after the words, the index built.

        Rules are laid out by their first anchor key, so the rules one present key brings up sit side by
        side in memory and are evaluated in that order (the matcher sorts only the matches).
        """
        p = self.p
        n = len(self._trees)

        def order(k: int) -> tuple[int, int]:  # words, stems, pairs (final ids are known only later)
            return (0, k) if k >= 0 else (1, -1 - k) if k > PAIR_BASE else (2, PAIR_BASE - k)

        first = [min(map(order, c[0])) if c and c[0] else (-1, 0) for c in self._clauses]
        p.root, p.r_node0, p.r_kid0 = [0] * n, [0] * n, [0] * n
        p.positives = [[] for _ in range(n)]
        self._rule_scores: list[list[int]] = [[] for _ in range(n)]
        for r in sorted(range(n), key=lambda r: (first[r], r)):
            self._emit_rule(r)  # may add terms (those under NOT have no anchor)
        nwords, nstems = len(self._words), len(self._stems)

        def final(k: int) -> int:
            if k >= 0:
                return k
            return nwords - 1 - k if k > PAIR_BASE else nwords + nstems + PAIR_BASE - k

        for r in range(n):
            for tid, fld, _text in p.positives[r]:
                p.pos_term.append(tid)
                p.pos_field.append(fld)
                p.pos_key.append(final(self._term_key[tid]))
            p.pos_off.append(len(p.pos_term))
            p.sc_node.extend(self._rule_scores[r])
            p.sc_off.append(len(p.sc_node))
        p.words = list(self._words)
        p.stems = list(self._stems)
        p.cased = list(self._cased)
        p.langs = list(self._langs)
        p.tw_key = [final(k) for k in p.tw_key]
        p.t_akey = [final(k) for k in p.t_akey]
        p.pairs = list(self._pairs)
        p.nc = [final(c) if op == OP_TERM else c for op, c in zip(p.op, p.nc, strict=True)]
        for i, op in enumerate(p.op):  # key operands (pairs and stems get their final ids now)
            if op == OP_KEY:
                p.na[i] = final(p.na[i])
            elif op in (OP_ANYKEY, OP_ALLKEY):
                for k in range(p.na[i], p.na[i] + p.nb[i]):
                    p.kids[k] = final(p.kids[k])
        # Postings: key → rule << 10 | 1 << 5 for every key of a rule's cheapest group, and for a SCORE
        # rule rule << 10 | need << 5 | 31 for every key of its one group (distinct keys are counted).
        # A rule's further groups are key lists the presearch checks on the article's key bitmap, the
        # next cheapest first, each from its commonest key (the likeliest to be present) down.
        # Checked groups: rule r's are gk[rg[2r]:rg[2r + 1]], each its length then its keys, laid out in
        # the rules' memory order (the rules one key posts read neighbouring records).
        by_key: list[list[int]] = [[] for _ in range(nwords + nstems + len(self._pairs))]
        p.always, p.rg, p.gk = [], [0] * (2 * n), []
        for r in sorted(range(n), key=lambda r: (first[r], r)):
            clauses = self._clauses[r]
            p.rg[2 * r] = len(p.gk)
            if len(clauses) > 1 and p.need[r] <= 1:
                for keys in clauses[1:]:
                    p.gk.append(len(keys))
                    p.gk.extend(final(k) for k in sorted(keys, key=lambda k: (-self._cost[k], k)))
            p.rg[2 * r + 1] = len(p.gk)
        for r, clauses in enumerate(self._clauses):
            if not clauses:
                p.always.append(r)
            need = min(p.need[r], MAX_NEED)
            if need > 1:
                for keys in clauses:
                    for k in sorted(keys):
                        by_key[final(k)].append(r << 10 | need << 5 | 31)
            elif clauses:
                for k in sorted(clauses[0]):
                    by_key[final(k)].append(r << 10 | 1 << 5)
        p.kr_off, p.kr = [0], []
        for rules in by_key:
            p.kr.extend(rules)
            p.kr_off.append(len(p.kr))
        return p


def _never(doc: MatchDocument) -> bool:
    return False


def has_anchor(tree: Node) -> bool:
    """True when the presearch can index the rule (it has a required term); else it runs on every article."""
    check_depth(tree)
    return Builder().anchor(tree) is not None


__all__ = ["FIELD_INDEX", "Builder", "Program", "has_anchor", "key_cost"]
