"""Language identification."""

from __future__ import annotations

import pytest

from shared.nlp import article_text, detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("", "und"),
        ("  12 345 ", "und"),
        ("Putin met Xi in Astana on Wednesday to discuss trade.", "en"),
        ("Путин встретился с Си Цзиньпином в Астане.", "ru"),
        ("习近平同普京举行会谈", "zh"),
        ("上合组织峰会", "zh"),
        ("Le président a parlé au parlement hier soir.", "fr"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_article_text() -> None:
    assert article_text("Title", "Body") == "Title\n\nBody"
    assert article_text("", "Body") == "Body"
