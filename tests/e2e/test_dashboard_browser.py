"""The dashboard in real headless Chromium (Debian's `chromium`, driven over CDP) against `newswatch run`:
sign in, a pushed article appears live (hits highlighted), search finds it, its entity page draws a chart,
a javascript: URL never becomes a link, markup in a title stays text, the key stays out of persistent
storage, no console errors, readable on a phone. Screenshots are kept outside the repository; the folder
is printed."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.cdp import Browser, find_chromium
from tests.support.processes import Proc

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]
KEY = "nwk_browser_test_key"
CHROMIUM = find_chromium()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _artifacts() -> Path:
    root = Path(os.environ.get("NEWSWATCH_TEST_ARTIFACTS") or tempfile.gettempdir())
    folder = root / f"newswatch-browser-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait(predicate, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (scripts/ensure-chromium.sh)"
)
def test_dashboard_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env.update({"NEWSWATCH_ADMIN_API_KEY": KEY, "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8"})
    proc = Proc(
        ["run", "--port", str(port), "--data-dir", str(tmp_path / "data"), "--no-feeds"], name="browser"
    )
    proc.env = env
    proc.start()
    shots = _artifacts()
    print(f"\nbrowser test screenshots: {shots}")
    base = f"http://127.0.0.1:{port}"
    token = uuid.uuid4().hex[:8]
    try:
        proc.wait_for_log("Uvicorn running", timeout=120)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as api:
            # the seeds are processed first, so the page has stories to show
            _wait(lambda: api.get("/api/v1/alerts").json()["items"], 120, "the seed alerts")
            with Browser(CHROMIUM, width=1280, height=900) as b:
                b.navigate(base + "/")
                b.wait_for("!document.getElementById('login').hidden")
                b.screenshot(shots / "01-login.png")
                # signed out, only the sign-in form shows: no navigation, no view
                assert b.evaluate("getComputedStyle(document.getElementById('nav')).display") == "none"
                assert b.evaluate("[...document.querySelectorAll('.view')].every(v => !v.offsetParent)")
                b.type_into("#key", KEY)
                b.click("#login-form button[type=submit]")
                b.wait_for("document.querySelectorAll('#live-list li.story').length > 0", timeout=30)
                b.wait_for("document.getElementById('conn').textContent === 'live'", timeout=30)
                assert b.evaluate("localStorage.length") == 0
                assert b.evaluate("sessionStorage.getItem('newswatch.key')") == KEY
                b.screenshot(shots / "02-live.png")

                title = f"Shanghai Cooperation Organisation ministers meet in Bishkek {token}"
                pushed = api.post(
                    "/api/v1/articles",
                    json={
                        "title": title,
                        "text": f"Foreign ministers of the SCO met in Bishkek. Xi Jinping wrote. {token}",
                        "url": f"https://news.example/bishkek-{token}",
                    },
                )
                assert pushed.status_code == 202, pushed.text
                seen = _wait(
                    lambda: b.evaluate(
                        f"document.getElementById('live-list').textContent.includes({json.dumps(token)})"
                    ),
                    90,
                    "the pushed article to appear live",
                )
                print(f"pushed article appeared live after {seen:.1f} s")
                # the alert's snippet comes with its hits marked: shown as highlights, not as ** markers
                assert b.evaluate("document.querySelectorAll('#live-list mark').length") >= 1
                assert "**" not in b.evaluate("document.getElementById('live-list').textContent")
                b.screenshot(shots / "03-live-pushed.png")

                markup = f'SCO summit <img src=x onerror="window.__xss=1"><b>bold</b> {token}'
                tagged = api.post(
                    "/api/v1/articles",
                    json={
                        "title": markup,
                        "text": f"SCO envoys met in Dushanbe on rail tariffs, {token}.",
                        "url": f"https://news.example/m-{token}",
                    },
                )
                assert tagged.status_code == 202, tagged.text
                _wait(
                    lambda: b.evaluate(
                        "document.getElementById('live-list').textContent.includes('<b>bold</b>')"
                    ),
                    90,
                    "the article whose title holds markup, shown as text",
                )
                assert b.evaluate("document.querySelectorAll('main img, main b').length") == 0
                assert b.evaluate("window.__xss === undefined")

                hostile = api.post(
                    "/api/v1/articles",
                    json={"title": f"SCO summit hostile link {token}", "text": "The SCO summit.",
                          "url": "javascript:alert(document.domain)"},
                )  # fmt: skip
                assert hostile.status_code in (202, 422), hostile.text
                if hostile.status_code == 202:
                    _wait(
                        lambda: b.evaluate(
                            "document.getElementById('live-list').textContent.includes('hostile link')"
                        ),
                        90,
                        "the article with a javascript: URL to appear",
                    )
                assert b.evaluate("[...document.links].filter(a => a.protocol === 'javascript:').length") == 0

                b.evaluate("location.hash = '#search'")
                b.wait_for("!document.getElementById('view-search').hidden")
                b.wait_for("document.querySelectorAll('#search-results li').length > 0")
                b.type_into("#s-q", f"bishkek {token}")
                b.click("#search-form button[type=submit]")
                # the query's words come back highlighted: the title's "Bishkek" and the token in the text
                b.wait_for("document.querySelectorAll('#search-results mark').length >= 2")
                assert b.evaluate("document.querySelectorAll('#search-results li.result').length") == 1
                assert token in b.evaluate("document.getElementById('search-results').textContent")
                assert b.evaluate("document.querySelectorAll('#facet-days svg rect.bar').length") >= 1
                b.screenshot(shots / "04-search.png")
                assert b.evaluate("[...document.links].filter(a => a.protocol === 'javascript:').length") == 0

                b.evaluate("location.hash = '#entity/' + encodeURIComponent('Xi Jinping')")
                b.wait_for("document.getElementById('entity-name').textContent === 'Xi Jinping'", timeout=30)
                bars = b.wait_for(
                    "[...document.querySelectorAll('#entity-chart svg rect.bar')]"
                    ".filter(r => Number(r.getAttribute('height')) > 0).length",
                    timeout=30,
                )
                assert bars >= 1
                assert b.evaluate(
                    f"document.getElementById('entity-articles').textContent.includes({json.dumps(token)})"
                )
                b.screenshot(shots / "05-entity.png")

                story_id = api.get("/api/v1/articles", params={"q": token}).json()["items"][0]["story_id"]
                b.evaluate(f"location.hash = '#story/{story_id}'")
                b.wait_for(
                    f"document.getElementById('story-events').textContent.includes({json.dumps(token)})"
                )
                assert b.evaluate("document.querySelectorAll('#story-events .alert-event').length") >= 1
                b.screenshot(shots / "05-story.png")

                # the watch editor: a bad rule is marked where it breaks; a good one previews its matches
                b.evaluate("location.hash = '#watches'")
                b.wait_for("document.querySelectorAll('#watch-list li').length > 0")
                b.type_into("#w-name", f"draft {token}")
                b.type_into("#w-query", 'SCO AND (summit OR "Shanghai')
                b.evaluate("document.getElementById('w-query').dispatchEvent(new Event('input'))")
                b.wait_for("document.querySelector('#w-check mark.at') !== null", timeout=30)
                assert b.evaluate("document.querySelector('#w-check mark.at').textContent") == '"'
                b.screenshot(shots / "06-watch-error.png")
                b.type_into("#w-query", "SCO AND Bishkek")
                b.evaluate("document.getElementById('w-query').dispatchEvent(new Event('input'))")
                b.wait_for("document.getElementById('w-check').classList.contains('ok')", timeout=30)
                b.click("#w-backtest")
                b.wait_for(
                    f"document.getElementById('w-preview').textContent.includes({json.dumps(token)})", 60
                )
                assert "1 of" in b.evaluate("document.getElementById('w-preview').textContent")
                b.screenshot(shots / "06-watch-preview.png")

                # five articles about a place never seen before: it rises (Poisson test, at least 5 articles)
                topics = ("trade", "transport", "energy", "water", "customs")
                for i, topic in enumerate(topics):
                    more = api.post(
                        "/api/v1/articles",
                        json={
                            "title": f"Talks on {topic} in Tashkent {token}",
                            "text": f"Officials gathered in Tashkent on Monday to talk about {topic}. {i}",
                            "url": f"https://news{i}.example/tashkent-{token}",
                        },
                    )
                    assert more.status_code == 202, more.text
                _wait(
                    lambda: (
                        "Tashkent" in {r["name"] for r in api.get("/api/v1/entities/rising").json()["items"]}
                    ),
                    120,
                    "Tashkent to rise",
                )
                b.evaluate("location.hash = '#rising'")
                b.wait_for("document.getElementById('rising-entities').textContent.includes('Tashkent')", 30)
                assert b.evaluate(
                    "[...document.querySelectorAll('#rising-entities a')]"
                    ".some(a => a.textContent === 'Tashkent'"
                    " && a.getAttribute('href').startsWith('#entity/'))"
                )

                for view in ("rising", "feeds", "watches"):
                    b.evaluate(f"location.hash = '#{view}'")
                    b.wait_for(f"!document.getElementById('view-{view}').hidden")
                    time.sleep(1.0)
                    b.screenshot(shots / f"06-{view}.png")

                b.resize(390, 844)
                b.evaluate("location.hash = '#live'")
                b.wait_for("!document.getElementById('view-live').hidden")
                time.sleep(0.5)
                assert b.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
                    "sideways scroll"
                )
                b.screenshot(shots / "07-phone-live.png", full_page=False)
                b.evaluate("location.hash = '#search'")
                time.sleep(0.5)
                assert b.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
                    "sideways scroll"
                )
                b.screenshot(shots / "08-phone-search.png", full_page=False)

                b.click("#logout")
                b.wait_for("!document.getElementById('login').hidden")
                assert b.evaluate("sessionStorage.length + localStorage.length") == 0
                # the one expected failed request: validating the invalid draft (422)
                errors = b.errors(expected_urls=("/api/v1/watches/validate",))
                assert errors == [], errors
    finally:
        proc.stop(timeout=30)
    assert "Traceback" not in proc.log(), proc.log()[-4000:]
