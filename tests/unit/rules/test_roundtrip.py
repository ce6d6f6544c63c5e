"""Property: parse(print(tree)) == tree for every tree the parser produces."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules import canonical, parse
from shared.rules.ast import Entity, Lang, Near, Node, Weighted, is_span, to_query
from tests.support.rule_trees import combinations, terms

WORDS = st.sampled_from(
    [
        "SCO",
        "summit",
        "Shanghai",
        "co-operation",
        "ШОС",
        "саммит",
        "上海合作组织",
        "峰会",
        "and",
        "NEAR",
        "U.S.",
        "Xi",
        "sanction*",
        "Шанхайск*",
        "it's",
        "2024",
        "OR",
    ]
)


leaves = st.one_of(
    terms(WORDS, ["auto", "exact", "ignore"]),
    st.builds(Lang, st.sampled_from(["en", "ru", "zh", "zh-cn"])),
    st.builds(
        Entity,
        st.sampled_from(["entity", "person", "org", "place", "office"]),
        st.sampled_from(["Xi Jinping", "Putin", "President of Russia", "ШОС", "*"]),
    ),
)


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    span = children.filter(is_span)
    return combinations(
        children,
        near=st.builds(
            Near,
            span,
            span.filter(lambda n: not isinstance(n, Near)) | span.map(lambda n: n),
            st.integers(0, 20),
            st.booleans(),
        ),
        weighted=st.builds(
            Weighted,
            st.sampled_from([0.0, 1.0, 2.5, -1.0, 3.0]),
            st.lists(
                st.tuples(children, st.sampled_from([1.0, 2.0, -0.5, 10.0])), min_size=1, max_size=3
            ).map(tuple),
        ),
    )


trees = st.recursive(leaves, extend, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(trees)
def test_print_then_parse_gives_the_same_tree(tree: Node) -> None:
    text = to_query(tree)
    assert parse(text) == tree, text
    assert canonical(text) == text
