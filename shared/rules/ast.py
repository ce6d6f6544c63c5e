"""Query syntax tree and its canonical printer.

Nodes are frozen dataclasses, so two parses of the same query compare equal and
`parse(to_query(tree)) == tree` holds for every tree the parser can produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CASE_MODES = ("auto", "exact", "ignore")
CASE_MARKERS = {"auto": "", "exact": "=", "ignore": "~"}
TEXT_FIELDS = ("title", "text")
ENTITY_KINDS = ("entity", "person", "org", "place", "office")


@dataclass(frozen=True)
class Term:
    """A word or phrase; `*` ends a word for a prefix match; case: auto | exact | ignore."""

    text: str
    case: str = "auto"


@dataclass(frozen=True)
class And:
    """All children must match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child must match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The child must not match."""

    child: Node


@dataclass(frozen=True)
class Near:
    """Both operands within `distance` words of each other (in order when `ordered`)."""

    left: Node
    right: Node
    distance: int
    ordered: bool = False


@dataclass(frozen=True)
class Field:
    """Restrict the child's terms to one field: title or text."""

    field: str
    child: Node


@dataclass(frozen=True)
class Lang:
    """The article's language is `code` (ISO 639-1, e.g. ru)."""

    code: str


@dataclass(frozen=True)
class Entity:
    """A linked entity constraint: kind is entity | person | org | place | office."""

    kind: str
    value: str


@dataclass(frozen=True)
class Weighted:
    """Fires when the weights of the matching items add up to at least `threshold`."""

    threshold: float
    items: tuple[tuple[Node, float], ...]


Node = Term | And | Or | Not | Near | Field | Lang | Entity | Weighted

KEYWORD_RE = re.compile(r"^(AND|OR|NOT|O?NEAR(/.*)?|SCORE>=.*)$")
BARE_RE = re.compile(r'^[^\s()",^:=~][^\s()",^:]*$')


def is_span(node: Node) -> bool:
    """True for nodes that have word positions, so NEAR can take them as operands."""
    if isinstance(node, Term | Near):
        return True
    if isinstance(node, Field):
        return is_span(node.child)
    if isinstance(node, Or):
        return all(is_span(c) for c in node.children)
    return False


def fmt_number(value: float) -> str:
    """Print a weight or threshold without a needless `.0`."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _quote(text: str) -> str:
    if BARE_RE.match(text) and not KEYWORD_RE.match(text):
        return text
    return f'"{text}"'


def _wrap(node: Node, min_prec: int) -> str:
    text = to_query(node)
    return f"({text})" if _prec(node) < min_prec else text


def _prec(node: Node) -> int:
    if isinstance(node, Or):
        return 1
    if isinstance(node, And):
        return 2
    if isinstance(node, Not):
        return 3
    if isinstance(node, Near):
        return 4
    return 5


def to_query(node: Node) -> str:
    """The canonical text of a tree: upper-case operators, explicit AND, minimal quoting."""
    if isinstance(node, Term):
        return CASE_MARKERS[node.case] + _quote(node.text)
    if isinstance(node, And):
        return " AND ".join(_wrap(c, 3) for c in node.children)
    if isinstance(node, Or):
        # AND inside OR is wrapped although it binds tighter: easier to read for analysts.
        return " OR ".join(_wrap(c, 3) for c in node.children)
    if isinstance(node, Not):
        return "NOT " + _wrap(node.child, 3)
    if isinstance(node, Near):
        op = ("ONEAR" if node.ordered else "NEAR") + f"/{node.distance}"
        # Left-associative chains print without parentheses on the left only.
        return f"{_wrap(node.left, 4)} {op} {_wrap(node.right, 5)}"
    if isinstance(node, Field):
        return f"{node.field}:{_wrap(node.child, 5)}"
    if isinstance(node, Lang):
        return f"lang:{node.code}"
    if isinstance(node, Entity):
        return f"{node.kind}:{_quote(node.value)}"
    if isinstance(node, Weighted):
        items = ", ".join(
            _wrap(item, 5) + ("" if weight == 1 else f"^{fmt_number(weight)}") for item, weight in node.items
        )
        return f"SCORE>={fmt_number(node.threshold)}({items})"
    raise TypeError(f"not a query node: {node!r}")


def iter_terms(node: Node, *, negated: bool = False) -> list[tuple[Term, bool]]:
    """Every Term in the tree with whether it sits under a NOT."""
    out: list[tuple[Term, bool]] = []
    if isinstance(node, Term):
        out.append((node, negated))
    elif isinstance(node, And | Or):
        for c in node.children:
            out.extend(iter_terms(c, negated=negated))
    elif isinstance(node, Not):
        out.extend(iter_terms(node.child, negated=not negated))
    elif isinstance(node, Near):
        out.extend(iter_terms(node.left, negated=negated))
        out.extend(iter_terms(node.right, negated=negated))
    elif isinstance(node, Field):
        out.extend(iter_terms(node.child, negated=negated))
    elif isinstance(node, Weighted):
        for item, _w in node.items:
            out.extend(iter_terms(item, negated=negated))
    return out
