"""Parser: grammar, canonical form, positioned errors."""

from __future__ import annotations

import pytest

from shared.rules import RuleSyntaxError, canonical, parse, validate
from shared.rules.ast import And, Entity, Field, Lang, Near, Not, Or, Term, Weighted


def test_implicit_and_and_precedence() -> None:
    assert parse("a b") == And((Term("a"), Term("b")))
    assert parse("a OR b c") == Or((Term("a"), And((Term("b"), Term("c")))))
    assert parse("a NOT b") == And((Term("a"), Not(Term("b"))))
    assert parse("NOT a NEAR/2 b") == Not(Near(Term("a"), Term("b"), 2))


def test_lower_case_operators_are_words() -> None:
    assert parse("a or b") == And((Term("a"), Term("or"), Term("b")))
    assert any("operators are upper case" in w for w in validate("a or b").warnings)


def test_phrases_fields_entities_weights() -> None:
    assert parse('title:"Shanghai  Cooperation"') == Field("title", Term("Shanghai Cooperation"))
    assert parse("=sco ~RATS") == And((Term("sco", "exact"), Term("RATS", "ignore")))
    assert parse('entity:"Xi Jinping" lang:ZH') == And((Entity("entity", "Xi Jinping"), Lang("zh")))
    assert parse("SCORE>=2.5(SCO^2, (a OR b)^-1, c)") == Weighted(
        2.5, ((Term("SCO"), 2.0), (Or((Term("a"), Term("b"))), -1.0), (Term("c"), 1.0))
    )
    assert parse("a ONEAR/3 (b OR c)") == Near(Term("a"), Or((Term("b"), Term("c"))), 3, ordered=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SCO   summit", "SCO AND summit"),
        ("(a OR (b OR c)) d", "(a OR b OR c) AND d"),
        ("a OR b AND c", "a OR (b AND c)"),
        ('"sco" NOT ("SCO Group")', 'sco AND NOT "SCO Group"'),
        ("x SCORE>=1(y^1)", "x AND SCORE>=1(y)"),
        ('person:Putin office:"President of Russia"', 'person:Putin AND office:"President of Russia"'),
        ('"AND"', '"AND"'),
    ],
)
def test_canonical(query: str, expected: str) -> None:
    assert canonical(query) == expected
    assert canonical(expected) == expected


@pytest.mark.parametrize(
    ("query", "position", "expected_part"),
    [
        ("", 0, "a term"),
        ("a AND", 5, "a term"),
        ("(a OR b", 7, "')'"),
        ("a)", 1, "end of query"),
        ('x "abc', 2, "closing '\"'"),
        ("sa*", 0, "at least 3 characters"),
        ("abc *x", 4, "a word before '*'"),
        ("foo:bar", 0, "one of title:"),
        ("a NEAR/x b", 2, "NEAR/n"),
        ("(a AND b) NEAR/2 c", 0, "a term or phrase"),
        ("a NEAR/2 lang:en", 9, "a term or phrase"),
        ("lang:english", 5, "code"),
        ("SCORE>=1(a b", 12, "closing SCORE"),
        ("上*", 1, "a word"),
        ("a ,", 2, "end of query"),
    ],
)
def test_errors_name_position_and_expectation(query: str, position: int, expected_part: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse(query)
    err = info.value
    assert err.position == position, str(err)
    assert expected_part in err.expected
    assert f"position {position}" in str(err)
    assert isinstance(err, ValueError)


def test_validation_lists_terms_and_warnings() -> None:
    v = validate('SCO OR "Shanghai Cooperation" NOT Unix the')
    assert v.canonical == 'SCO OR ("Shanghai Cooperation" AND NOT Unix AND the)'
    assert v.terms == ["SCO", "Shanghai Cooperation", "Unix", "the"]
    assert any("'the' is so common" in w for w in v.warnings)
    assert any("no required term" in w for w in validate("NOT football").warnings)
    assert validate("SCO summit").warnings == []


def test_depth_limit() -> None:
    with pytest.raises(RuleSyntaxError, match="nested too deeply"):
        parse("(" * 200 + "a" + ")" * 200)
