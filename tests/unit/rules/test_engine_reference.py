"""Property: the C matcher agrees with a plain Python reference evaluator of the query language.

The reference knows nothing of the presearch, keys, bitmaps or node programs: it tokenises each field
with the documented word rule (runs of letters and digits, every CJK character a word of its own),
finds every term at every token position, and evaluates the tree directly. Random rule sets are
compiled into one engine, so the presearch (anchors, SCORE counts, rules without anchors) is exercised
across rules, and random documents mix case, separators, Cyrillic and CJK.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules import MatchDocument, WatchSpec, compile_watches
from shared.rules.ast import And, Field, Lang, Near, Node, Not, Or, Term, Weighted, is_span, to_query
from shared.rules.engine import lang_ok
from shared.rules.text import TOKEN_RE, normalize, term_pattern
from tests.support.rule_trees import combinations, terms

Hit = tuple[int, int, int]  # field, first token, last token
FIELD = {"title": 0, "text": 1}


def ref_tokens(text: str) -> list[tuple[str, str]]:
    """(original, lower-cased) of every word of a field."""
    norm = normalize(text)
    return [(m.group(), norm[m.start() : m.end()]) for m in TOKEN_RE.finditer(text)]


def ref_hits(term: Term, fields: list[list[tuple[str, str]]]) -> list[Hit]:
    pattern = term_pattern(term.text, term.case)
    out = []
    for f, toks in enumerate(fields):
        for i in range(len(toks) - len(pattern) + 1):
            for j, w in enumerate(pattern):
                orig, low = toks[i + j]
                ok = low.startswith(w.norm) if w.prefix else low == w.norm
                if ok and w.cased is not None:
                    ok = orig.startswith(w.cased) if w.prefix else orig == w.cased
                if not ok:
                    break
            else:
                out.append((f, i, i + len(pattern) - 1))
    return out


def ref_spans(node: Node, fields: list[list[tuple[str, str]]], fld: int) -> list[Hit]:
    if isinstance(node, Term):
        return [h for h in ref_hits(node, fields) if fld < 0 or h[0] == fld]
    if isinstance(node, Field):
        return ref_spans(node.child, fields, FIELD[node.field])
    if isinstance(node, Or):
        return [h for c in node.children for h in ref_spans(c, fields, fld)]
    assert isinstance(node, Near)
    out = []
    for f1, s1, e1 in ref_spans(node.left, fields, fld):
        for f2, s2, e2 in ref_spans(node.right, fields, fld):
            if f1 != f2:
                continue
            after = s2 > e1 and s2 - e1 - 1 <= node.distance
            before = not node.ordered and s1 > e2 and s1 - e2 - 1 <= node.distance
            if after or before:
                out.append((f1, min(s1, s2), max(e1, e2)))
    return out


def ref_eval(node: Node, fields: list[list[tuple[str, str]]], doc: MatchDocument, fld: int = -1) -> bool:
    if isinstance(node, Term | Near):
        return bool(ref_spans(node, fields, fld))
    if isinstance(node, Field):
        return ref_eval(node.child, fields, doc, FIELD[node.field])
    if isinstance(node, And):
        return all(ref_eval(c, fields, doc, fld) for c in node.children)
    if isinstance(node, Or):
        return any(ref_eval(c, fields, doc, fld) for c in node.children)
    if isinstance(node, Not):
        return not ref_eval(node.child, fields, doc, fld)
    if isinstance(node, Lang):
        return lang_ok(doc.language, node.code)
    assert isinstance(node, Weighted)
    total = sum(w for item, w in node.items if ref_eval(item, fields, doc, fld))
    return total >= node.threshold


QUERY_WORDS = [
    "SCO",
    "summit",
    "Shanghai",
    "co-operation",
    "ШОС",
    "саммит",
    "峰会",
    "上海合作",
    "sanction*",
    "Shang*",
    "Xi",
    "2024",
    "it's",
]
DOC_WORDS = [
    "SCO",
    "sco",
    "Sco",
    "SCOTUS",
    "summit",
    "Summit",
    "SUMMIT",
    "summits",
    "Shanghai",
    "co",
    "operation",
    "Co-operation",
    "ШОС",
    "саммит",
    "Саммит",
    "上海",
    "合作",
    "峰会",
    "sanctions",
    "Sanctioned",
    "sanctity",
    "Xi",
    "2024",
    "it",
    "s",
    "the",
]
SEPARATORS = [" ", " ", " ", ", ", "-", "", "  ", ". ", "'"]


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    span = children.filter(is_span)
    return combinations(
        children,
        near=st.builds(
            Near, span, span.filter(lambda n: not isinstance(n, Near)), st.integers(0, 4), st.booleans()
        ),
        weighted=st.builds(
            Weighted,
            st.sampled_from([0.0, 1.0, 2.0, 3.0, -1.0]),
            st.lists(st.tuples(children, st.sampled_from([1.0, 2.0, -1.0])), min_size=1, max_size=4).map(
                tuple
            ),
        ),
    )


trees = st.recursive(
    st.one_of(
        terms(st.sampled_from(QUERY_WORDS), ["auto", "auto", "exact", "ignore"]),
        st.builds(Lang, st.sampled_from(["en", "zh"])),
    ),
    extend,
    max_leaves=8,
)


@st.composite
def texts(draw: st.DrawFn, max_words: int) -> str:
    words = draw(st.lists(st.sampled_from(DOC_WORDS), max_size=max_words))
    out = []
    for w in words:
        out.append(w)
        out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


docs = st.builds(
    MatchDocument,
    title=texts(6),
    text=texts(24),
    language=st.sampled_from([None, "en", "en-GB", "zh"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(trees, min_size=1, max_size=8), st.lists(docs, min_size=1, max_size=4))
def test_engine_agrees_with_the_reference_evaluator(
    rules: list[Node], documents: list[MatchDocument]
) -> None:
    engine = compile_watches([WatchSpec(i, f"w{i}", to_query(t)) for i, t in enumerate(rules)])
    for doc in documents:
        fields = [ref_tokens(doc.title), ref_tokens(doc.text)]
        expected = [i for i, t in enumerate(rules) if ref_eval(t, fields, doc)]
        got = [m.watch_id for m in engine.match(doc)]
        assert got == expected, (doc, [to_query(rules[i]) for i in set(got) ^ set(expected)])
        assert set(got) <= set(engine.candidates(doc))
        for m in engine.match(doc):
            texts_ = {"title": doc.title, "text": doc.text}
            for hit in m.terms:
                assert texts_[hit.field][hit.start : hit.end] == hit.text


def test_latin_and_cjk_words_meet_without_a_space() -> None:
    """Every CJK character is a word: "SCO峰会" holds the words SCO, 峰, 会 (and so does "SCO 峰会")."""
    engine = compile_watches(
        [WatchSpec(1, "p", '"SCO 峰会"'), WatchSpec(2, "w", "SCO"), WatchSpec(3, "c", "峰会")]
    )
    for text in ("SCO峰会开幕", "SCO 峰会开幕", "上合组织(SCO)峰会"):
        assert [m.watch_id for m in engine.match(MatchDocument("", text))] == [1, 2, 3], text
    assert [m.watch_id for m in engine.match(MatchDocument("", "SCOTUS峰会"))] == [3]


def test_many_stems_and_long_articles() -> None:
    """Thousands of wildcard stems (the Bloom filter path) and an article longer than any buffer start."""
    stems = [f"w{i:04d}x" for i in range(3000)]
    engine = compile_watches([WatchSpec(i, s, f"{s}*") for i, s in enumerate(stems)])
    text = " ".join(f"{s}{'abc' * (i % 3)}" for i, s in enumerate(stems[::7])) * 3
    got = [m.watch_id for m in engine.match(MatchDocument("", text))]
    assert got == list(range(0, 3000, 7))
    assert not engine.match(MatchDocument("", "w000 w0001 xw0002x"))


NEAR_WORDS = ["summit", "SCO", "Xi", "峰", "sanction*", "the summit"]
near_terms = st.builds(Term, st.sampled_from(NEAR_WORDS), st.sampled_from(["auto", "ignore"]))
near_operands = st.one_of(
    near_terms, st.lists(near_terms, min_size=2, max_size=3).map(lambda c: Or(tuple(c)))
)
near_trees = st.recursive(
    near_operands,
    lambda inner: st.builds(Near, inner, near_operands, st.integers(0, 3), st.booleans()),
    max_leaves=4,
).filter(lambda n: isinstance(n, Near))
near_docs = st.builds(
    MatchDocument,
    title=st.just(""),
    text=st.lists(
        st.sampled_from(["summit", "SCO", "sco", "Xi", "峰", "sanctions", "the", "of"]), max_size=12
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(near_trees, min_size=1, max_size=6), st.lists(near_docs, min_size=1, max_size=4))
def test_proximity_agrees_with_the_reference(rules: list[Node], documents: list[MatchDocument]) -> None:
    """NEAR/ONEAR chains over a small vocabulary, so that distances at the boundary come up often."""
    engine = compile_watches([WatchSpec(i, f"w{i}", to_query(t)) for i, t in enumerate(rules)])
    for doc in documents:
        fields = [ref_tokens(doc.title), ref_tokens(doc.text)]
        expected = [i for i, t in enumerate(rules) if ref_eval(t, fields, doc)]
        assert [m.watch_id for m in engine.match(doc)] == expected, (doc, [to_query(t) for t in rules])


FIXED_RULES = [
    "SCO",
    '"Shanghai Cooperation Organisation" OR ШОС OR 上海合作组织',
    "sanction* NOT sanctity",
    "title:summit OR text:(Xi NEAR/3 Putin)",
    '"Ⅻ summit" OR İstanbul OR straße OR Ὀδυσσεύς',
    "~sco ONEAR/1 峰会",
    "SCORE>=2(alpha, beta, gamma, δέλτα^2)",
]
unicode_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=4),
        st.sampled_from(
            [
                "SCO",
                "sco",
                "Sco",
                "ШОС",
                "上海合作组织",
                "峰会",
                "Xi",
                "Putin",
                "sanctions",
                "sanctity",
                "İstanbul",
                "Σ",
                "ς",
                "straße",
                "ΟΔΟΣ",
                "Shanghai",
                "Cooperation",
                "Organisation",
                "summit",
                "alpha",
                "beta",
                "δέλτα",
                "Ⅻ",
                "-",
                "—",
                ",",
                ".",
                "\n",
                "\t",
            ]
        ),
    ),
    max_size=16,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(unicode_text, unicode_text)
def test_any_unicode_text_agrees_with_the_reference(title: str, text: str) -> None:
    """Arbitrary Unicode (every plane and string width) through the C tokenizer, against the reference."""
    engine = compile_watches([WatchSpec(i, f"w{i}", q) for i, q in enumerate(FIXED_RULES)])
    doc = MatchDocument(title=title, text=text)
    fields = [ref_tokens(title), ref_tokens(text)]
    from shared.rules import parse

    expected = [i for i, q in enumerate(FIXED_RULES) if ref_eval(parse(q), fields, doc)]
    got = engine.match(doc)
    assert [m.watch_id for m in got] == expected
    for m in got:
        for hit in m.terms:
            assert {"title": title, "text": text}[hit.field][hit.start : hit.end] == hit.text


def test_a_word_with_more_candidate_stems_than_are_screened() -> None:
    """Twenty stems that are all prefixes of one word: past 16 candidates the word is scanned whole."""
    word = "abcdefghijklmnopqrstuvwxyz"
    stems = [word[:n] for n in range(3, 23)]
    engine = compile_watches([WatchSpec(i, s, f"{s}*") for i, s in enumerate(stems)])
    assert [m.watch_id for m in engine.match(MatchDocument("", f"x {word.upper()} y"))] == list(range(20))
    assert [m.watch_id for m in engine.match(MatchDocument("", "abcdefghij"))] == list(range(8))
