"""API schemas of entities: top entities, one entity with aliases, offices and counts, co-occurrence."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class EntityOut(BaseModel):
    id: int
    kb_id: str | None
    name: str
    label: str
    linked: bool


class TopEntityOut(EntityOut):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 7, "kb_id": "Q15031", "name": "Xi Jinping", "label": "PERSON",
                                         "linked": True, "mentions": 31, "articles": 12}]}
    )  # fmt: skip
    mentions: int
    articles: int


class OfficeOut(BaseModel):
    office_id: str
    office: str
    start: str | None
    end: str | None


class CountOut(BaseModel):
    start: datetime
    mentions: int


class EntityDetail(EntityOut):
    description: str
    aliases: dict[str, list[str]]
    offices: list[OfficeOut]
    bucket: str
    mentions: int
    counts: list[CountOut]


class CooccurOut(EntityOut):
    articles: int


class CooccurPage(BaseModel):
    entity: EntityOut
    items: list[CooccurOut]
