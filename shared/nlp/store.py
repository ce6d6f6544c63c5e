"""SQL for entities and mentions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared.models import Entity, Mention


class EntityLike(Protocol):
    text: str
    label: str
    start: int
    end: int
    canonical: str | None
    entity_id: str | None
    normalized: str


def get_or_create_entity(*, session: Session, label: str, key: str, name: str, kb_id: str | None) -> Entity:
    """The entity row for (label, key), created once even under concurrent workers."""
    q = select(Entity).where(Entity.label == label, Entity.key == key)
    found = session.exec(q).first()
    if found is not None:
        return found
    row = Entity(label=label, key=key, name=name, kb_id=kb_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = session.exec(q).first()
        if found is None:
            raise
        return found
    return row


def replace_mentions(
    *, session: Session, article_id: int, published_at: datetime | None, entities: Sequence[EntityLike]
) -> list[Mention]:
    """Store the article's mentions, replacing earlier ones, so reprocessing changes nothing."""
    session.exec(delete(Mention).where(col(Mention.article_id) == article_id))  # type: ignore[call-overload]
    rows: list[Mention] = []
    cache: dict[tuple[str, str], Entity] = {}
    for ent in entities:
        key = ent.entity_id or ent.normalized or ent.text.strip().lower()
        if not key:
            continue
        cache_key = (ent.label, key)
        entity = cache.get(cache_key)
        if entity is None:
            entity = get_or_create_entity(
                session=session,
                label=ent.label,
                key=key[:300],
                name=(ent.canonical or ent.text)[:500],
                kb_id=ent.entity_id,
            )
            cache[cache_key] = entity
        assert entity.id is not None
        rows.append(
            Mention(
                article_id=article_id,
                entity_id=entity.id,
                text=ent.text[:500],
                label=ent.label,
                start=ent.start,
                end=ent.end,
                linked=ent.entity_id is not None,
                published_at=published_at,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def for_article(*, session: Session, article_id: int) -> list[tuple[Mention, Entity]]:
    q = (
        select(Mention, Entity)
        .join(Entity, col(Entity.id) == Mention.entity_id)
        .where(Mention.article_id == article_id)
        .order_by(col(Mention.start))
    )
    return [(m, e) for m, e in session.exec(q)]
