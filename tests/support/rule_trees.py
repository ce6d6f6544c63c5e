"""Hypothesis strategies for watch-rule trees, shared by the parser and engine property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from shared.rules.ast import And, Field, Node, Not, Or, Term


@st.composite
def terms(draw: st.DrawFn, words: st.SearchStrategy[str], cases: list[str]) -> Term:
    """A term of one to three words, with one of the case modes."""
    chosen = draw(st.lists(words, min_size=1, max_size=3))
    return Term(" ".join(chosen), draw(st.sampled_from(cases)))


def flat(kind: type[And] | type[Or], children: list[Node]) -> Node:
    """AND or OR of the children, nested ones of the same kind merged (as the parser builds them)."""
    out: list[Node] = []
    for c in children:
        out.extend(c.children if isinstance(c, kind) else (c,))
    return kind(tuple(out))


def combinations(
    children: st.SearchStrategy[Node], *, near: st.SearchStrategy[Node], weighted: st.SearchStrategy[Node]
) -> st.SearchStrategy[Node]:
    """AND, OR, NOT and field scopes over `children`, and the caller's NEAR and SCORE strategies."""
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda cs: flat(And, cs)),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: flat(Or, cs)),
        children.map(Not),
        near,
        st.builds(Field, st.sampled_from(["title", "text"]), children),
        weighted,
    )
