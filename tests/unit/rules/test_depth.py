"""No query is too deep for any walk: the parser counts every nesting, and every walk is bounded.

The walks over rule trees: the parser, the canonical printer, the term listing (validation), the NEAR
operand check, the compiler's anchors and emission, and the C evaluator's program. Each either runs on an
explicit stack or refuses a tree deeper than a parsed query can be, with a RuleSyntaxError (never a
RecursionError, never a crash of the C stack).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.rules import MatchDocument, RuleSyntaxError, WatchSpec, compile_watches, parse, program, validate
from shared.rules._core import MAX_NODE_DEPTH, Core
from shared.rules.ast import (
    MAX_DEPTH,
    MAX_TREE_DEPTH,
    Field,
    Near,
    Node,
    Not,
    Term,
    depth,
    is_span,
    iter_terms,
    to_query,
)
from shared.rules.program import Builder, has_anchor

# One opener per kind of nesting, with what closes it (NEAR links and prefixes need no closer).
NESTINGS = {
    "group": ("(", ")"),
    "not": ("NOT ", ""),
    "title": ("title:", ""),
    "text": ("text:", ""),
    "score": ("SCORE>=1(", ")"),
}


def nested(kind: str, levels: int) -> str:
    opener, closer = NESTINGS[kind]
    return opener * levels + "sco" + closer * levels


@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_every_kind_of_nesting_counts_towards_the_limit(kind: str) -> None:
    # The whole query is one level (the top OR): MAX_DEPTH - 1 more are allowed, one more is refused.
    tree = parse(nested(kind, MAX_DEPTH - 1))
    assert depth(tree) <= MAX_TREE_DEPTH
    with pytest.raises(RuleSyntaxError, match="nested too deeply") as err:
        parse(nested(kind, MAX_DEPTH))
    assert err.value.position > 0


def test_470_title_prefixes_are_refused_at_the_prefix_past_the_limit() -> None:
    query = "title:" * 470 + "sco"
    with pytest.raises(RuleSyntaxError, match="nested too deeply") as err:
        parse(query)
    assert err.value.position == len("title:") * (MAX_DEPTH - 1)


def test_a_near_chain_counts_one_level_per_link() -> None:
    chain = " NEAR/2 ".join(f"w{i}" for i in range(MAX_DEPTH))  # MAX_DEPTH - 1 links
    assert depth(parse(chain)) == MAX_DEPTH
    with pytest.raises(RuleSyntaxError, match="nested too deeply"):
        parse(chain + " NEAR/2 last")


def test_mixed_nesting_is_counted_together() -> None:
    query = "(NOT title:" * 25 + "sco" + ")" * 25
    with pytest.raises(RuleSyntaxError, match="nested too deeply"):
        parse(query)


def _deep(levels: int) -> Node:
    """A tree built by hand, deeper than any query could make (walks must not recurse through it)."""
    node: Node = Term("sco")
    for i in range(levels):
        node = Field("title", node) if i % 3 else Near(node, Term(f"w{i}"), 1) if i % 2 else Not(node)
    return node


def test_printer_and_term_listing_take_any_depth() -> None:
    tree = _deep(5000)
    assert depth(tree) == 5001
    text = to_query(tree)
    assert text.count("title:") == sum(1 for i in range(5000) if i % 3)
    assert len(iter_terms(tree)) == 1 + sum(1 for i in range(5000) if not i % 3 and i % 2)
    assert not is_span(tree)  # a NOT at the top
    assert is_span(_deep_span(5000))


def _deep_span(levels: int) -> Node:
    node: Node = Term("sco")
    for _ in range(levels):
        node = Field("text", node)
    return node


def test_the_compiler_refuses_a_hand_built_tree_deeper_than_a_query_can_be() -> None:
    for walk in (Builder().add_rule, has_anchor):
        with pytest.raises(RuleSyntaxError, match="nested too deeply"):
            walk(_deep(MAX_TREE_DEPTH + 1))


def test_the_c_evaluator_refuses_a_program_nested_too_deep_or_cyclic() -> None:
    e = compile_watches([WatchSpec(1, "a", "NOT alpha")])
    p = e.program
    n = MAX_NODE_DEPTH + 1  # a chain of NOT nodes, each over the one before
    deep = program.Program(
        **{
            **p.__dict__,
            "op": [program.OP_TRUE] + [program.OP_NOT] * n,
            "na": [0, *range(n)],
            "nb": [0] * (n + 1),
            "nc": [0] * (n + 1),
            "nd": [0] * (n + 1),
            "nw": [0.0] * (n + 1),
            "root": [n],
            "r_node0": [0],
        }
    )
    with pytest.raises(ValueError, match="nested over"):
        Core(deep)
    cyclic = program.Program(**{**p.__dict__, "op": [program.OP_NOT], "na": [0], "nb": [0], "nc": [0]})
    with pytest.raises(ValueError, match="a cycle"):
        Core(cyclic)


# --- fuzzing: random query text, deep nesting included ------------------------------------------------------

TOKENS = [
    "(",
    ")",
    "NOT ",
    "title:",
    "text:",
    "SCORE>=1(",
    ",",
    "^2",
    " NEAR/3 ",
    " ONEAR/1 ",
    " OR ",
    " AND ",
    "sco ",
    '"shanghai summit" ',
    "lang:en ",
    "person:Xi ",
    "sanction* ",
    "=SCO ",
    " ",
]
nesting = st.sampled_from(["(", "NOT ", "title:", "text:", "SCORE>=1(", "a NEAR/2 "])


@st.composite
def queries(draw: st.DrawFn) -> str:
    """Token soup, or a deep run of openers around a term with its closers (often past the limit)."""
    if draw(st.booleans()):
        return "".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40)))
    openers = draw(st.lists(nesting, min_size=1, max_size=600))
    closers = "".join(")" for o in reversed(openers) if o.endswith("("))
    return "".join(openers) + draw(st.sampled_from(["sco", '"a b"', "x OR y"])) + closers


def _all_walks(query: str) -> None:
    try:
        tree = parse(query)
    except RuleSyntaxError:
        return
    assert depth(tree) <= MAX_TREE_DEPTH
    assert parse(to_query(tree)) == tree
    validate(query)
    engine = compile_watches([WatchSpec(1, "fuzz", query)])
    engine.match(MatchDocument("SCO a b summit", "shanghai summit sco x y a b sanctions", "en", None, ()))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_no_query_makes_any_walk_recurse_without_bound(query: str) -> None:
    _all_walks(query)
