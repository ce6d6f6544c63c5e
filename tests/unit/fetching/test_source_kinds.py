"""Source kinds: one table read by the API's validation, its schema and the fetch service's dispatch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlmodel import Session, SQLModel, create_engine, select

import shared.models  # noqa: F401  (registers every table)
from shared.config import fresh_settings
from shared.fetching import service, sources
from shared.fetching.feeds import FeedEntry, ParsedFeed
from shared.fetching.schemas import FeedIn
from shared.models import Article, Feed
from shared.outbound.http import FetchLimits, FetchResult, HttpClient
from shared.outbound.policy import AddressPolicy

PUBLIC = AddressPolicy(resolver=lambda host, port: ["93.184.216.34"])
TEXT = (
    "Foreign ministers of the Shanghai Cooperation Organisation met in Tashkent on Friday to prepare the "
    "summit, discussing transport corridors, counter-terrorism cooperation and new observers."
)


@dataclass(frozen=True)
class LinesSource:
    """A fake kind: one article per line `url|title` of a plain-text document."""

    name: str = "lines"
    description: str = "one url|title per line (test)"
    always_extract: bool = False
    max_new_per_fetch: int | None = 1

    def parse(self, result: FetchResult, *, client: HttpClient) -> ParsedFeed:
        entries = []
        for line in result.content.decode().splitlines():
            url, title = line.split("|")
            entries.append(
                FeedEntry(guid=url, url=url, title=title, summary="", content=TEXT, published=None)
            )
        return ParsedFeed(title="lines", entries=entries, kind=self.name)


@pytest.fixture
def lines_kind() -> Iterator[LinesSource]:
    kind = LinesSource()
    sources.register_source_kind(kind)
    yield kind
    sources.unregister_source_kind(kind.name)


def test_the_built_in_kinds_are_the_table() -> None:
    assert sources.kind_names() == [k.name for k in sources.SOURCE_KINDS] == ["rss", "sitemap"]
    assert FeedIn(url="https://a.example/rss").kind == sources.DEFAULT_KIND == "rss"


def test_the_api_accepts_exactly_the_registered_kinds(lines_kind: LinesSource) -> None:
    for name in sources.kind_names():
        assert FeedIn(url="https://a.example/x", kind=name).kind == name
    with pytest.raises(ValidationError, match="unknown kind 'atom'"):
        FeedIn(url="https://a.example/x", kind="atom")
    schema = FeedIn.model_json_schema()["properties"]["kind"]
    assert schema["enum"] == ["rss", "sitemap", "lines"]
    assert "lines: one url|title per line" in schema["description"]
    sources.unregister_source_kind("lines")
    with pytest.raises(ValidationError):
        FeedIn(url="https://a.example/x", kind="lines")


def test_a_registered_kind_is_fetched_through_the_table(tmp_path: Path, lines_kind: LinesSource) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    SQLModel.metadata.create_all(engine)

    @contextmanager
    def sessions() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    with sessions() as session:
        feed = Feed(url="https://lines.example/list.txt", kind="lines")
        session.add(feed)
        session.flush()
        assert feed.id is not None
        feed_id = feed.id
    body = b"https://news.example/1|SCO ministers meet\nhttps://news.example/2|Summit prepared"
    client = HttpClient(
        PUBLIC, FetchLimits(), transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )
    outcome = service.fetch_feed(
        feed_id=feed_id, settings=fresh_settings(), session_factory=sessions, client=client
    )
    assert outcome.error is None and len(outcome.new_article_ids) == 1  # max_new_per_fetch of the kind
    with sessions() as session:
        assert [a.title for a in session.exec(select(Article))] == ["SCO ministers meet"]
    again = service.fetch_feed(
        feed_id=feed_id, settings=fresh_settings(), session_factory=sessions, client=client
    )
    assert len(again.new_article_ids) == 1  # the one left over comes with the next poll
    engine.dispose()


def test_an_unregistered_kind_is_an_error_recorded_on_the_feed(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    SQLModel.metadata.create_all(engine)

    @contextmanager
    def sessions() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    with sessions() as session:
        feed = Feed(url="https://gone.example/x", kind="plugin_gone")
        session.add(feed)
        session.flush()
        feed_id = feed.id
    assert feed_id is not None
    client = HttpClient(PUBLIC, FetchLimits(), transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    outcome = service.fetch_feed(
        feed_id=feed_id, settings=fresh_settings(), session_factory=sessions, client=client
    )
    assert outcome.error is not None and "unknown source kind 'plugin_gone'" in outcome.error
    with sessions() as session:
        stored = session.get(Feed, feed_id)
        assert stored is not None and stored.consecutive_failures == 1
    engine.dispose()
