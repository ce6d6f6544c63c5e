"""Document text normalised through the C table equals the general path (text.py `normalize_general`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rules._core import normalize_table
from shared.rules.text import normalize, normalize_general

SPECIAL = ["Σ", "ΟΔΟΣ", "İ", "ẞ", "ß", "µ", "ÿ", "Ÿ", "ǅ", "ﬁ", "’", "—", "_", "\xa0", "\u3000", "峰會", "😀"]


def test_every_bmp_character_alone_and_between_letters() -> None:
    for c in range(0x10000):
        ch = chr(c)
        for text in (ch, f"A{ch}b", f"{ch}Σ {ch}"):
            try:
                expected = normalize_general(text)
            except UnicodeEncodeError:  # surrogates: the general path fails on them, and so does normalize
                continue
            assert normalize(text) == expected, hex(c)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8")), max_size=40).map("".join))
def test_texts_normalise_as_the_general_path(text: str) -> None:
    expected = normalize_general(text)
    got = normalize(text)
    assert got == expected and len(got) == len(text)
    assert got.isascii() == expected.isascii()  # the same canonical string (kind), not only equal


def test_surrogates_still_fail() -> None:
    for text in ("a\ud800", "Ж\udfff"):
        try:
            normalize(text)
        except UnicodeEncodeError:
            continue
        raise AssertionError("a lone surrogate was normalised")


def test_latin1_and_bmp_texts_take_the_table() -> None:
    normalize("x")  # the table is installed on first use
    assert normalize_table("Summit, in Astana—“SCO”") == "summit  in astana  sco "
    assert normalize_table("Саммит ШОС") == "саммит шос" and normalize_table("ΟΔΟΣ") is None
