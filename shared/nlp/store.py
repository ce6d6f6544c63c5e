"""SQL for entities and mentions: writing an article's mentions, and the dashboard's entity queries.

An Entity row is one canonical entity (key = knowledge-base id) or one unlinked name (key = its normalised
text, case-folded, per label). Mention time is the article's publication time, else its fetch time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, delete, func, insert, or_, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from shared.models import Entity, Mention
from shared.models.base import table_of, utcnow
from shared.nlp.types import ExtractedEntity
from shared.schemas import MAX_INT


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
    *, session: Session, article_id: int, published_at: datetime | None, entities: Sequence[ExtractedEntity]
) -> int:
    """Store the article's mentions, replacing earlier ones, so reprocessing changes nothing."""
    return replace_mentions_many(session=session, items=[(article_id, published_at, entities)])


MentionsOf = tuple[int, datetime | None, Sequence[ExtractedEntity]]  # article id, its time, its entities
_CHUNK = 500  # values per IN list


def replace_mentions_many(*, session: Session, items: Sequence[MentionsOf]) -> int:
    """Store the mentions of many articles at once, replacing earlier ones; returns how many were written.

    A batch costs a fixed number of statements whatever its size: one DELETE, one SELECT of the entities
    named, one INSERT of the new entities, one INSERT of the mentions (executemany, batched by the driver).
    """
    ids = [article_id for article_id, _, _ in items]
    for i in range(0, len(ids), _CHUNK):
        session.exec(delete(Mention).where(col(Mention.article_id).in_(ids[i : i + _CHUNK])))
    wanted: dict[tuple[str, str], tuple[str, str | None]] = {}
    keyed: list[tuple[int, datetime | None, ExtractedEntity, tuple[str, str]]] = []
    for article_id, published_at, entities in items:
        for ent in entities:
            # Unlinked names group case-insensitively ("SCO Group" = "Sco Group"); linked ones by their id.
            key = (ent.entity_id or (ent.normalized or ent.text).strip().casefold())[:300]
            if not key:
                continue
            pair = (ent.label, key)
            wanted.setdefault(pair, ((ent.canonical or ent.text)[:500], ent.entity_id))
            keyed.append((article_id, published_at, ent, pair))
    entity_ids = _entity_ids(session, wanted)
    rows = [
        {
            "article_id": article_id,
            "entity_id": entity_ids[pair],
            "text": ent.text[:500],
            "label": ent.label,
            "start": ent.start,
            "end": ent.end,
            "linked": ent.entity_id is not None,
            "published_at": published_at,
        }
        for article_id, published_at, ent, pair in keyed
    ]
    if rows and session.get_bind().dialect.name == "postgresql":
        # one statement with one array per column: no per-row statement or parameter handling; each
        # (article, entity) pair's count goes on its first row as written (what mark_pairs would set)
        params: dict[str, list[Any]] = {c: [r[c] for r in rows] for c in _MENTION_COLUMNS}
        params["article_mentions"] = _pair_counts(rows)
        session.execute(_PG_INSERT_MENTIONS, params)
    elif rows:
        session.execute(insert(Mention), rows)
        for i in range(0, len(ids), _CHUNK):
            mark_pairs(session=session, article_ids=ids[i : i + _CHUNK])
    return len(rows)


def _pair_counts(rows: Sequence[dict[str, Any]]) -> list[int | None]:
    """Per row: its (article, entity) pair's number of rows on the pair's first row, else None."""
    counts: dict[tuple[int, int], int] = {}
    for r in rows:
        pair = (r["article_id"], r["entity_id"])
        counts[pair] = counts.get(pair, 0) + 1
    out: list[int | None] = []
    for r in rows:
        out.append(counts.pop((r["article_id"], r["entity_id"]), None))
    return out


_MENTION_COLUMNS = ("article_id", "entity_id", "text", "label", "start", "end", "linked", "published_at")
_PG_INSERT_MENTIONS = text(
    "INSERT INTO mentions"
    ' (article_id, entity_id, text, label, "start", "end", linked, published_at, article_mentions)'
    " SELECT a, e, t, l, s, n, k, p, c FROM unnest(CAST(:article_id AS integer[]),"
    " CAST(:entity_id AS integer[]), CAST(:text AS varchar[]), CAST(:label AS varchar[]),"
    " CAST(:start AS integer[]), CAST(:end AS integer[]), CAST(:linked AS boolean[]),"
    " CAST(:published_at AS timestamptz[]), CAST(:article_mentions AS integer[]))"
    " WITH ORDINALITY AS r(a, e, t, l, s, n, k, p, c, i) ORDER BY i"  # ids in row order: first = lowest
)
_PG_EXISTING = text(
    "SELECT e.id, e.label, e.key FROM entities AS e"
    " JOIN unnest(CAST(:labels AS varchar[]), CAST(:keys AS varchar[])) AS w(label, key)"
    " ON e.label = w.label AND e.key = w.key"
)
_MARK_PAIRS = """
UPDATE mentions SET article_mentions = (
    SELECT count(*) FROM mentions AS m
    WHERE m.article_id = mentions.article_id AND m.entity_id = mentions.entity_id
)
WHERE mentions.id IN (SELECT min(id) FROM mentions {where} GROUP BY article_id, entity_id)
"""


def mark_pairs(*, session: Session, article_ids: Sequence[int] | None) -> None:
    """Set `mentions.article_mentions` on the first mention of each (article, entity) pair of these articles
    (None: of every article): the entity's number of mentions in the article. Top entities count pairs
    through the partial index ix_mentions_pairs (migration 0005); every writer of mentions calls this."""
    if article_ids is None:
        session.execute(text(_MARK_PAIRS.format(where="")))
        return
    if not article_ids:
        return
    stmt = text(_MARK_PAIRS.format(where="WHERE article_id IN :ids")).bindparams(
        bindparam("ids", expanding=True)
    )
    session.execute(stmt, {"ids": list(article_ids)})


def _existing(session: Session, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    if pairs and session.get_bind().dialect.name == "postgresql":
        # the pairs as two arrays: one small statement whatever their number (the unique index answers each)
        params = {"labels": [label for label, _ in pairs], "keys": [key for _, key in pairs]}
        return {(label, key): int(i) for i, label, key in session.execute(_PG_EXISTING, params)}
    for i in range(0, len(pairs), _CHUNK):
        chunk = pairs[i : i + _CHUNK]
        # (label, key) pairs: the unique index answers each one
        pair = tuple_(col(Entity.label), col(Entity.key))
        q = select(Entity.id, Entity.label, Entity.key).where(pair.in_(chunk))
        for entity_id, label, key in session.exec(q):
            if entity_id is not None:
                out[(label, key)] = entity_id
    return out


def _entity_ids(
    session: Session, wanted: dict[tuple[str, str], tuple[str, str | None]]
) -> dict[tuple[str, str], int]:
    """The id of every (label, key), creating the missing entities in one statement."""
    found = _existing(session, list(wanted))
    missing = sorted(pair for pair in wanted if pair not in found)  # one order: workers wait, not deadlock
    if not missing:
        return found
    now = utcnow()
    new_rows = [
        {"label": label, "key": key, "name": name, "kb_id": kb_id, "created_at": now}
        for label, key in missing
        for name, kb_id in [wanted[(label, key)]]
    ]
    if not _create_entities(session, new_rows):
        for label, key in missing:  # another dialect: one at a time, each in a savepoint
            name, kb_id = wanted[(label, key)]
            entity = get_or_create_entity(session=session, label=label, key=key, name=name, kb_id=kb_id)
            assert entity.id is not None
            found[(label, key)] = entity.id
        return found
    found.update(_existing(session, missing))
    return found


def _create_entities(session: Session, rows: Sequence[dict[str, Any]]) -> bool:
    """Insert the entities nobody has created yet (a name another worker just created is skipped).

    On PostgreSQL this runs in a short transaction of its own, committed at once: an entity is a dictionary
    row, the same for every article, and a new one left uncommitted until the batch ends would make every
    other worker meeting the same name wait for this whole batch (under load the two pipeline processes
    kept waiting on each other's new names). An entity committed by a batch that then fails is harmless:
    the rerun finds and uses it. SQLite has one writer at a time anyway: the same transaction there.
    False for another dialect (the caller goes row by row).
    """
    table = table_of(Entity)
    bind = session.get_bind()
    chunks = [rows[i : i + _CHUNK] for i in range(0, len(rows), _CHUNK)]
    if bind.dialect.name == "postgresql":
        with Session(bind) as own:
            for chunk in chunks:
                own.execute(
                    pg_insert(table).values(chunk).on_conflict_do_nothing(index_elements=["label", "key"])
                )
            own.commit()
        return True
    if bind.dialect.name == "sqlite":
        for chunk in chunks:
            session.execute(
                sqlite_insert(table).values(chunk).on_conflict_do_nothing(index_elements=["label", "key"])
            )
        return True
    return False


def for_article(*, session: Session, article_id: int) -> list[tuple[Mention, Entity]]:
    """The mentions of one article with their entities, in text order."""
    q = (
        select(Mention, Entity)
        .join(Entity, col(Entity.id) == Mention.entity_id)
        .where(Mention.article_id == article_id)
        .order_by(col(Mention.start))
    )
    return [(m, e) for m, e in session.exec(q)]


def _when() -> Mapped[datetime]:
    # the article's time, written with every mention (published, else fetched): no join to articles
    # (nullable in the model, never NULL as written: typed as what the queries read)
    return cast("Mapped[datetime]", col(Mention.published_at))


def get_entity(*, session: Session, ref: str) -> Entity | None:
    """The entity by database id ("42"), knowledge-base id ("Q7747") or name (any case); None when unknown."""
    if ref.isascii() and ref.isdigit():
        n = int(ref)
        return session.get(Entity, n) if 0 < n <= MAX_INT else None
    found = session.exec(select(Entity).where(Entity.kb_id == ref).order_by(col(Entity.id))).first()
    if found is not None:
        return found
    by_name = or_(func.lower(Entity.name) == ref.lower(), col(Entity.key) == ref.strip().casefold())
    # a name shared by several entities: the one with a knowledge-base id, then the oldest
    q = select(Entity).where(by_name).order_by(col(Entity.kb_id).is_(None), col(Entity.id))
    return session.exec(q).first()


def mention_times(
    *, session: Session, entity_id: int, since: datetime | None = None, until: datetime | None = None
) -> list[datetime]:
    """The time of every mention of an entity in the window (callers bucket them per hour or day)."""
    q = select(_when()).select_from(Mention).where(Mention.entity_id == entity_id)
    if since is not None:
        q = q.where(_when() >= since)
    if until is not None:
        q = q.where(_when() < until)
    return list(session.exec(q))


def cooccurring(
    *,
    session: Session,
    entity_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    label: str | None = None,
    limit: int = 20,
) -> list[tuple[Entity, int]]:
    """Entities most often in the same articles as this one: (entity, shared articles)."""
    mine = select(Mention.article_id).where(Mention.entity_id == entity_id)
    if since is not None:
        mine = mine.where(_when() >= since)
    if until is not None:
        mine = mine.where(_when() < until)
    shared = func.count(func.distinct(Mention.article_id))
    q = (
        select(Entity, shared)
        .join(Mention, col(Mention.entity_id) == Entity.id)
        .where(col(Mention.article_id).in_(mine.subquery().select()), col(Entity.id) != entity_id)
        .group_by(col(Entity.id))
        .order_by(shared.desc(), col(Entity.id))
        .limit(limit)
    )
    if label is not None:
        q = q.where(Entity.label == label)
    return [(e, int(n)) for e, n in session.exec(q)]
