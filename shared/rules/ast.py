"""Query syntax tree and its canonical printer.

Nodes are frozen dataclasses, so two parses of the same query compare equal and
`parse(to_query(tree)) == tree` holds for every tree the parser can produce.

Walks over a tree here are iterative (an explicit stack), so no tree is too deep to print or list; the
compiler's walks recurse, bounded by `check_depth`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from shared.rules.errors import RuleSyntaxError

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

# Nesting levels a query may have: each group, NOT, field prefix, NEAR link and SCORE counts one.
MAX_DEPTH = 60
# Nodes on one root-to-leaf path: a group or SCORE level adds at most three (an OR, an AND, a SCORE),
# NOT, a field prefix or a NEAR link one.
MAX_TREE_DEPTH = 3 * MAX_DEPTH + 1

KEYWORD_RE = re.compile(r"^(AND|OR|NOT|O?NEAR(/.*)?|SCORE>=.*)$")
BARE_RE = re.compile(r'^[^\s()",^:=~][^\s()",^:]*$')


def children(node: Node) -> tuple[Node, ...]:
    """The direct child nodes of a node (none for a leaf)."""
    if isinstance(node, And | Or):
        return node.children
    if isinstance(node, Not | Field):
        return (node.child,)
    if isinstance(node, Near):
        return (node.left, node.right)
    if isinstance(node, Weighted):
        return tuple(item for item, _w in node.items)
    return ()


def depth(node: Node) -> int:
    """Nodes on the longest root-to-leaf path (a leaf alone is 1). Iterative: it guards the recursive
    walks, so it must not recurse itself; the common kinds first (it runs twice per rule)."""
    deepest = 0
    stack = [(node, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        n, d = pop()
        if d > deepest:
            deepest = d
        if isinstance(n, (Term, Lang, Entity)):
            continue
        d += 1
        if isinstance(n, (And, Or)):
            for c in n.children:
                push((c, d))
        elif isinstance(n, (Not, Field)):
            push((n.child, d))
        else:
            for c in children(n):
                push((c, d))
    return deepest


def check_depth(node: Node) -> None:
    """Raise RuleSyntaxError for a tree deeper than any parsed query can be (recursive walks rely on it)."""
    if depth(node) > MAX_TREE_DEPTH:
        raise RuleSyntaxError(
            "query nested too deeply", position=0, expected=f"at most {MAX_DEPTH} levels of nesting"
        )


def is_span(node: Node) -> bool:
    """True for nodes that have word positions, so NEAR can take them as operands."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Field):
            stack.append(n.child)
        elif isinstance(n, Or):
            stack.extend(n.children)
        elif not isinstance(n, Term | Near):
            return False
    return True


def fmt_number(value: float) -> str:
    """Print a weight or threshold without a needless `.0`."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _quote(text: str) -> str:
    if BARE_RE.match(text) and not KEYWORD_RE.match(text):
        return text
    return f'"{text}"'


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


_Part = str | tuple[Node, int]  # literal text, or a node printed in parentheses below that precedence


def _joined(nodes: tuple[Node, ...], sep: str, prec: int) -> list[_Part]:
    parts: list[_Part] = []
    for i, c in enumerate(nodes):
        if i:
            parts.append(sep)
        parts.append((c, prec))
    return parts


def _parts(node: Node) -> list[_Part]:
    if isinstance(node, Term):
        return [CASE_MARKERS[node.case] + _quote(node.text)]
    if isinstance(node, And):
        return _joined(node.children, " AND ", 3)
    if isinstance(node, Or):
        # AND inside OR is wrapped although it binds tighter: easier to read for analysts.
        return _joined(node.children, " OR ", 3)
    if isinstance(node, Not):
        return ["NOT ", (node.child, 3)]
    if isinstance(node, Near):
        op = ("ONEAR" if node.ordered else "NEAR") + f"/{node.distance}"
        # Left-associative chains print without parentheses on the left only.
        return [(node.left, 4), f" {op} ", (node.right, 5)]
    if isinstance(node, Field):
        return [f"{node.field}:", (node.child, 5)]
    if isinstance(node, Lang):
        return [f"lang:{node.code}"]
    if isinstance(node, Entity):
        return [f"{node.kind}:{_quote(node.value)}"]
    if isinstance(node, Weighted):
        parts: list[_Part] = [f"SCORE>={fmt_number(node.threshold)}("]
        for i, (item, weight) in enumerate(node.items):
            parts += [", "] if i else []
            parts.append((item, 5))
            parts += [] if weight == 1 else [f"^{fmt_number(weight)}"]
        return [*parts, ")"]
    raise TypeError(f"not a query node: {node!r}")


def to_query(node: Node) -> str:
    """The canonical text of a tree: upper-case operators, explicit AND, minimal quoting."""
    out: list[str] = []
    stack: list[_Part] = [(node, 0)]
    while stack:
        part = stack.pop()
        if isinstance(part, str):
            out.append(part)
            continue
        n, min_prec = part
        parts = _parts(n)
        if _prec(n) < min_prec:
            parts = ["(", *parts, ")"]
        stack.extend(reversed(parts))
    return "".join(out)


def _walk_terms(node: Node) -> Iterator[tuple[Term, bool]]:
    stack = [(node, False)]
    while stack:
        n, negated = stack.pop()
        if isinstance(n, Term):
            yield n, negated
        else:
            flip = isinstance(n, Not)
            stack.extend((c, negated != flip) for c in reversed(children(n)))


def iter_terms(node: Node, *, negated: bool = False) -> list[tuple[Term, bool]]:
    """Every Term in the tree, in query order, with whether it sits under a NOT."""
    return [(t, neg != negated) for t, neg in _walk_terms(node)]
