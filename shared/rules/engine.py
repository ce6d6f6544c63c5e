"""Matcher: many watch rules against one article, cheaply (the Lucene Monitor idea, run in C).

`compile_watches` parses every watch and compiles them into one program (program.py); the per-article
work runs in the `_core` extension (_core.pyx): tokens and vocabulary lookups, the counting presearch
(a rule is a candidate once each of its required groups has a key present), and exact boolean, proximity
and weight evaluation of the candidates only. Python normalises the two fields (lower case, separators
as spaces, Traditional Chinese folded to Simplified, same length), computes the language flags, and turns
matches into `MatchResult`s whose term hits and snippet are built on first access (one more pass of the
article's terms, shared by all its results); their offsets and text always point into the original fields.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable

from shared.folding import Folded
from shared.rules._core import Article, Core, Scratch
from shared.rules.errors import RuleSyntaxError
from shared.rules.parser import parse
from shared.rules.program import Builder, Program
from shared.rules.stats import Frequencies
from shared.rules.text import prepare
from shared.rules.types import EntityResolver, MatchDocument, MatchResult, TermHit, WatchSpec

FIELDS = ("title", "text")


def lang_ok(language: str | None, code: str) -> bool:
    """True when the article language is `code` or a regional form of it (en-GB for en)."""
    if not language:
        return False
    lang = language.lower().replace("_", "-")
    return lang == code or lang.startswith(code + "-")


# What the matcher reads (title, normalised title, text, normalised text), the original title and text, and
# for each field the map from folded offsets to original ones when folding changed its length.
Prepared = tuple[tuple[str, str, str, str], tuple[str, str], tuple[Folded | None, Folded | None]]


# Core.details: the terms and snippet of each match in turn, then their scores as float64 bytes.
Details = list[list[TermHit] | str | bytes]


class Engine:
    """A compiled rule set. `match` may be called from several threads (calls are serialised)."""

    def __init__(self, program: Program, specs: list[WatchSpec], version: int | None = None) -> None:
        self.version = version
        self.program = program
        self._core = Core(program)
        self._scratch = Scratch(self._core)
        self._detail_scratch = Scratch(self._core)
        self._lock = threading.Lock()
        self._detail_lock = threading.Lock()
        self._ids = [s.id for s in specs]
        self._names = [s.name for s in specs]
        self._langs = program.langs

    @property
    def watch_count(self) -> int:
        """Number of compiled watches."""
        return len(self._ids)

    @property
    def c_memory_bytes(self) -> int:
        """Memory the compiled program and the two scratch areas hold in C (not seen by tracemalloc)."""
        return int(self._core.nbytes + self._scratch.nbytes + self._detail_scratch.nbytes)

    @property
    def term_count(self) -> int:
        """Number of distinct term patterns."""
        return len(self.program.term_patterns)

    @property
    def term_keys(self) -> list[str]:
        """Each distinct term as normalised words framed by spaces (up to its first wildcard)."""
        out = []
        for pattern in self.program.term_patterns:
            words: list[str] = []
            for w in pattern:
                words.append(w.norm)
                if w.prefix:
                    break
            out.append(" " + " ".join(words) + ("" if pattern[len(words) - 1].prefix else " "))
        return out

    @staticmethod
    def _prepare(doc: MatchDocument) -> Prepared:
        title, text = doc.title or "", doc.text or ""
        rt, nt, mt = prepare(title) if title else ("", "", None)
        rx, nx, mx = prepare(text) if text else ("", "", None)
        return (rt, nt, rx, nx), (title, text), (mt, mx)

    def _lang(self, doc: MatchDocument) -> bytes:
        if not self._langs:
            return b""
        return bytes(lang_ok(doc.language, code) for code in self._langs)

    def match(self, doc: MatchDocument) -> list[MatchResult]:
        """Every watch that matches the document, in rule order."""
        prepared = self._prepare(doc)
        lang = self._lang(doc)
        article = Article(self, prepared, lang, doc)
        with self._lock:
            found = self._core.match(self._scratch, *prepared[0], lang, doc, article, self._ids, self._names)
            article.serial = self._scratch.serial
        return found

    def candidates(self, doc: MatchDocument) -> list[int]:
        """Indices of the rules the presearch passes for the document (a superset of the matches)."""
        with self._lock:
            return self._core.candidate_rules(self._scratch, *self._prepare(doc)[0])

    def _details(self, article: Article) -> Details:
        fields, originals, maps = article.prepared
        args = (*fields, article.lang, article.doc, *originals, *maps, article.rules)
        with self._lock:
            if article.serial == self._scratch.serial:
                # No article matched since this one (how the pipeline reads results): its tokens and term
                # hits are still in the scratch.
                return self._core.details(self._scratch, *args, article.serial)
        with self._detail_lock:
            return self._core.details(self._detail_scratch, *args)

    def _rule_hits(
        self, fields: tuple[str, str, str, str], rules: list[int], doc: MatchDocument | None = None
    ) -> dict[int, tuple[list[tuple[int, int, int, int]], float]]:
        """Each rule's evidence as (positive, field, start, end) offsets and its score (the reference of
        `_details`: tests build the old Python details from it)."""
        lang = self._lang(doc) if doc is not None else None
        with self._detail_lock:
            got = self._core.rule_hits(self._detail_scratch, *fields, rules, lang, doc)
        return dict(zip(rules, got, strict=True))


def compile_watches(
    watches: Iterable[WatchSpec],
    *,
    resolver: EntityResolver | None = None,
    version: int | None = None,
    frequencies: Frequencies | None = None,
) -> Engine:
    """Compile watches into one Engine; a bad query raises RuleSyntaxError naming the watch.

    `frequencies` (document frequencies from a sample of articles) lets the presearcher pick each rule's
    truly rarest terms; without it, longer words count as rarer (Lucene Monitor's default).
    """
    # Compiling makes millions of lasting containers (the program's lists and tuples) and no cycles: the
    # collector's passes over them were a third of the time at 10,000 rules. Paused meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        builder = Builder(resolver, frequencies)
        specs: list[WatchSpec] = []
        for spec in watches:
            try:
                tree = parse(spec.query)
            except RuleSyntaxError as e:
                raise e.for_watch(spec.name) from None
            builder.add_rule(tree)
            specs.append(spec)
        return Engine(builder.finish(), specs, version)
    finally:
        if collecting:
            gc.enable()


__all__ = ["FIELDS", "Engine", "compile_watches", "lang_ok"]
