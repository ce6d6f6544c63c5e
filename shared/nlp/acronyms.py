"""Context before an ambiguous acronym is linked: an article that spells out its own "SCO" decides what it is.

An acronym alias (SCO, RATS, ШОС) is short, so many names share it: "SCO" is the Shanghai Cooperation
Organisation, The SCO Group (the Unix company), the Santa Cruz Operation and the Scottish Chamber Orchestra.
The gazetteer links an acronym on sight; this pass then looks at the rest of the article, for any entity of
the knowledge base and any acronym alias of it (nothing here is about one organisation):
- the article's own expansions of the acronym are *competitors*: a name the model found around it that the
  knowledge base does not know ("The SCO Group"), the acronym followed by a company designator ("SCO Group",
  "SCO Inc."), or a definition whose initials spell it ("Santa Cruz Operation (SCO)");
- the entity's own full names in the article ("Shanghai Cooperation Organisation") are *support*;
- each bare acronym takes the nearest of these before it (else the first after it). One taken by a
  competitor is kept as an unlinked mention of that name (label and normalised name of the competitor), so
  the company's mentions group together and the organisation is not counted.
A competitor the model alone proposed (its span, no designator or definition) is weaker than the article's
other entities: when two or more other entities of the knowledge base are linked in the article, the
acronym keeps its knowledge-base reading ("SCO Summit" in a report naming Xi and Putin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.nlp.normalize import key
from shared.nlp.types import ORG, PERSON, ExtractedEntity

# Capitals only, two to six letters (Latin or Cyrillic): the shape of an acronym alias.
_ACRONYM = re.compile(r"^[A-ZА-ЯЁ]{2,6}$")
# Company designators: a name followed by one of these is a company's name, not the acronym alone.
_DESIGNATORS = "|".join(
    [
        "Group",
        "Inc",
        "Incorporated",
        "Corp",
        "Corporation",
        "Ltd",
        "Limited",
        "LLC",
        "LLP",
        "Plc",
        "PLC",
        "plc",
        "Co",
        "Company",
        "Holdings",
        "AG",
        "SA",
        "GmbH",
        "NV",
    ]
)
_MIN_OTHER_ENTITIES = 2  # other linked entities that outweigh a competitor proposed by the model alone
_SMALL_WORDS = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "&"})


@dataclass(frozen=True)
class _Reading:
    start: int
    entity_id: str | None  # the knowledge-base entity, or None for a competitor
    label: str
    name: str
    strong: bool = True


def is_acronym(text: str) -> bool:
    """True for a mention written like an acronym (SCO, RATS, ШОС)."""
    return bool(_ACRONYM.match(text))


def _definitions(text: str, acronym: str) -> list[tuple[int, int]]:
    """Spans of capitalised phrases whose initials spell `acronym`, right before "(ACRONYM)"."""
    out = []
    for m in re.finditer(rf"\(\s*{re.escape(acronym)}\s*\)", text):
        words = list(re.finditer(r"[\w&'’-]+", text[max(0, m.start() - 120) : m.start()]))
        base = max(0, m.start() - 120)
        letters: list[str] = []
        first = None
        for w in reversed(words):
            word = w.group()
            if word.lower() in _SMALL_WORDS and letters:
                continue
            if not word[:1].isupper():
                break
            letters.insert(0, word[0])
            first = base + w.start()
            if len(letters) == len(acronym):
                break
        if first is not None and "".join(letters) == acronym:
            end = m.start()
            while end > first and text[end - 1].isspace():
                end -= 1
            out.append((first, end))
    return out


def resolve_acronyms(
    text: str, ents: list[ExtractedEntity], full_names: dict[str, set[str]]
) -> list[ExtractedEntity]:
    """Unlink acronym mentions that the article's context gives to another name (see the module docstring).

    `full_names`: for each entity id, the keys of its names that are not acronyms (normalize.key form).
    """
    acronyms = {e.text for e in ents if e.entity_id and is_acronym(e.text)}
    if not acronyms:
        return ents
    out = list(ents)
    for acronym in sorted(acronyms):
        out = _resolve_one(text, out, acronym, full_names)
    return sorted(out, key=lambda x: (x.start, x.end))


def _resolve_one(
    text: str, ents: list[ExtractedEntity], acronym: str, full_names: dict[str, set[str]]
) -> list[ExtractedEntity]:
    mentions = [i for i, e in enumerate(ents) if e.text == acronym and e.entity_id]
    targets = {ents[i].entity_id for i in mentions}
    word = re.compile(rf"(?<!\w){re.escape(acronym)}(?!\w)")
    readings: list[_Reading] = []
    added: list[ExtractedEntity] = []
    # Competitors: unknown names around the acronym (found by the model), designator and definition forms.
    for e in ents:
        if e.entity_id is None and e.text != acronym and word.search(e.text) and e.label != PERSON:
            readings.append(_Reading(e.start, None, e.label, e.normalized, strong=False))
    for m in re.finditer(rf"(?<!\w){re.escape(acronym)}\s+(?:{_DESIGNATORS})\b\.?", text):
        name = text[m.start() : m.end()].rstrip(".")
        readings.append(_Reading(m.start(), None, ORG, name))
        if not any(e.start <= m.start() < e.end and e.entity_id is None for e in ents):
            added.append(ExtractedEntity(name, ORG, m.start(), m.start() + len(name), None, None, name))
    for start, end in _definitions(text, acronym):
        if any(key(text[start:end]) in full_names.get(t or "", ()) for t in targets):
            continue  # "Shanghai Cooperation Organisation (SCO)": the knowledge base's own expansion
        readings.append(_Reading(start, None, ORG, text[start:end]))
        if not any(x.start < end and start < x.end for x in ents):
            added.append(ExtractedEntity(text[start:end], ORG, start, end, None, None, text[start:end]))
    if not readings:
        return ents
    # Support: the entity's full names in the article; and how many other entities the article links.
    for e in ents:
        if e.entity_id in targets and e.text != acronym:
            readings.append(_Reading(e.start, e.entity_id, e.label, e.canonical or e.text))
    others = {e.entity_id for e in ents if e.entity_id and e.entity_id not in targets}
    if all(not r.strong for r in readings if r.entity_id is None) and len(others) >= _MIN_OTHER_ENTITIES:
        return ents
    readings.sort(key=lambda r: r.start)
    out = list(ents)
    for i in mentions:
        ent = ents[i]
        before = [
            r for r in readings if r.start <= ent.start and not (r.entity_id is None and r.start == ent.start)
        ]
        after = [r for r in readings if r.start > ent.start]
        chosen = before[-1] if before else after[0] if after else None
        if chosen is not None and chosen.entity_id is None:
            out[i] = ExtractedEntity(ent.text, chosen.label, ent.start, ent.end, None, None, chosen.name)
    # A designator or definition form the model missed becomes the competitor's own mention.
    for a in added:
        out = [x for x in out if not (x.start < a.end and a.start < x.end)]
        out.append(a)
    return out
