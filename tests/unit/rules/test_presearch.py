"""Presearch and evaluation details: separators in phrases, SCORE presearch, required sets, lazy results."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.rules import MatchDocument, MatchResult, TermHit, WatchSpec, compile_watches
from shared.rules.backtest import BacktestWindowError, parse_bound, window
from shared.rules.stats import document_frequencies


def engine(*queries: str, **kw: object):  # type: ignore[no-untyped-def]
    return compile_watches([WatchSpec(i, f"w{i}", q) for i, q in enumerate(queries)], **kw)  # type: ignore[arg-type]


def names(e, title: str = "", text: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    return [m.watch_name for m in e.match(MatchDocument(title=title, text=text))]


@pytest.mark.parametrize(
    "text",
    [
        "Shanghai Cooperation Organisation",
        "Shanghai  Cooperation\nOrganisation",
        "Shanghai - Cooperation, Organisation",
    ],
)
def test_phrases_match_whatever_run_of_separators_joins_the_words(text: str) -> None:
    assert names(engine('"Shanghai Cooperation Organisation"'), text=text) == ["w0"]


def test_phrase_case_rules_apply_per_word() -> None:
    e = engine('"SCO summit"')
    assert names(e, text="the SCO  Summit opened") == ["w0"]
    assert names(e, text="the sco summit opened") == []
    hits = e.match(MatchDocument(title="", text="the SCO  Summit opened"))[0].terms
    assert [(h.start, h.end, h.text) for h in hits] == [(4, 15, "SCO  Summit")]


def test_wildcards_inside_phrases_and_alone() -> None:
    e = engine('"foreign minist*"', "sanction*")
    assert names(e, text="Foreign  ministries met; new sanctions") == ["w0", "w1"]
    assert names(e, text="foreign policy, sanctity") == []


def test_stems_match_rule_words_and_other_words_alike() -> None:
    # "sanctions" is a rule word (its stems are listed when compiling); "sanctioned" is not (screened).
    e = engine("sanction*", "sanctions", '"new sanctions"', "санкци*", "санкции")
    assert names(e, text="new sanctions") == ["w0", "w1", "w2"]
    assert names(e, text="sanctioned sanctity") == ["w0"]
    assert names(e, text="санкции") == ["w3", "w4"]
    assert names(e, text="санкциями") == ["w3"]
    assert names(e, text="sanct санк") == []


def test_score_rules_need_enough_weight_not_just_one_term() -> None:
    e = engine("SCORE>=4(alpha^3, beta^1, gamma^1, delta^2)")
    assert names(e, text="alpha alone") == []
    assert names(e, text="alpha and beta") == ["w0"]
    assert names(e, text="beta gamma delta") == ["w0"]
    assert e.match(MatchDocument(title="", text="alpha beta delta"))[0].score == 6.0


def test_scores_are_of_their_own_article_when_read_after_later_matches() -> None:
    # Scores are computed on first access, from the article the result came from.
    e = engine("SCORE>=4(alpha^3, beta^1, gamma^1, delta^2)", "alpha OR beta OR gamma")
    first = e.match(MatchDocument(title="", text="alpha beta delta"))
    second = e.match(MatchDocument(title="", text="beta gamma delta"))
    third = e.match(MatchDocument(title="gamma", text="beta"))
    assert [m.score for m in third] == [2.0]
    assert [m.score for m in second] == [4.0, 2.0]
    assert [m.score for m in first] == [6.0, 2.0]


def test_every_required_part_must_be_present() -> None:
    e = engine("(alpha OR beta) AND (gamma OR delta) AND epsilon", "alpha NOT gamma")
    assert names(e, text="alpha gamma epsilon") == ["w0"]
    assert names(e, text="beta delta") == []
    assert names(e, text="alpha beta") == ["w1"]


def test_not_only_and_lang_only_rules_are_never_lost() -> None:
    e = engine("NOT football", "lang:ru")
    assert names(e, text="election news") == ["w0"]
    assert [m.watch_name for m in e.match(MatchDocument(title="", text="футбол", language="ru"))] == [
        "w0",
        "w1",
    ]


def test_results_build_terms_and_snippet_on_first_use() -> None:
    e = engine("summit AND SCO")
    got = e.match(MatchDocument(title="SCO summit", text="Leaders arrive for the SCO summit in Astana."))[0]
    assert got.score == 2.0
    assert [(t.term, t.field, t.start) for t in got.terms] == [
        ("SCO", "title", 0),
        ("summit", "title", 4),
        ("SCO", "text", 23),
        ("summit", "text", 27),
    ]
    assert "**SCO** **summit**" in got.snippet
    eager = MatchResult(got.watch_id, got.watch_name, got.score, got.terms, got.snippet)
    assert eager == got and "score=2.0" in repr(got)
    given = MatchResult(1, "w", 1.5, [TermHit("SCO", "title", 0, 3, "SCO")], "SCO story")
    assert given.terms[0].text == "SCO" and given.snippet == "SCO story"


def test_frequencies_change_anchors_not_results() -> None:
    freq = document_frequencies(["alpha beta", "alpha gamma", "alpha", "delta"])
    assert freq.word("alpha") == 0.75
    assert freq.cost(("alpha", "beta")) == 0.25  # adjacent pairs are counted too
    assert freq.cost(("beta", "alpha")) < freq.cost(("alpha", "beta"))  # never seen in that order
    queries = ["(alpha OR beta) AND delta", '"alpha beta" OR gamm*']
    texts = ["alpha delta", "alpha beta", "gamma", "beta"]
    plain, informed = engine(*queries), engine(*queries, frequencies=freq)
    assert [names(plain, text=t) for t in texts] == [names(informed, text=t) for t in texts]


def test_backtest_window_bounds() -> None:
    assert parse_bound("2024-05-01", end=False) == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_bound("2024-05-01", end=True) == datetime(2024, 5, 2, tzinfo=UTC)  # the whole day
    assert parse_bound("2024-05-01T10:00:00+02:00", end=True) == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert parse_bound(date(2024, 5, 1), end=False) == datetime(2024, 5, 1, tzinfo=UTC)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert window(None, None, now=now) == (datetime(2024, 5, 2, tzinfo=UTC), now)
    with pytest.raises(BacktestWindowError):
        parse_bound("last week", end=False)
    with pytest.raises(BacktestWindowError):
        window("2024-05-02", "2024-05-01")


def test_presearch_passes_every_match_and_skips_rules_whose_anchor_is_absent() -> None:
    queries = [
        "(alpha OR beta) AND (gamma OR delta)",
        '"red sea" AND (ships OR tankers)',
        "alpha beta gamma delta epsilon",
        "(alpha OR beta) NOT gamma",
        "title:alpha AND beta",
        "SCO AND summit",  # capitals: case is checked on the text
        "alph* AND beta",
        "(alpha OR beta*) AND gamma",
        "zeta NEAR/2 (eta OR theta)",
        "SCORE>=3(alpha^2, iota^2)",
        "NOT alpha",
    ]
    e = engine(*queries)
    docs = [
        "alpha gamma",
        "Beta and delta",
        "alpha beta gamma delta epsilon",
        "the red sea ships",
        "red, sea; tankers",
        "alphabet betamax gamma",
        "alpha beta gamma delta epsilon",
        "sco summit",
        "theta zeta",
        "iota",
        "nothing at all",
    ]
    for text in docs:
        doc = MatchDocument(title="", text=text)
        cands = e.candidates(doc)
        assert cands == sorted(cands)
        matched = {int(m.watch_id) for m in e.match(doc)}
        assert matched <= set(cands), text
        assert 10 in cands  # NOT-only: no anchor, always evaluated
    # Nothing anchors "nothing at all": only the rule without an anchor is a candidate.
    assert e.candidates(MatchDocument(title="", text="nothing at all")) == [10]
    # Every required group must have a key present: "zeta" alone does not bring up "zeta NEAR/2 (eta OR
    # theta)", and "theta" alone does not bring up the SCORE rule that needs two keys.
    assert e.candidates(MatchDocument(title="", text="zeta")) == [10]
    assert e.candidates(MatchDocument(title="", text="zeta theta")) == [8, 10]
    assert e.candidates(MatchDocument(title="", text="iota")) == [10]
    assert e.candidates(MatchDocument(title="", text="iota alpha")) == [3, 9, 10]
    # A phrase is anchored on its rarest pair of adjacent words, not on a word of it.
    p = engine('"red sea" AND ships')
    assert p.candidates(MatchDocument(title="", text="the sea and red ships")) == []
    assert p.candidates(MatchDocument(title="", text="the Red, Sea ships")) == [0]
