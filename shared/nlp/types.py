"""Value types of the entity stage: what goes in, what comes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Labels we emit. spaCy's GPE, LOC and FAC become PLACE; its other labels (NORP, EVENT, PRODUCT, LAW,
# WORK_OF_ART, LANGUAGE and the numeric ones) are dropped because nothing downstream links or counts them.
PERSON = "PERSON"
ORG = "ORG"
PLACE = "PLACE"
LABELS = (PERSON, ORG, PLACE)


def article_text(title: str, text: str) -> str:
    """Return the one string entity offsets refer to: title, blank line, body (body alone if untitled)."""
    title = (title or "").strip()
    text = text or ""
    return f"{title}\n\n{text}" if title else text


@dataclass(frozen=True)
class ArticleInput:
    """One article handed to the extractor."""

    title: str
    text: str
    language: str | None = None
    published: datetime | None = None


@dataclass(frozen=True)
class ExtractedEntity:
    """One mention: its span in `article_text(...)`, its label and, when known, its canonical entity."""

    text: str
    label: str
    start: int
    end: int
    canonical: str | None
    entity_id: str | None
    normalized: str


@dataclass
class ArticleEntities:
    """The language and the entity mentions of one article, in text order."""

    language: str
    entities: list[ExtractedEntity]
