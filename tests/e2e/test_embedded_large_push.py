"""Embedded mode (SQLite): while 25 articles of 2 MB are pushed and processed, creating watches and
subscriptions keeps working: every write answers 201, never a 500 "database is locked" (the latency is
measured by `newswatch bench sqlite_push`, not asserted here)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import embedded, free_port

pytestmark = pytest.mark.e2e

KEY = "nwk_large_push_test_key"
ARTICLES = 25
CHARS = 1_990_000  # under the 2,000,000-character limit of an article's text


def _big_text(n: int) -> str:
    sentence = f"Report {n}: the ministers of the member states met again to discuss trade and security. "
    return (sentence * (CHARS // len(sentence) + 1))[:CHARS]


def test_api_writes_keep_succeeding_during_a_large_push(tmp_path: Path) -> None:
    port = free_port()
    proc = embedded(tmp_path / "data", port, "--no-seed", key=KEY)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {KEY}"}
    statuses: list[int | str] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=base, headers=auth, timeout=30) as c:
            i = 0
            while not stop.is_set():
                try:
                    if i % 2:
                        r = c.post("/api/v1/watches", json={"name": f"w{i}", "query": f"word{i} AND summit"})
                    else:
                        r = c.post("/api/v1/subscriptions", json={"url": f"http://127.0.0.1:9/hook/{i}"})
                    statuses.append(r.status_code)
                except httpx.TimeoutException:
                    statuses.append("timeout")
                i += 1
                time.sleep(0.1)

    try:
        writer = threading.Thread(target=write, daemon=True)
        with httpx.Client(base_url=base, headers=auth, timeout=120) as client:
            writer.start()
            for n in range(ARTICLES):
                article = {
                    "title": f"Big report {n}",
                    "text": _big_text(n),
                    "url": f"https://big.example/{n}",
                }
                r = client.post("/api/v1/articles", json=article)
                assert r.status_code == 202, r.text[:300]
            time.sleep(10)  # the pipeline is writing the big articles' results meanwhile
            stop.set()
            writer.join(60)
            stored = client.get("/api/v1/articles/1").json()
            assert len(stored["text"]) == CHARS  # the stored text stays whole
    finally:
        stop.set()
        proc.stop(timeout=30)
    assert len(statuses) > 20, statuses
    assert set(statuses) == {201}, {s: statuses.count(s) for s in set(statuses)}
