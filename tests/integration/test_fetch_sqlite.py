"""The embedded mode's database: set-at-a-time ingestion and stories on SQLite (no PostgreSQL paths)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, SQLModel, create_engine, select

import shared.models  # noqa: F401  (registers every table)
from shared.ingestion.schemas import ArticleIn
from shared.ingestion.service import store_entries
from shared.models import Article, ArticleSource, Feed
from shared.models.article import StoryBand

TEXT = (
    "Foreign ministers of the Shanghai Cooperation Organisation met in Tashkent on Friday to prepare the "
    "summit, discussing transport corridors, counter-terrorism cooperation, the situation in Afghanistan "
    "and applications from several countries that want to join the organisation as observers or partners."
)


def test_sqlite_ingestion_dedups_remembers_feeds_and_assigns_stories(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        a, b = Feed(url="https://a.example/rss"), Feed(url="https://b.example/rss")
        session.add_all([a, b])
        session.flush()
        assert a.id is not None and b.id is not None
        first = store_entries(
            session=session,
            source="feed",
            feed_id=a.id,
            items=[
                ArticleIn(title="SCO ministers meet", text=TEXT, url="https://news.example/1?utm_source=x"),
                ArticleIn(
                    title="Ministers in Tashkent", text=TEXT + " More soon.", url="https://wire.example/9"
                ),
            ],
        )
        second = store_entries(
            session=session,
            source="feed",
            feed_id=b.id,
            items=[ArticleIn(title="SCO ministers meet", text=TEXT, url="http://www.news.example/1/")],
        )
        session.commit()
        assert len(first.new_ids) == 2 and second.new_ids == [] and second.ids == [first.ids[0]]
        arts = list(session.exec(select(Article).order_by(Article.id)))
        assert [x.story_id for x in arts] == [arts[0].id, arts[0].id]
        assert len(list(session.exec(select(ArticleSource)))) == 3
        assert len(list(session.exec(select(StoryBand)))) > 0
    engine.dispose()
