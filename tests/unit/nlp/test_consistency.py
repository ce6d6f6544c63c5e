"""Document-level label consistency of unlinked model spans."""

from __future__ import annotations

from shared.nlp.consistency import harmonise
from shared.nlp.types import ExtractedEntity


def ent(text: str, doc: str, label: str, nth: int = 0, entity_id: str | None = None) -> ExtractedEntity:
    start = -1
    for _ in range(nth + 1):
        start = doc.index(text, start + 1)
    return ExtractedEntity(text, label, start, start + len(text), None, entity_id, text)


def test_surname_of_a_person_named_in_full_is_a_person() -> None:
    doc = "John Mills scored. Mills said Mills was tired."
    out = harmonise(doc, [ent("John Mills", doc, "PERSON"), ent("Mills", doc, "ORG", 1)])
    assert [(e.text, e.label, e.normalized, e.start) for e in out] == [
        ("John Mills", "PERSON", "John Mills", 0),
        ("Mills", "PERSON", "John Mills", 19),
        ("Mills", "PERSON", "John Mills", 30),  # untagged repeat, propagated
    ]


def test_majority_label_and_propagation() -> None:
    doc = "Feyenoord won. Feyenoord lost. Then Feyenoord drew. feyenoord is lowercase here."
    out = harmonise(
        doc,
        [ent("Feyenoord", doc, "ORG"), ent("Feyenoord", doc, "ORG", 1), ent("Feyenoord", doc, "PLACE", 2)],
    )
    assert [e.label for e in out] == ["ORG", "ORG", "ORG"]
    assert len(out) == 3  # the lower-case word is not a name


def test_linked_entities_are_left_alone_and_short_acronyms_not_propagated() -> None:
    doc = "UN met. The UN said."
    linked = ent("UN", doc, "ORG", entity_id="Q1065")
    assert harmonise(doc, [linked]) == [linked]
