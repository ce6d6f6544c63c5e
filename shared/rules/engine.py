"""Matcher: many watch rules against one article, cheaply (the Lucene Monitor idea).

1. Presence: the article's fields are normalised (lower case, non-word characters as spaces, same
   length) and split into words; the words and the adjacent word pairs are intersected with the sets of
   word and pair keys of all rules (C-level set operations). Wildcard stems and CJK terms come from one
   Aho-Corasick scan of the same text.
2. Presearch: each rule is indexed under its *anchor*, the cheapest key set one of which must occur
   (OR: all children's keys; AND/NEAR: the rarest required operand's; SCORE: its items, needing as many
   as its threshold requires). Further required sets (other AND operands) must each be hit too. Both
   tests run in C (map/chain/compress), so rules whose anchor is absent cost nothing. Rules with no anchor
   (NOT-only, lang:/entity-only, SCORE with threshold <= 0) are evaluated for every article: never lost.
3. Evaluation: rules that are ANDs of ORs of plain words, every operand among the sets the presearch
   checked, are matched by passing it (`Rule.decided`); the others run closures: plain words and pairs
   are set membership, everything else (case, longer phrases, NEAR, fields) asks for exact term
   positions, found per term on first use and cached for the article. Results carry a score at once;
   terms and snippet are built on first access.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from functools import partial
from itertools import chain, compress, pairwise
from operator import itemgetter, le, not_

import ahocorasick

from shared.rules.compiler import Compiler, Hit, Rule
from shared.rules.errors import RuleSyntaxError
from shared.rules.parser import parse
from shared.rules.snippet import highlight
from shared.rules.stats import CJK_KEY, STEM, Frequencies
from shared.rules.terms import Key, TermInfo
from shared.rules.text import CompiledTerm, blank_cjk, normalize
from shared.rules.types import EntityResolver, MatchDocument, MatchResult, TermHit, WatchSpec

FIELDS = ("title", "text")
_second = itemgetter(1)


def _find(cterm: CompiledTerm, text: str, framed: str, out: list[tuple[int, int]], skip: set[int]) -> None:
    """Occurrences of one term in one field; `framed` is the normalised field with a space each side."""
    key, lead, body = cterm.key, cterm.lead, cterm.body
    i = framed.find(key)
    while i != -1:
        start = i + lead - 1  # `framed` is one character ahead of `text`
        stop = start + body
        ok = start not in skip
        if ok and cterm.checks:
            ok = all(text.startswith(lit, start + off) for off, lit in cterm.checks)
        if ok and cterm.tail is not None:
            m = cterm.tail.match(framed, stop + 1)
            ok = m is not None and all(
                text.startswith(lit, m.start(g) - 1) and (prefix or m.end(g) - m.start(g) == len(lit))
                for g, lit, prefix in cterm.tail_checks
            )
            if m is not None:
                stop = m.end() - 1
        if ok:
            out.append((start, stop))
        i = framed.find(key, i + 1)


def _find_phrase(
    info: TermInfo, rx: re.Pattern[str], text: str, framed: str, out: list[tuple[int, int]], skip: set[int]
) -> None:
    """Occurrences of a multi-word term, with the case rules of its words checked on the original text."""
    pattern = info.pattern
    for m in rx.finditer(framed):
        start = m.start()  # the match begins at the space before the word: one ahead of `text`
        if start in skip:
            continue
        for g, w in enumerate(pattern, 1):
            if w.cased is not None and not (
                text.startswith(w.cased, m.start(g) - 1)
                and (w.prefix or m.end(g) - m.start(g) == len(w.cased))
            ):
                break
        else:
            out.append((start, m.end() - 1))


class Ctx:
    """Per-article state shared by the evaluators of all candidate rules."""

    __slots__ = ("_cache", "_terms", "blanks", "date", "doc", "framed", "norms", "present", "texts")

    def __init__(
        self,
        doc: MatchDocument,
        terms: list[TermInfo],
        texts: tuple[str, str],
        norms: list[str],
        blanks: list[str | None],
        present: set[Key],
    ) -> None:
        self.doc = doc
        self._terms = terms
        self.texts = texts
        self.norms = norms
        self.framed = [f" {n} " for n in norms]
        self.blanks = blanks
        self.present = present
        self._cache: dict[int, list[Hit]] = {}
        pub = doc.published
        self.date: date | None = pub.date() if isinstance(pub, datetime) else pub

    def hits(self, tid: int) -> list[Hit]:
        """Every occurrence of term `tid` in the article (computed once, on first use)."""
        got = self._cache.get(tid)
        if got is not None:
            return got
        info = self._terms[tid]
        got = []
        if info.pkey in self.present:
            for f in (0, 1):
                if not self.norms[f]:
                    continue
                found: list[tuple[int, int]] = []
                rx = info.phrase_rx
                if rx is not None:
                    _find_phrase(info, rx, self.texts[f], self.framed[f], found, set())
                else:
                    _find(info.cterm, self.texts[f], self.framed[f], found, set())
                blank = self.blanks[f]
                if blank is not None and not info.cterm.has_cjk:
                    # Latin words touching CJK characters ("SCO峰会") only show with CJK blanked out.
                    skip = {s for s, _ in found}
                    if rx is not None:
                        _find_phrase(info, rx, self.texts[f], f" {blank} ", found, skip)
                    else:
                        _find(info.cterm, self.texts[f], f" {blank} ", found, skip)
                got.extend((f, s, e) for s, e in sorted(found))
        self._cache[tid] = got
        return got


class Engine:
    """A compiled rule set; `match` is safe to call from one thread at a time per engine."""

    def __init__(self, rules: list[Rule], compiler: Compiler, version: int | None = None) -> None:
        self.version = version
        self._rules = rules
        self._terms = compiler.terms
        self._always: list[int] = []
        # Presearch (Lucene Monitor's multipass idea): a rule is indexed under its cheapest required key
        # set; a candidate must also hit every further required set, tested level by level in C.
        # Rules needing several anchor keys (SCORE) sit in their own index, where keys are counted.
        by_key: dict[Key, list[int]] = {}
        by_needy: dict[Key, list[int]] = {}
        for rule in rules:
            if rule.anchor is None:
                self._always.append(rule.index)
                continue
            index = by_needy if rule.need > 1 else by_key
            for key in rule.anchor:
                index.setdefault(key, []).append(rule.index)
        self._by_key = {k: tuple(v) for k, v in by_key.items()}
        self._anchor_keys = frozenset(by_key)
        self._by_needy = {k: tuple(v) for k, v in by_needy.items()}
        self._needy_keys = frozenset(by_needy)
        self._need = [r.need for r in rules]
        # levels[k][i]: rule i's (k+1)-th further required set; rules with fewer reuse their anchor.
        self._levels = [
            [r.required[k] if len(r.required) > k else (r.anchor or frozenset()) for r in rules]
            for k in range(max((len(r.required) for r in rules), default=0))
        ]
        keys = {t.pkey for t in self._terms if isinstance(t.pkey, tuple) or t.pkey[0] not in (STEM, CJK_KEY)}
        self._words = frozenset(k for k in keys if isinstance(k, str))
        self._pairs = frozenset(k for k in keys if isinstance(k, tuple))
        # Wildcard stems (" sanct", at word starts) and CJK terms (no spaces in those scripts) come from
        # one Aho-Corasick scan; everything else from set intersections.
        self._automaton = ahocorasick.Automaton()
        for t in self._terms:
            if isinstance(t.pkey, str) and t.pkey[0] in (STEM, CJK_KEY):
                self._automaton.add_word(t.cterm.key, t.pkey)
        self._has_auto = len(self._automaton) > 0
        if self._has_auto:
            self._automaton.make_automaton()

    @property
    def watch_count(self) -> int:
        """Number of compiled watches."""
        return len(self._rules)

    @property
    def term_count(self) -> int:
        """Number of distinct term patterns."""
        return len(self._terms)

    @property
    def term_keys(self) -> list[str]:
        """The normalised search key of every distinct term (lower-case words framed by spaces)."""
        return [t.cterm.key for t in self._terms]

    def context(self, doc: MatchDocument) -> Ctx:
        """Normalise the document and find which presence keys occur in it."""
        texts = (doc.title or "", doc.text or "")
        norms = [normalize(texts[0]) if texts[0] else "", normalize(texts[1]) if texts[1] else ""]
        blanks: list[str | None] = [None, None]
        present: set[Key] = set()
        for f, norm in enumerate(norms):
            if not norm:
                continue
            src = norm
            if not norm.isascii() and (blank := blank_cjk(norm)) != norm:
                # Latin words touching CJK characters ("SCO峰会") are words once CJK is blanked out.
                blanks[f] = src = blank
                if self._has_auto:
                    present.update(map(_second, self._automaton.iter(f" {blank} ")))
            if self._has_auto:
                present.update(map(_second, self._automaton.iter(f" {norm} ")))
            words = src.split()
            present |= self._words.intersection(words)
            if self._pairs:
                present |= self._pairs.intersection(pairwise(words))
        return Ctx(doc, self._terms, texts, norms, blanks, present)

    def candidates(self, ctx: Ctx) -> list[int]:
        """Indices of the rules worth evaluating for the article, in rule order."""
        # map/chain/compress keep the per-key and per-rule work in C: no Python bytecode per item.
        present = ctx.present
        found = set(
            chain.from_iterable(map(self._by_key.__getitem__, self._anchor_keys.intersection(present)))
        )
        if self._needy_keys and (hit := self._needy_keys.intersection(present)):
            counts = Counter(chain.from_iterable(map(self._by_needy.__getitem__, hit)))
            ids = list(counts)
            found.update(compress(ids, map(le, map(self._need.__getitem__, ids), counts.values())))
        cand = sorted(found)
        for level in self._levels:
            if not cand:
                break
            cand = list(compress(cand, map(not_, map(present.isdisjoint, map(level.__getitem__, cand)))))
        if self._always:
            cand = sorted({*cand, *self._always})
        return cand

    def match(self, doc: MatchDocument) -> list[MatchResult]:
        """Every watch that matches the document, in rule order."""
        ctx = self.context(doc)
        rules = self._rules
        return [
            self._result(rules[i], ctx) for i in self.candidates(ctx) if rules[i].decided or rules[i].fn(ctx)
        ]

    def _result(self, rule: Rule, ctx: Ctx) -> MatchResult:
        if rule.scores:
            score = float(sum(fn(ctx) for fn in rule.scores))
        else:
            # Distinct terms that matched: a set intersection for plain ones, positions for the rest.
            n = len(rule.positive_keys.intersection(ctx.present))
            for tid, field in rule.positive_rest:
                if any(field in (None, h[0]) for h in ctx.hits(tid)):
                    n += 1
            score = float(n) or 1.0
        return MatchResult(rule.spec.id, rule.spec.name, score, details=partial(self._details, rule, ctx))

    def _details(self, rule: Rule, ctx: Ctx) -> tuple[list[TermHit], str]:
        """The term hits of a matched rule and its highlighted snippet (built on first access)."""
        present = ctx.present
        infos = self._terms
        seen: set[Hit] = set()
        found: list[tuple[int, int, int, str]] = []
        for tid, field, display in rule.positives:
            if infos[tid].pkey not in present:
                continue
            for h in ctx.hits(tid):
                if (field is None or h[0] == field) and h not in seen:
                    seen.add(h)
                    found.append((*h, display))
        found.sort()
        texts = ctx.texts
        terms = [
            TermHit(term=display, field=FIELDS[f], start=s, end=e, text=texts[f][s:e])
            for f, s, e, display in found
        ]
        f = 1 if any(t[0] == 1 for t in found) else 0
        return terms, highlight(texts[f], [(s, e) for ff, s, e, _ in found if ff == f])


def compile_watches(
    watches: Iterable[WatchSpec],
    *,
    resolver: EntityResolver | None = None,
    version: int | None = None,
    frequencies: Frequencies | None = None,
) -> Engine:
    """Compile watches into one Engine; a bad query raises RuleSyntaxError naming the watch.

    `frequencies` (document frequencies from a sample of articles) lets the presearcher pick each rule's
    truly rarest terms; without it, longer terms count as rarer (Lucene Monitor's default).
    """
    compiler = Compiler(resolver, frequencies)
    rules: list[Rule] = []
    for spec in watches:
        try:
            tree = parse(spec.query)
        except RuleSyntaxError as e:
            raise e.for_watch(spec.name) from None
        rules.append(compiler.compile(len(rules), spec, tree))
    return Engine(rules, compiler, version)


__all__ = ["FIELDS", "Ctx", "Engine", "compile_watches"]
