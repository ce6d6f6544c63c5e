"""The C matcher and its Python compiler agree on op codes, CJK ranges and limits."""

from __future__ import annotations

import re

import pytest

from shared.rules import MatchDocument, WatchSpec, compile_watches, program
from shared.rules._core import OPS, Core, Scratch, is_cjk_char
from shared.rules.text import CJK, TOKEN_RE


def test_op_codes_match_the_compiler() -> None:
    for name, code in OPS.items():
        assert getattr(program, f"OP_{name.upper()}") == code, name


def test_cjk_ranges_match_the_query_tokenizer() -> None:
    """A character is a word of its own in documents (C) exactly when it is in queries (TOKEN_RE)."""
    cjk = re.compile(f"[{CJK}]")
    for cp in range(0x2E00, 0x30000):
        ch = chr(cp)
        assert is_cjk_char(ch) == bool(cjk.match(ch)), hex(cp)
    assert [m.group() for m in TOKEN_RE.finditer("SCO峰会")] == ["SCO", "峰", "会"]


def test_a_scratch_belongs_to_its_core() -> None:
    a = compile_watches([WatchSpec(1, "a", "alpha")])
    b = compile_watches([WatchSpec(1, "b", "beta")])
    with pytest.raises(ValueError, match="scratch of another core"):
        a._core.candidate_rules(Scratch(b._core), "", "", "beta", "beta")


def test_normalised_fields_must_keep_their_length() -> None:
    e = compile_watches([WatchSpec(1, "a", "alpha")])
    with pytest.raises(ValueError, match="length"):
        e._core.candidate_rules(e._scratch, "", "", "Alpha!", "alpha")


def test_an_inconsistent_program_is_refused() -> None:
    e = compile_watches([WatchSpec(1, "a", '"alpha beta" OR gamma*')])
    broken = program.Program(**{**e.program.__dict__, "kr_off": e.program.kr_off[:-1]})
    with pytest.raises(ValueError, match="inconsistent program"):
        Core(broken)


@pytest.mark.parametrize(
    "posting",
    [
        5 << 10 | 1 << 5,  # no such rule
        0 << 10 | 25 << 5 | 31,  # a SCORE need over what the state counts
        0 << 10 | 2 << 5,  # an anchor posting with a need
        0 << 10 | 1 << 5 | 2,  # a group other than the anchor's or SCORE's
    ],
)
def test_a_posting_out_of_range_is_refused(posting: int) -> None:
    e = compile_watches([WatchSpec(1, "a", "alpha AND beta")])
    broken = program.Program(**{**e.program.__dict__, "kr": [posting, *e.program.kr[1:]]})
    with pytest.raises(ValueError, match="inconsistent program: posting 0"):
        Core(broken)


def test_rules_with_more_groups_or_keys_than_counted_still_match_exactly() -> None:
    words = [f"w{i:02d}" for i in range(program.MAX_NEED + 6)]
    many = " AND ".join(words)
    score = "SCORE>=" + str(len(words) - 2) + "(" + ", ".join(words) + ")"
    e = compile_watches([WatchSpec(1, "and", many), WatchSpec(2, "score", score)])
    for missing in (0, 3, len(words) - 1):
        text = " ".join(w for i, w in enumerate(words) if i != missing)
        assert [m.watch_id for m in e.match(MatchDocument("", text))] == [2]
    assert [m.watch_id for m in e.match(MatchDocument("", " ".join(words[3:])))] == []
    assert [m.watch_id for m in e.match(MatchDocument("", " ".join(reversed(words))))] == [1, 2]


def test_rule_states_of_an_earlier_article_never_count() -> None:
    # States carry an 8-bit article stamp: 255 articles later the stamp comes round again, and a state
    # left then (checked and failed, or counted) must read as zero.
    e = compile_watches(
        [
            WatchSpec(1, "and", "anchorword AND beta"),
            WatchSpec(2, "score", "SCORE>=3(anchorword^1, beta^1, gamma^1)"),
        ]
    )
    for gap in (254, 255, 256, 510):
        assert e.match(MatchDocument("", "anchorword gamma")) == []
        for _ in range(gap):
            assert e.match(MatchDocument("", "filler")) == []
        assert [m.watch_id for m in e.match(MatchDocument("", "anchorword beta"))] == [1]
        assert [m.watch_id for m in e.match(MatchDocument("", "beta gamma anchorword"))] == [1, 2]


def test_c_memory_is_reported_and_grows_with_the_rules() -> None:
    small = compile_watches([WatchSpec(i, f"w{i}", f"word{i} OR other{i}") for i in range(10)])
    large = compile_watches([WatchSpec(i, f"w{i}", f"word{i} OR other{i}") for i in range(2000)])
    assert 0 < small.c_memory_bytes < large.c_memory_bytes
    # Scratch areas grow with the longest article and stay valid afterwards.
    large.match(MatchDocument("", " ".join(f"word{i}" for i in range(2000)) * 5))
    assert [m.watch_id for m in large.match(MatchDocument("", "word7 other9"))] == [7, 9]
