"""Writing a batch's mentions at once (shared.nlp.store.replace_mentions_many), on PostgreSQL and SQLite:
the same rows as writing them article by article, entities shared across articles created once, an
existing entity reused, and a second run replacing (not adding to) what the first wrote."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from shared.insights.entities import top_entities
from shared.models import Entity, Mention
from shared.nlp import store
from shared.nlp.types import ExtractedEntity
from tests.support.corpus import NOW, add_articles

pytestmark = pytest.mark.integration


def _ent(text: str, label: str, start: int, entity_id: str | None = None) -> ExtractedEntity:
    return ExtractedEntity(
        text=text,
        label=label,
        start=start,
        end=start + len(text),
        canonical=text if entity_id is None else f"Canonical {text}",
        entity_id=entity_id,
        normalized=text,
    )


def _rows(session: Session) -> list[tuple[int, str, str, str, int, bool]]:
    q = select(Mention, Entity).join(Entity, col(Entity.id) == Mention.entity_id)
    return sorted((m.article_id, m.text, e.label, e.key, m.start, m.linked) for m, e in session.exec(q))


def test_a_batch_writes_what_one_by_one_writes_and_reruns_replace(session: Session) -> None:
    a, b = add_articles(session, [{"title": "one"}, {"title": "two"}])
    session.add(Entity(label="PERSON", key="Q1", name="Already There", kb_id="Q1"))
    session.commit()
    first = [_ent("Putin", "PERSON", 0, "Q1"), _ent("SCO Group", "ORG", 10), _ent("Astana", "GPE", 30)]
    second = [_ent("Sco Group", "ORG", 5), _ent("Astana", "GPE", 20), _ent("Putin", "PERSON", 40, "Q1")]
    items = [(a, NOW, first), (b, None, second)]

    assert store.replace_mentions_many(session=session, items=items) == 6
    session.commit()
    rows = _rows(session)
    assert rows == sorted(
        [
            (a, "Putin", "PERSON", "Q1", 0, True),
            (a, "SCO Group", "ORG", "sco group", 10, False),
            (a, "Astana", "GPE", "astana", 30, False),
            (b, "Sco Group", "ORG", "sco group", 5, False),  # unlinked names group case-insensitively
            (b, "Astana", "GPE", "astana", 20, False),
            (b, "Putin", "PERSON", "Q1", 40, True),
        ]
    )
    entities = session.exec(select(Entity)).all()
    assert len(entities) == 3  # each (label, key) once, the existing Q1 reused
    assert {e.name for e in entities if e.key == "Q1"} == {"Already There"}

    # a second run (a reprocessed batch) replaces; one by one gives the same rows
    assert store.replace_mentions_many(session=session, items=items) == 6
    session.commit()
    assert _rows(session) == rows
    for article_id, when, ents in items:
        store.replace_mentions(session=session, article_id=article_id, published_at=when, entities=ents)
    session.commit()
    assert _rows(session) == rows
    assert len(session.exec(select(Entity)).all()) == 3


def test_an_empty_batch_and_empty_keys_write_nothing(session: Session) -> None:
    (a,) = add_articles(session, [{"title": "one"}])
    assert store.replace_mentions_many(session=session, items=[]) == 0
    assert store.replace_mentions_many(session=session, items=[(a, None, [_ent("  ", "ORG", 0)])]) == 0
    session.commit()
    assert _rows(session) == []


def _pairs(session: Session) -> dict[tuple[int, int], int]:
    """{(article, entity): article_mentions} of the marked rows (the first mention of each pair)."""
    rows = session.execute(
        text(
            "SELECT article_id, entity_id, article_mentions FROM mentions WHERE article_mentions IS NOT NULL"
        )
    )
    return {(a, e): n for a, e, n in rows}


def test_each_article_entity_pair_is_marked_once_and_top_entities_count_from_the_marks(
    session: Session,
) -> None:
    a, b = add_articles(session, [{"title": "one"}, {"title": "two"}])
    astana = [_ent("Astana", "GPE", 0), _ent("Astana", "GPE", 20), _ent("ASTANA", "GPE", 40)]
    store.replace_mentions_many(
        session=session,
        items=[(a, NOW, [*astana, _ent("Putin", "PERSON", 60, "Q1")]), (b, NOW, [_ent("Astana", "GPE", 5)])],
    )
    session.commit()
    ids = {e.key: e.id for e in session.exec(select(Entity))}
    assert _pairs(session) == {(a, ids["astana"]): 3, (a, ids["Q1"]): 1, (b, ids["astana"]): 1}
    # reprocessing replaces the marks with the new mentions' (one Astana left in a)
    store.replace_mentions_many(session=session, items=[(a, NOW, [_ent("Astana", "GPE", 0)])])
    session.commit()
    assert _pairs(session) == {(a, ids["astana"]): 1, (b, ids["astana"]): 1}
    window = {"since": NOW - timedelta(hours=1), "until": NOW + timedelta(hours=1)}
    top = top_entities(session=session, **window)
    assert [(e.key, m, n) for e, m, n in top] == [("astana", 2, 2)]
    # a type filter keeps the same pairs (through the entity's label); the linked filter (per mention)
    # counts (entity, article) pairs from every mention: the same figures
    assert [(e.key, m, n) for e, m, n in top_entities(session=session, label="GPE", **window)] == [
        ("astana", 2, 2)
    ]
    assert top_entities(session=session, label="PERSON", **window) == []
    per_mention = top_entities(session=session, linked=False, **window)
    assert [(e.key, m, n) for e, m, n in per_mention] == [("astana", 2, 2)]


def test_the_batch_writes_the_marks_mark_pairs_would(session: Session) -> None:
    a, b = add_articles(session, [{"title": "one"}, {"title": "two"}])
    many = [
        _ent(name, "GPE", 10 * i) for i, name in enumerate(["Astana", "Minsk", "Astana", "Delhi", "Minsk"])
    ]
    store.replace_mentions_many(session=session, items=[(a, NOW, many), (b, NOW, many[::-1])])
    session.commit()
    written = session.execute(text("SELECT id, article_mentions FROM mentions ORDER BY id")).all()
    store.mark_pairs(session=session, article_ids=None)  # the reference: the first (lowest id) of each pair
    session.commit()
    assert session.execute(text("SELECT id, article_mentions FROM mentions ORDER BY id")).all() == written
    assert sum(n for _, n in written if n is not None) == 10
