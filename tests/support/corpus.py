"""Small article corpora written straight into a database and indexed for search (no NLP models)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from shared.models import Article, Entity, Mention
from shared.nlp.store import mark_pairs
from shared.search.index import article_time, index_articles

NOW = datetime(2026, 7, 3, 12, 0, tzinfo=UTC)


@contextmanager
def sqlite_session(tmp_path: Path) -> Iterator[Session]:
    """A migrated SQLite database of its own."""
    from shared.db import engine_for
    from shared.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'search.db'}"
    upgrade(url)
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def add_articles(session: Session, specs: Sequence[dict[str, Any]]) -> list[int]:
    """Insert articles (title, text, language, hours_ago, url, story, entities=[(label, name)]); index."""
    rows: list[Article] = []
    for i, spec in enumerate(specs):
        when = NOW - timedelta(hours=spec.get("hours_ago", i))
        url = spec.get("url", f"https://news{i % 3}.example/{i}-{abs(hash(spec['title'])) % 10**8}")
        a = Article(
            url=url,
            canonical_url=url,
            title=spec["title"],
            text=spec.get("text", ""),
            language=spec.get("language", "en"),
            published_at=when,
            fetched_at=when + timedelta(minutes=1),
            status="processed",
            feed_id=spec.get("feed_id"),
        )
        session.add(a)
        session.flush()
        a.story_id = spec.get("story", a.id)
        rows.append(a)
    session.flush()
    for a, spec in zip(rows, specs, strict=True):
        for label, name in spec.get("entities", ()):
            key = name.casefold()
            ent = session.exec(select(Entity).where(Entity.label == label, Entity.key == key)).first()
            if ent is None:
                ent = Entity(label=label, key=key, name=name)
                session.add(ent)
                session.flush()
            session.add(
                Mention(
                    article_id=a.id,
                    entity_id=ent.id,
                    text=name,
                    label=label,
                    start=0,
                    end=len(name),
                    published_at=article_time(a.published_at, a.fetched_at),
                )
            )
    session.flush()
    mark_pairs(session=session, article_ids=[a.id for a in rows if a.id is not None])
    index_articles(session=session, articles=rows)
    session.commit()
    return [a.id for a in rows if a.id is not None]
