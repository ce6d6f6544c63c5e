"""Text no database stores (NUL, lone surrogates) and references to characters XML forbids, on every path
that brings text in: a feed's items (both readers), a JSON Feed, a pushed article, an imported archive line,
and the error recorded on a feed. One such character never loses the rest of the document.

Before the fix: `&#xD800;`, `&#x110000;` or `&#99999999999;` in one item made feedparser raise
(UnicodeEncodeError / ValueError / OverflowError) after lxml had declined the document, so the fetch task
crashed and nothing of the feed was stored; a NUL reached PostgreSQL, which refuses it.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from shared.config import get_settings
from shared.db import session_scope
from shared.fetching import service
from shared.fetching.feeds import parse_feed
from shared.models import Article, Feed
from shared.models.base import storable
from tests.support.servers import LocalServer

pytestmark = pytest.mark.integration

RSS = {"content-type": "application/rss+xml"}
BAD_REFS = ["&#xD800;", "&#xDFFF", "&#55296;", "&#0;", "&#x1;", "&#xFFFE;", "&#x110000;", "&#99999999999;"]


def _doc(ref: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed \x00one</title>'
        f"<item><title>SCO {ref} summit</title><link>https://news.example/1</link>"
        f"<description><![CDATA[<p>Leaders {ref} met.</p>]]></description></item>"
        "<item><title>Second item</title><link>https://news.example/2</link>"
        "<description>Ministers met in Tashkent.</description></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("reader", ["auto", "fast", "fallback"])
@pytest.mark.parametrize("ref", BAD_REFS)
def test_a_reference_to_a_forbidden_character_reads_as_u_fffd(ref: str, reader: str) -> None:
    feed = parse_feed(_doc(ref), url="https://news.example/feed", reader=reader)  # type: ignore[arg-type]
    assert [e.title for e in feed.entries] == ["SCO \ufffd summit", "Second item"]
    assert feed.entries[0].summary == "Leaders \ufffd met."


def test_allowed_references_are_untouched() -> None:
    doc = _doc("&#00000000065;&#x10FFFF;&#9;")
    feed = parse_feed(doc, url="https://news.example/feed", reader="fast")
    assert feed.entries[0].title == "SCO A\U0010ffff summit"


def test_storable_drops_nul_and_replaces_lone_surrogates() -> None:
    assert storable("a\x00b\ud800c\udfffd") == "ab\ufffdc\ufffdd"
    assert storable("plain 習近平 text") == "plain 習近平 text"


@pytest.mark.parametrize("ref", ["&#xD800;", "&#x110000;", "&#0;"])
def test_a_feed_with_such_an_item_is_stored_whole_in_postgresql(
    clean_db: str, server: LocalServer, ref: str
) -> None:
    server.routes["/f.xml"] = (200, RSS, _doc(ref))
    with session_scope() as session:
        feed = service.create_feed(session=session, url=server.url("/f.xml"), settings=get_settings())
        feed_id = feed.id
    assert feed_id is not None
    outcome = service.fetch_feed(feed_id=feed_id, settings=get_settings(), session_factory=session_scope)
    assert outcome.error is None, outcome.error
    assert len(outcome.new_article_ids) == 2
    with session_scope() as session:
        titles = sorted(a.title for a in session.exec(select(Article)))
        stored = session.get(Feed, feed_id)
        assert stored is not None
        assert stored.title == "Feed one"  # the NUL in the feed's own title dropped
    assert titles == ["SCO \ufffd summit", "Second item"]


def test_a_json_feed_and_a_push_with_nul_and_surrogates_are_stored(
    clean_db: str, server: LocalServer, api: TestClient
) -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": "1", "url": "https://news.example/j1", "title": "SCO \\ud800 \\u0000 summit",'
        b' "content_text": "Leaders\\u0000 met \\udfff."}]}'
    )
    server.routes["/f.json"] = (200, {"content-type": "application/feed+json"}, body)
    with session_scope() as session:
        feed_id = service.create_feed(session=session, url=server.url("/f.json"), settings=get_settings()).id
    assert feed_id is not None
    outcome = service.fetch_feed(feed_id=feed_id, settings=get_settings(), session_factory=session_scope)
    assert outcome.error is None and len(outcome.new_article_ids) == 1, outcome
    pushed = api.post(
        "/api/v1/articles",
        content=json.dumps({"title": "Pushed\u0000 title", "text": "Text with a NUL\u0000 in it."}),
        headers={"content-type": "application/json"},
    )
    assert pushed.status_code == 202, pushed.text
    with session_scope() as session:
        arts = {a.title: a.text for a in session.exec(select(Article))}
    assert arts == {"SCO \ufffd  summit": "Leaders met \ufffd.", "Pushed title": "Text with a NUL in it."}


def test_an_error_quoting_unstorable_text_is_recorded_on_the_feed(clean_db: str, server: LocalServer) -> None:
    # An HTML page whose advertised feed link holds a NUL: the parse error names it, and it is still stored.
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/x\x00\xed\xa0\x80.xml">'
        b"</head></html>"
    )
    server.routes["/page"] = (200, {"content-type": "text/html"}, page)
    with session_scope() as session:
        feed_id = service.create_feed(session=session, url=server.url("/page"), settings=get_settings()).id
    assert feed_id is not None
    outcome = service.fetch_feed(feed_id=feed_id, settings=get_settings(), session_factory=session_scope)
    assert outcome.error and "HTML page" in outcome.error
    with session_scope() as session:
        stored = session.get(Feed, feed_id)
        assert stored is not None and stored.last_error and "\x00" not in stored.last_error
