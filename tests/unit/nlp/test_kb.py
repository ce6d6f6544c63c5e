"""Knowledge base: loading, merging, name and office lookups."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from shared.nlp.kb import KnowledgeBase, KnowledgeBaseError, derived_short_names
from shared.nlp.normalize import key

DOC = {
    "entities": [
        {
            "id": "Q7747",
            "type": "person",
            "name": "Vladimir Putin",
            "aliases": {"en": ["Putin"], "ru": ["Путин"]},
        },
        {
            "id": "Q23530",
            "type": "PERSON",
            "name": "Dmitry Medvedev",
            "aliases": {"ru": ["Дмитрий Медведев"]},
        },
    ],
    "offices": [
        {
            "id": "president-of-russia",
            "name": "President of Russia",
            "aliases": {"en": ["Russian President"]},
            "holders": [
                {"id": "Q23530", "start": "2008-05-07", "end": "2012-05-06"},
                {"id": "Q7747", "start": date(2012, 5, 7)},
            ],
        },
    ],
}


def make() -> KnowledgeBase:
    kb = KnowledgeBase()
    kb.add_document(DOC)
    kb.validate()
    return kb


def test_lookups() -> None:
    kb = make()
    assert kb.get("Q7747").name == "Vladimir Putin"
    assert kb.get("nope") is None
    assert kb.ids_for_name("Путина") == {"Q7747"}
    assert kb.ids_for_name("vladimir putin") == {"Q7747"}
    assert kb.ids_for_name("Q23530") == {"Q23530"}
    assert kb.ids_for_name("Медведева") == {"Q23530"}  # derived surname, Russian genitive
    assert kb.ids_for_name("Nobody") == set()


def test_office_holders_by_date() -> None:
    kb = make()
    assert kb.office_holders("President of Russia", date(2010, 1, 1)) == {"Q23530"}
    assert kb.office_holders("russian president", datetime(2020, 1, 1, 12)) == {"Q7747"}
    assert kb.office_holders("president-of-russia", None) == {"Q7747"}
    assert kb.office_holders("President of Russia", date(2001, 1, 1)) == set()
    assert kb.office_holders("King of Nowhere", None) == set()
    assert [o.id for o, _ in kb.offices_of("Q7747")] == ["president-of-russia"]


def test_merge_by_id() -> None:
    kb = make()
    kb.add_document(
        {
            "entities": [
                {"id": "Q7747", "type": "PERSON", "name": "Vladimir Putin", "aliases": {"zh": ["普京"]}}
            ]
        }
    )
    assert kb.get("Q7747").aliases == {"en": ["Putin"], "ru": ["Путин"], "zh": ["普京"]}


@pytest.mark.parametrize(
    "doc",
    [
        {"entities": [{"id": "x", "type": "THING", "name": "X"}]},
        {"entities": [{"type": "PERSON", "name": "X"}]},
        {"offices": [{"name": "O", "holders": [{"start": "2020-01-01"}]}]},
        {"offices": [{"name": "O", "holders": [{"id": "x", "start": "not a date"}]}]},
    ],
)
def test_malformed(doc: dict) -> None:
    with pytest.raises(KnowledgeBaseError):
        KnowledgeBase().add_document(doc)


def test_unknown_holder_is_refused() -> None:
    kb = KnowledgeBase()
    kb.add_document({"offices": [{"name": "O", "holders": [{"id": "ghost"}]}]})
    with pytest.raises(KnowledgeBaseError):
        kb.validate()


def test_short_names() -> None:
    kb = make()
    assert derived_short_names(kb.get("Q23530")) == {"ru": ["Медведев"]}


def test_key_normalisation() -> None:
    assert key("Erdoğan") == key("Erdogan")
    assert key("Путина") == key("Путин") == key("Путиным")
    assert key("Китая") == key("Китай")
    assert key("上海") == "上 海"
