"""Gazetteer linking rules on an in-memory knowledge base (no model, no files)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.nlp.kb import KnowledgeBase
from shared.nlp.linker import Linker

DOC = {
    "entities": [
        {
            "id": "Q7747",
            "type": "PERSON",
            "name": "Vladimir Putin",
            "aliases": {"en": ["Vladimir Putin", "Putin"], "ru": ["Владимир Путин", "Путин"], "zh": ["普京"]},
        },
        {
            "id": "Q15031",
            "type": "PERSON",
            "name": "Xi Jinping",
            "aliases": {"en": ["Xi Jinping"], "ru": ["Си Цзиньпин"], "zh": ["习近平"]},
            "short": {"en": ["Xi"], "ru": ["Си"]},
        },
        {
            "id": "erdogan",
            "type": "PERSON",
            "name": "Recep Tayyip Erdoğan",
            "aliases": {"en": ["Recep Tayyip Erdoğan"]},
        },
        {"id": "shehbaz", "type": "PERSON", "name": "Shehbaz Sharif", "aliases": {"en": ["Shehbaz Sharif"]}},
        {"id": "nawaz", "type": "PERSON", "name": "Nawaz Sharif", "aliases": {"en": ["Nawaz Sharif"]}},
        {
            "id": "sco",
            "type": "ORG",
            "name": "Shanghai Cooperation Organisation",
            "aliases": {
                "en": ["Shanghai Cooperation Organisation", "Shanghai Cooperation Organization", "SCO"],
                "ru": ["Шанхайская организация сотрудничества", "ШОС"],
                "zh": ["上海合作组织", "上合组织"],
            },
        },
        {"id": "kremlin", "type": "ORG", "name": "Kremlin", "aliases": {"en": ["Kremlin"], "ru": ["Кремль"]}},
        {
            "id": "Q1520",
            "type": "PLACE",
            "name": "Astana",
            "aliases": {"en": ["Astana", "Nur-Sultan"], "ru": ["Астана"]},
        },
        {"id": "Q43", "type": "PLACE", "name": "Turkey", "aliases": {"en": ["Turkey"]}},
        {"id": "Q148", "type": "PLACE", "name": "China", "aliases": {"en": ["China"], "zh": ["中国"]}},
        {
            "id": "Q232",
            "type": "PLACE",
            "name": "Kazakhstan",
            "aliases": {"en": ["Kazakhstan"], "ru": ["Казахстан"]},
        },
        {
            "id": "naz",
            "type": "PERSON",
            "name": "Nursultan Nazarbayev",
            "aliases": {"en": ["Nursultan Nazarbayev"]},
        },
        {
            "id": "tok",
            "type": "PERSON",
            "name": "Kassym-Jomart Tokayev",
            "aliases": {"en": ["Kassym-Jomart Tokayev"]},
        },
    ],
    "offices": [
        {
            "id": "president-of-kazakhstan",
            "name": "President of Kazakhstan",
            "aliases": {"en": ["Kazakh President"], "ru": ["Президент Казахстана"]},
            "holders": [
                {"id": "naz", "start": "1990-04-24", "end": "2019-03-19"},
                {"id": "tok", "start": "2019-03-20"},
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def linker() -> Linker:
    kb = KnowledgeBase()
    kb.add_document(DOC)
    kb.validate()
    return Linker(kb)


def ids(linker: Linker, text: str, spans=(), published=None) -> list[tuple[str, str | None, str]]:
    return [(e.text, e.entity_id, e.label) for e in linker.link(text, spans, published=published)]


def test_aliases_in_three_languages(linker: Linker) -> None:
    assert ids(linker, "Putin met Xi Jinping.") == [
        ("Putin", "Q7747", "PERSON"),
        ("Xi Jinping", "Q15031", "PERSON"),
    ]
    assert ids(linker, "Путина встретил Си Цзиньпином") == [
        ("Путина", "Q7747", "PERSON"),
        ("Си Цзиньпином", "Q15031", "PERSON"),
    ]
    # Chinese has no word boundaries: aliases are found inside runs of characters.
    assert ids(linker, "习近平会见普京并出席上合组织峰会") == [
        ("习近平", "Q15031", "PERSON"),
        ("普京", "Q7747", "PERSON"),
        ("上合组织", "sco", "ORG"),
    ]


def test_russian_case_forms_of_multiword_names(linker: Linker) -> None:
    found = ids(linker, "саммит Шанхайской организации сотрудничества в Астане")
    assert found == [("Шанхайской организации сотрудничества", "sco", "ORG"), ("Астане", "Q1520", "PLACE")]


def test_surname_after_full_mention_and_nearest_preceding(linker: Linker) -> None:
    text = "Xi Jinping spoke. Later Xi left. Nawaz Sharif came, then Shehbaz Sharif. Sharif said no."
    found = ids(linker, text)
    assert ("Xi", "Q15031", "PERSON") in found
    assert found[-1] == ("Sharif", "shehbaz", "PERSON")


def test_surname_without_full_mention(linker: Linker) -> None:
    # Ambiguous surname and no full mention: typed but not linked. Title + unique surname: linked.
    assert ids(linker, "Sharif said no.") == [("Sharif", None, "PERSON")]
    assert ids(linker, "President Erdoğan arrived.") == [("Erdoğan", "erdogan", "PERSON")]
    assert ids(linker, "President Erdogan arrived.") == [("Erdogan", "erdogan", "PERSON")]
    assert ids(linker, "Xi said.") == [("Xi", None, "PERSON")]


def test_case_rules(linker: Linker) -> None:
    assert ids(linker, "we ate turkey in china") == []
    assert ids(linker, "Turkey and China") == [("Turkey", "Q43", "PLACE"), ("China", "Q148", "PLACE")]
    assert ids(linker, "the sco group") == []
    assert ids(linker, "Nur-Sultan") == [("Nur-Sultan", "Q1520", "PLACE")]


def test_kremlin_is_an_org_even_when_the_model_says_place(linker: Linker) -> None:
    text = "The Kremlin said."
    assert ids(linker, text, [(0, 11, "PLACE")]) == [("Kremlin", "kremlin", "ORG")]


def test_model_spans_merge(linker: Linker) -> None:
    text = "John Smith of the Bank of China met President Xi Jinping. Smith left."
    spans = [(0, 10, "PERSON"), (18, 31, "ORG"), (36, 56, "PERSON"), (58, 63, "PERSON")]
    found = linker.link(text, spans)
    assert [(e.text, e.entity_id, e.label, e.normalized) for e in found] == [
        ("John Smith", None, "PERSON", "John Smith"),
        ("Bank of China", None, "ORG", "Bank of China"),
        ("Xi Jinping", "Q15031", "PERSON", "Xi Jinping"),
        ("Smith", None, "PERSON", "John Smith"),
    ]


def test_office_title_resolves_by_publication_date(linker: Linker) -> None:
    text = "The Kazakh President said so."
    assert ids(linker, text, published=date(2018, 5, 1)) == [("Kazakh President", "naz", "PERSON")]
    assert ids(linker, text, published=date(2023, 5, 1)) == [("Kazakh President", "tok", "PERSON")]
    assert ids(linker, text) == []  # no date, no guess
    # The title stands for the holder and still names the country inside it.
    assert ids(linker, "Президент Казахстана выступил", published=date(2023, 5, 1)) == [
        ("Президент Казахстана", "tok", "PERSON"),
        ("Казахстана", "Q232", "PLACE"),
    ]
    # A name right after the title is the mention; the title is not linked on its own.
    assert ids(linker, "Kazakh President Kassym-Jomart Tokayev", published=date(2023, 5, 1)) == [
        ("Kassym-Jomart Tokayev", "tok", "PERSON")
    ]


def test_offsets_point_into_the_text(linker: Linker) -> None:
    text = "Le président Putin à Astana"
    for e in linker.link(text):
        assert text[e.start : e.end] == e.text
