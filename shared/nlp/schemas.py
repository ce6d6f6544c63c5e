"""API schemas of entities: top entities, one entity with aliases, offices and counts, co-occurrence."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class EntityOut(BaseModel):
    id: int
    kb_id: str | None
    name: str
    label: str
    linked: bool


class TopEntityOut(EntityOut):
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
