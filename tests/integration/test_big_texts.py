"""A long text: entities come from its first NEWSWATCH_ENTITY_MAX_CHARS characters; the stored text and
watch matching use all of it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.config import get_settings
from shared.db import session_scope
from shared.pipeline import service

pytestmark = pytest.mark.integration


def test_entities_come_from_the_start_of_a_long_text_and_matching_reads_it_all(api: TestClient) -> None:
    assert api.post("/api/v1/watches", json={"name": "tail", "query": "Tashkent"}).status_code == 201
    filler = "The talks went on through the afternoon without any announcement. " * 60  # ~4,000 chars
    text = "Vladimir Putin met Xi Jinping in Beijing on Thursday. " + filler + "Later, in Tashkent, "
    text += "Narendra Modi spoke to reporters about the summit."
    r = api.post("/api/v1/articles", json={"title": "Talks", "text": text, "url": "https://long.example/1"})
    assert r.status_code == 202, r.text
    article_id = r.json()["ids"][0]
    settings = get_settings().model_copy(update={"entity_max_chars": 1000})
    service.process_batch(sessions=session_scope, article_ids=[article_id], settings=settings)
    body = api.get(f"/api/v1/articles/{article_id}").json()
    assert body["status"] == "processed" and body["text"] == text
    names = {e["canonical"] or e["text"] for e in body["entities"]}
    assert "Vladimir Putin" in names
    assert not any("Modi" in n for n in names)  # past the cut: not searched for entities
    assert [m["watch"] for m in body["matches"]] == ["tail"]  # matching read the whole text
