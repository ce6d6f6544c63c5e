"""The article search syntax, one for PostgreSQL and SQLite: parse once, render for each backend.

    summit putin          both words (AND is implicit; `AND` may be written)
    "shanghai cooperation" the words side by side
    xi OR putin           either (`OR` in capitals binds looser than AND)
    -linux, NOT linux     without the word (needs at least one word that is not excluded)
    sanction*             words starting with the stem (3 characters or more; stemmed like a word)
    (a OR b) c            grouping

Words are normalised as documents are (case-folded, Chinese script folded); a run of Chinese characters
is a phrase of single characters, like in watch rules. Each backend renders the tree in its own syntax
for one text-search configuration: `to_tsquery` text for PostgreSQL, an FTS5 expression for SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidInput
from shared.search.text import is_cjk, stem, words

MAX_QUERY_CHARS = 1000
MAX_TERMS = 50
MAX_DEPTH = 10
MIN_PREFIX = 3


class SearchSyntaxError(InvalidInput):
    """A search query that cannot be parsed; `position` is the 0-based offset of the problem in the query."""

    code = "search_syntax"

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position

    def details(self) -> dict[str, Any]:
        """Where in the query."""
        return {"position": self.position}


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Term | Phrase | Not | And | Or
_LEX = re.compile(r'\s+|(?P<lp>\()|(?P<rp>\))|(?P<q>"[^"]*"?)|(?P<w>[^\s()"]+)')


@dataclass(frozen=True)
class _Tok:
    kind: str  # ( ) " w
    text: str
    pos: int


def _lex(query: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _LEX.finditer(query):
        kind = m.lastgroup
        if kind is None:
            continue
        out.append(_Tok({"lp": "(", "rp": ")", "q": '"', "w": "w"}[kind], m.group(), m.start()))
    return out


class _Parser:
    def __init__(self, query: str) -> None:
        self.toks = _lex(query)
        self.i = 0
        self.terms = 0
        self.end = len(query)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node | None:
        if self.peek() is None:
            return None
        node = self.or_expr(0)
        tok = self.peek()
        if tok is not None:
            raise SearchSyntaxError(f"unexpected {tok.text!r}", tok.pos)
        return node

    def or_expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            tok = self.peek()
            raise SearchSyntaxError(f"nested deeper than {MAX_DEPTH}", tok.pos if tok else self.end)
        items = [self.and_expr(depth)]
        while (tok := self.peek()) is not None and tok.kind == "w" and tok.text == "OR":
            self.i += 1
            items.append(self.and_expr(depth))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self, depth: int) -> Node:
        items: list[Node] = []
        while (
            (tok := self.peek()) is not None
            and tok.kind != ")"
            and not (tok.kind == "w" and tok.text == "OR")
        ):
            if tok.kind == "w" and tok.text == "AND":
                self.i += 1
                continue
            items.append(self.unary(depth))
        if not items:
            tok = self.peek()
            raise SearchSyntaxError("expected a word, a phrase or '('", tok.pos if tok else self.end)
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self, depth: int) -> Node:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "w" and tok.text == "NOT":
            self.i += 1
            if self.peek() is None:
                raise SearchSyntaxError("expected a word after NOT", self.end)
            return Not(self.atom(depth))
        if tok.kind == "w" and tok.text.startswith("-") and len(tok.text) > 1:
            self.i += 1
            return Not(self.word(tok.text[1:], tok.pos + 1))
        return self.atom(depth)

    def atom(self, depth: int) -> Node:
        tok = self.peek()
        if tok is None:
            raise SearchSyntaxError("expected a word, a phrase or '('", self.end)
        self.i += 1
        if tok.kind == "(":
            node = self.or_expr(depth + 1)
            close = self.peek()
            if close is None or close.kind != ")":
                raise SearchSyntaxError("expected ')'", close.pos if close else self.end)
            self.i += 1
            return node
        if tok.kind == ")":
            raise SearchSyntaxError("unexpected ')'", tok.pos)
        if tok.kind == '"':
            if len(tok.text) < 2 or not tok.text.endswith('"'):
                raise SearchSyntaxError("unclosed quote", tok.pos)
            found = words(tok.text[1:-1])
            if not found:
                raise SearchSyntaxError("empty phrase", tok.pos)
            return self._count(Phrase(tuple(found)) if len(found) > 1 else Term(found[0]), tok.pos)
        return self.word(tok.text, tok.pos)

    def word(self, text: str, pos: int) -> Node:
        prefix = text.endswith("*")
        found = words(text)
        if not found:
            raise SearchSyntaxError(f"{text!r} has no letters or digits", pos)
        if prefix:
            if len(found) > 1 or is_cjk(found[0]):
                raise SearchSyntaxError("'*' ends a single word (not a phrase or a Chinese character)", pos)
            if len(found[0]) < MIN_PREFIX:
                raise SearchSyntaxError(f"a prefix needs at least {MIN_PREFIX} characters before '*'", pos)
            return self._count(Term(found[0], prefix=True), pos)
        return self._count(Phrase(tuple(found)) if len(found) > 1 else Term(found[0]), pos)

    def _count(self, node: Node, pos: int) -> Node:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise SearchSyntaxError(f"more than {MAX_TERMS} words or phrases", pos)
        return node


def parse(query: str | None) -> Node | None:
    """The query's tree (None for an empty query); raises SearchSyntaxError with a position."""
    if not query or not query.strip():
        return None
    if len(query) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"longer than {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS)
    node = _Parser(query).parse()
    if node is not None:
        _check_negations(node)
    return node


def _check_negations(node: Node) -> None:
    """Every AND needs a positive operand, and NOT stands only inside an AND (FTS5 has a binary NOT)."""
    if isinstance(node, Not):
        raise SearchSyntaxError("a query needs at least one word that is not excluded", 0)
    for child in _children(node):
        if not isinstance(child, Not):
            _check_negations(child)
            continue
        if not isinstance(node, And):
            raise SearchSyntaxError("an excluded word must stand beside a word that is not", 0)
        if not isinstance(child.item, Term | Phrase):
            _check_negations(child.item)
    if isinstance(node, And) and all(isinstance(c, Not) for c in node.items):
        raise SearchSyntaxError("a query needs at least one word that is not excluded", 0)


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, And | Or):
        yield from node.items
    elif isinstance(node, Not):
        yield node.item


# --- rendering --------------------------------------------------------------------------------------------


def to_tsquery_text(node: Node) -> str:
    """PostgreSQL `to_tsquery` input: quoted words (normalised by the configuration), & | ! and :*."""
    if isinstance(node, Term):
        return f"'{node.word}'" + (":*" if node.prefix else "")
    if isinstance(node, Phrase):
        return "'" + " ".join(node.words) + "'"
    if isinstance(node, Not):
        return "!" + _group(to_tsquery_text(node.item))
    joiner = " & " if isinstance(node, And) else " | "
    return joiner.join(_group(to_tsquery_text(i)) for i in node.items)


def _group(text: str) -> str:
    return f"( {text} )" if " " in text and not (text.startswith("'") and text.count("'") == 2) else text


def to_fts5(node: Node, config: str) -> str:
    """An SQLite FTS5 expression for documents of one configuration: words stemmed as they were indexed."""
    if isinstance(node, Term):
        s = stem(node.word, config)
        return '{title text} : "' + s + '"' + (" *" if node.prefix else "")
    if isinstance(node, Phrase):
        return '{title text} : "' + " ".join(stem(w, config) for w in node.words) + '"'
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(i, config) for i in node.items) + ")"
    if isinstance(node, And):
        pos = [to_fts5(i, config) for i in node.items if not isinstance(i, Not)]
        neg = [to_fts5(i.item, config) for i in node.items if isinstance(i, Not)]
        out = "(" + " AND ".join(pos) + ")"
        return out + (" NOT (" + " OR ".join(neg) + ")" if neg else "")
    raise SearchSyntaxError("a query needs at least one word that is not excluded", 0)


@dataclass(frozen=True)
class Wanted:
    """What highlighting marks in a document of one configuration: stems, prefix stems, stem phrases."""

    stems: frozenset[str]
    prefixes: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]


def wanted(node: Node | None, config: str) -> Wanted:
    """The positive (not excluded) words of the query, stemmed for one configuration."""
    stems: set[str] = set()
    prefixes: list[str] = []
    phrases: list[tuple[str, ...]] = []

    def walk(n: Node) -> None:
        if isinstance(n, Term):
            (prefixes.append if n.prefix else stems.add)(stem(n.word, config))
        elif isinstance(n, Phrase):
            phrases.append(tuple(stem(w, config) for w in n.words))
        elif isinstance(n, And | Or):
            for i in n.items:
                walk(i)

    if node is not None:
        walk(node)
    return Wanted(frozenset(stems), tuple(prefixes), tuple(phrases))
