"""Document-level label consistency of unlinked model spans."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from shared.nlp.consistency import harmonise, whole_words
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


def _by_regex(text: str, names: list[str]) -> list[tuple[int, int, str]]:
    """The alternation harmonise used before whole_words (longest name first)."""
    alternation = "|".join(re.escape(t) for t in sorted(names, key=len, reverse=True))
    return [(m.start(), m.end(), m.group(1)) for m in re.finditer(rf"(?<!\w)({alternation})(?!\w)", text)]


def test_whole_words_finds_what_the_alternation_found() -> None:
    cases = [
        ("New York and York, New Yorkers; New York.", ["New York", "York", "New"]),
        ("Xi_Jinping Xi Jinping Xi-Jinping Jinping's", ["Xi Jinping", "Jinping", "Xi"]),
        ("Sco SCO SCOs Astana's Astanaé Ästana", ["SCO", "Astana", "Ästana"]),
        ("aaaa aaa aa", ["aaa", "aaaa", "aa a"]),
    ]
    data = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "full" / "bbc.jsonl.gz"
    if data.exists():
        with gzip.open(data, "rt", encoding="utf-8") as fh:
            for _, line in zip(range(100), fh, strict=False):
                text = json.loads(line).get("text") or ""
                words = re.findall(r"[A-Z][\w']{2,}(?: [A-Z][\w']{2,})?", text)
                cases.append((text, sorted(set(words))[:60]))
    for text, names in cases:
        assert whole_words(text, names) == _by_regex(text, names), names
