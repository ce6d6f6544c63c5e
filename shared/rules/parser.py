"""Query parser: text → syntax tree, with errors that name the position and what was expected.

Grammar (operators are upper case; lower-case and/or/not are ordinary words):

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          two terms side by side mean AND
    unary   := "NOT" unary | near
    near    := primary (("NEAR/n" | "ONEAR/n") primary)*   operands: terms, phrases, OR-groups
    primary := term | "(" or ")" | title:primary | text:primary | lang:code
             | entity:V | person:V | org:V | place:V | office:V
             | "SCORE>=" number "(" item ("," item)* ")"
    item    := or ["^" number]                 weight, default 1
    term    := ["=" | "~"] (word | '"' phrase '"')    = exact case, ~ any case

Precedence from loose to tight: OR, AND, NOT, NEAR. `a NOT b` is `a AND NOT b`.

Nesting is bounded (MAX_DEPTH): every group, NOT, field prefix, NEAR link and SCORE counts one level, so
the parser's own recursion and the height of every tree it returns are bounded (ast.MAX_TREE_DEPTH).
"""

from __future__ import annotations

import re

from shared.rules.ast import (
    ENTITY_KINDS,
    MAX_DEPTH,
    TEXT_FIELDS,
    And,
    Entity,
    Field,
    Lang,
    Near,
    Node,
    Not,
    Or,
    Term,
    Weighted,
    check_depth,
    is_span,
)
from shared.rules.errors import RuleSyntaxError
from shared.rules.text import TermTextError, term_pattern

MAX_QUERY_CHARS = 20_000
MAX_NEAR = 1_000
NUMBER = r"-?\d+(?:\.\d+)?"
START = "a term, phrase, field, NOT or '('"

_LEX = [
    ("SCORE", re.compile(rf"SCORE>=({NUMBER})\s*\(")),
    ("NEAR", re.compile(r"(O?NEAR)/(\d+)(?=[\s()\"]|$)")),
    ("OP", re.compile(r"(AND|OR|NOT)(?=[\s()\"]|$)")),
    ("LPAREN", re.compile(r"\(")),
    ("RPAREN", re.compile(r"\)")),
    ("COMMA", re.compile(r",")),
    ("WEIGHT", re.compile(rf"\^({NUMBER})")),
    ("FIELD", re.compile(r"([A-Za-z]+):")),
    ("PHRASE", re.compile(r'([=~]?)"([^"]*)"')),
    ("WORD", re.compile(r'([=~]?)([^\s()",^:]+)')),
]
_CASE = {"": "auto", "=": "exact", "~": "ignore"}
_NEAR_WORD = re.compile(r"^O?NEAR(/|$)")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


class Tok:
    """A lexical token with its offset in the query (a plain class: a query makes dozens of them)."""

    __slots__ = ("groups", "kind", "pos", "text")

    def __init__(self, kind: str, pos: int, text: str, groups: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.pos = pos
        self.text = text
        self.groups = groups

    def __repr__(self) -> str:
        return f"Tok({self.kind!r}, {self.pos!r}, {self.text!r}, {self.groups!r})"


def _master() -> tuple[re.Pattern[str], dict[str, tuple[int, int]]]:
    # One alternation of every token pattern, tried left to right like the list: one regex call per token.
    parts, spans, index = [r"(?P<_SPACE>\s+)"], {}, 2
    for kind, rx in _LEX:
        parts.append(f"(?P<{kind}>{rx.pattern})")
        spans[kind] = (index + 1, index + 1 + rx.groups)
        index += 1 + rx.groups
    return re.compile("|".join(parts)), spans


_MASTER, _SPANS = _master()


def _lex(query: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n = 0, len(query)
    while i < n:
        m = _MASTER.match(query, i)
        if m is None:
            if query[i] == '"':
                raise RuleSyntaxError("unterminated phrase", position=i, expected="a closing '\"'")
            if query[i] == "^":
                raise RuleSyntaxError("malformed weight", position=i, expected="a number after '^'")
            raise RuleSyntaxError(f"unexpected character {query[i]!r}", position=i, expected=START)
        kind = m.lastgroup or ""
        if kind != "_SPACE":
            lo, hi = _SPANS[kind]
            toks.append(Tok(kind, i, m.group(), m.groups()[lo - 1 : hi - 1]))
        i = m.end()
    toks.append(Tok("EOF", n, ""))
    return toks


class _Parser:
    def __init__(self, query: str) -> None:
        self.toks = _lex(query)
        self.i = 0
        self.tok = self.toks[0]  # the current token (an attribute: the parser reads it at every step)
        self.depth = 0

    def take(self) -> Tok:
        t = self.tok
        self.i += 1
        self.tok = self.toks[min(self.i, len(self.toks) - 1)]  # EOF stays current once reached
        return t

    def fail(self, message: str, expected: str, tok: Tok | None = None) -> RuleSyntaxError:
        t = tok or self.tok
        return RuleSyntaxError(message, position=t.pos, expected=expected)

    def describe(self, t: Tok) -> str:
        return "end of query" if t.kind == "EOF" else repr(t.text)

    def parse(self) -> Node:
        if self.tok.kind == "EOF":
            raise self.fail("empty query", START)
        node = self.or_()
        if self.tok.kind != "EOF":
            raise self.fail(f"unexpected {self.describe(self.tok)}", "AND, OR, NOT or end of query")
        return node

    def enter(self, tok: Tok) -> None:
        """One more level of nesting (a group, NOT, field prefix, NEAR link or SCORE) at `tok`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("query nested too deeply", f"at most {MAX_DEPTH} levels of nesting", tok)

    def or_(self) -> Node:
        self.enter(self.tok)
        children = [self.and_()]
        while self.tok.kind == "OP" and self.tok.text == "OR":
            self.take()
            children.append(self.and_())
        self.depth -= 1
        return _flat(Or, children)

    def starts_unary(self) -> bool:
        t = self.tok
        return t.kind in ("WORD", "PHRASE", "FIELD", "LPAREN", "SCORE") or (
            t.kind == "OP" and t.text == "NOT"
        )

    def and_(self) -> Node:
        children = [self.unary()]
        while True:
            if self.tok.kind == "OP" and self.tok.text == "AND":
                self.take()
                children.append(self.unary())
            elif self.starts_unary():
                children.append(self.unary())
            else:
                break
        return _flat(And, children)

    def unary(self) -> Node:
        if self.tok.kind == "OP" and self.tok.text == "NOT":
            self.enter(self.take())
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.near()

    def near(self) -> Node:
        start = self.tok
        node = self.primary()
        links = 0
        while self.tok.kind == "NEAR":
            op = self.take()
            self.enter(op)  # a chain nests to the left: each link is one level deeper
            links += 1
            if not is_span(node):
                raise self.fail(
                    "NEAR operands must be terms, phrases or OR-groups", "a term or phrase", start
                )
            distance = int(op.groups[1])
            if distance > MAX_NEAR:
                raise self.fail(f"distance {distance} too large", f"at most {MAX_NEAR}", op)
            right_tok = self.tok
            right = self.primary()
            if not is_span(right):
                raise self.fail(
                    "NEAR operands must be terms, phrases or OR-groups", "a term or phrase", right_tok
                )
            node = Near(node, right, distance, ordered=op.groups[0] == "ONEAR")
        self.depth -= links
        return node

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "WORD":
            return self.term(t, t.groups[1], t.groups[0], quoted=False)
        if t.kind == "PHRASE":
            return self.term(t, t.groups[1], t.groups[0], quoted=True)
        if t.kind == "LPAREN":
            self.take()
            if self.tok.kind == "RPAREN":
                raise self.fail("empty group", START)
            node = self.or_()
            if self.tok.kind != "RPAREN":
                raise self.fail(
                    f"unexpected {self.describe(self.tok)}", f"')' closing the group at position {t.pos}"
                )
            self.take()
            return node
        if t.kind == "FIELD":
            return self.field(t)
        if t.kind == "SCORE":
            return self.score(t)
        if t.kind == "NEAR":
            raise self.fail(f"{t.text} needs a term on its left", START)
        if t.kind == "OP":
            raise self.fail(f"{t.text} needs a term on its left", START)
        if t.kind == "WEIGHT":
            raise self.fail("weights are allowed only inside SCORE>=n(...)", START)
        raise self.fail(f"unexpected {self.describe(t)}", START)

    def term(self, t: Tok, text: str, marker: str, *, quoted: bool) -> Node:
        self.take()
        if not quoted and _NEAR_WORD.match(text):
            raise self.fail("NEAR needs a distance in words", "NEAR/n with a whole number n", t)
        body = " ".join(text.split())
        try:
            term_pattern(body, _CASE[marker])
        except TermTextError as e:
            # Offsets are into the normalised text; exact for the common single-spaced case.
            offset = t.pos + len(marker) + (1 if quoted else 0) + e.offset
            raise RuleSyntaxError(str(e), position=offset, expected=e.expected) from None
        return Term(body, _CASE[marker])

    def field(self, t: Tok) -> Node:
        self.take()
        name = t.groups[0].lower()
        if name in TEXT_FIELDS:
            if self.tok.kind not in ("WORD", "PHRASE", "LPAREN", "FIELD", "SCORE"):
                raise self.fail(f"{name}: needs something to search", "a term, phrase or '('")
            self.enter(t)
            node = Field(name, self.primary())
            self.depth -= 1
            return node
        if name == "lang":
            v = self.tok
            if v.kind != "WORD" or v.groups[0] or not _LANG_RE.match(v.groups[1].lower()):
                raise self.fail("lang: needs a language code", "a code such as en, ru or zh")
            self.take()
            return Lang(v.groups[1].lower())
        if name in ENTITY_KINDS:
            v = self.tok
            if v.kind not in ("WORD", "PHRASE") or v.groups[0] or not v.groups[1].strip():
                raise self.fail(f"{name}: needs a name", 'a name, e.g. "Xi Jinping"')
            self.take()
            return Entity(name, " ".join(v.groups[1].split()))
        fields = ", ".join(f"{f}:" for f in (*TEXT_FIELDS, "lang", *ENTITY_KINDS))
        raise self.fail(f"unknown field {name!r}", f"one of {fields}", t)

    def score(self, t: Tok) -> Node:
        self.take()  # one level: each item is an OR counted like a group
        threshold = float(t.groups[0])
        items: list[tuple[Node, float]] = []
        while True:
            if self.tok.kind == "RPAREN" and not items:
                raise self.fail("SCORE needs at least one item", START)
            item = self.or_()
            weight = 1.0
            if self.tok.kind == "WEIGHT":
                weight = float(self.take().groups[0])
            items.append((item, weight))
            if self.tok.kind == "COMMA":
                self.take()
                continue
            if self.tok.kind == "RPAREN":
                self.take()
                return Weighted(threshold, tuple(items))
            raise self.fail(f"unexpected {self.describe(self.tok)}", "',', '^weight' or ')' closing SCORE")


def _flat(kind: type[And] | type[Or], children: list[Node]) -> Node:
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, kind) else (c,))
    return kind(tuple(flat))


def parse(query: str) -> Node:
    """Parse a query into its syntax tree; raises RuleSyntaxError."""
    if len(query) > MAX_QUERY_CHARS:
        raise RuleSyntaxError(
            "query too long", position=MAX_QUERY_CHARS, expected=f"at most {MAX_QUERY_CHARS} characters"
        )
    tree = _Parser(query).parse()
    check_depth(tree)  # the nesting count bounds the height; this makes it a guarantee for every walk
    return tree
