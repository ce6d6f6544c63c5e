"""Only http(s) URLs become article links, on every ingestion path; the page runs under a strict CSP."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.importer import run_import
from shared.config import get_settings
from shared.db import session_scope
from shared.fetching import push, service
from shared.models import Article, Feed
from shared.security.keys import SecretBox
from tests.support.servers import LocalServer, rss

pytestmark = pytest.mark.integration

BAD_LINKS = [
    "javascript:alert(document.domain)",
    "  JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "/relative/path",
    "//no-scheme.example/x",
    "http://",
    "https://exa mple.com/x",
    "http://example.com/\x00",
]
RSS = {"content-type": "application/rss+xml"}


def _links() -> dict[str, str | None]:
    with session_scope() as session:
        return {a.title: a.url for a in session.exec(select(Article))}


@pytest.mark.parametrize("url", BAD_LINKS)
def test_api_push_refuses_a_link_that_is_not_http(api: TestClient, url: str) -> None:
    r = api.post("/api/v1/articles", json={"title": "XSS", "text": "x", "url": url})
    assert r.status_code == 422, r.text
    batch = [{"title": "fine", "text": "x", "url": "https://news.example/1"}, {"title": "XSS", "url": url}]
    assert api.post("/api/v1/articles", json={"articles": batch}).status_code == 422
    assert _links() == {}  # nothing of a refused request is stored


def test_api_push_keeps_http_and_https_links(api: TestClient) -> None:
    for i, url in enumerate(["http://news.example/a", "HTTPS://news.example/b", " https://news.example/c "]):
        r = api.post("/api/v1/articles", json={"title": f"ok {i}", "text": "x", "url": url})
        assert r.status_code == 202, r.text
    assert _links() == {
        "ok 0": "http://news.example/a",
        "ok 1": "HTTPS://news.example/b",
        "ok 2": "https://news.example/c",
    }


def test_import_counts_a_bad_link_as_a_bad_line(clean_db: str, tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    rows = [{"title": "good", "text": "x", "url": "https://arch.example/1"}]
    rows += [{"title": f"bad {i}", "text": "x", "url": url} for i, url in enumerate(BAD_LINKS)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    counts = run_import(path, process=False, progress=False)
    assert counts["new"] == 1 and counts["errors"] == len(BAD_LINKS)
    assert _links() == {"good": "https://arch.example/1"}


def _feed(url: str, **extra: object) -> int:
    with session_scope() as session:
        feed = service.create_feed(session=session, url=url, settings=get_settings(), **extra)
        assert feed.id is not None
        return feed.id


def test_a_feed_entry_with_a_script_link_is_left_out(clean_db: str, server: LocalServer) -> None:
    items = [{"title": "Good", "link": "https://news.example/1", "guid": "g", "description": "Fine."}]
    items += [
        {"title": f"Bad {i}", "link": url, "guid": f"b{i}", "description": "Hostile."}
        for i, url in enumerate(["javascript:alert(document.domain)", "data:text/html,x"])
    ]
    server.routes["/feed.xml"] = (200, RSS, rss(items))
    fid = _feed(server.url("/feed.xml"))
    service.fetch_feed(feed_id=fid, settings=get_settings(), session_factory=session_scope)
    assert _links() == {"Good": "https://news.example/1"}


def test_a_page_canonical_link_that_is_not_http_is_ignored(clean_db: str, server: LocalServer) -> None:
    page = (
        "<html><head><title>Summit ends</title>"
        "<link rel='canonical' href='javascript:alert(document.domain)'></head><body><article>"
        + "<p>The leaders signed a joint statement on security and trade in the region.</p>" * 20
        + "</article></body></html>"
    ).encode()
    server.routes["/story/1"] = (200, {"content-type": "text/html; charset=utf-8"}, page)
    server.routes["/teasers.xml"] = (200, RSS, rss([
        {"title": "Summit ends", "link": server.url("/story/1"), "guid": "s1", "description": "Teaser."},
    ]))  # fmt: skip
    fid = _feed(server.url("/teasers.xml"), extract_full_text=True)
    service.fetch_feed(feed_id=fid, settings=get_settings(), session_factory=session_scope)
    assert _links() == {"Summit ends": server.url("/story/1")}


def test_a_websub_push_entry_with_a_script_link_is_left_out(api: TestClient) -> None:
    settings = get_settings()
    box = SecretBox.from_settings(settings.secret_key, settings.data_dir)
    with session_scope() as session:
        feed = Feed(
            url="https://pushy.example/feed",
            websub_token="tok",
            websub_state="verified",
            websub_secret=box.encrypt("push-secret"),
        )
        session.add(feed)
        session.flush()
        fid, secret = feed.id, push.feed_secret(feed, get_settings())
    pushed = (
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Pushy</title>"
        b"<entry><id>urn:p:1</id><title>Good</title><link href='https://pushy.example/1'/>"
        b"<summary>Fine.</summary></entry>"
        b"<entry><id>urn:p:2</id><title>Bad</title><link href='javascript:alert(document.domain)'/>"
        b"<summary>Hostile.</summary></entry></feed>"
    )
    sig = "sha256=" + hmac.new(secret.encode(), pushed, hashlib.sha256).hexdigest()
    r = api.post(
        f"/websub/{fid}/tok",
        content=pushed,
        headers={"content-type": "application/atom+xml", "x-hub-signature": sig},
    )
    assert r.status_code == 202 and r.json() == {"accepted": 1}, r.text
    assert _links() == {"Good": "https://pushy.example/1"}


def test_the_page_runs_under_a_strict_csp_with_no_inline_script(api: TestClient) -> None:
    r = api.get("/")
    assert r.status_code == 200
    csp = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split(";") if d.strip()}
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert r.headers["x-content-type-options"] == "nosniff"
    html = r.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html and not re.search(r"\son[a-z]+\s*=", html, re.I), "inline style or handler"
    for src in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        asset = api.get(src)
        assert asset.status_code == 200, src
        assert asset.headers["content-security-policy"] == r.headers["content-security-policy"]
