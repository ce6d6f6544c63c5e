"""A fault-injection plugin for real workers: load it with NEWSWATCH_PLUGINS=tests.support.faults.

It registers the entity extractor `faulty` (select it with NEWSWATCH_ENTITY_EXTRACTOR=faulty): no model, no
entities, and a failure for every article whose title holds FAIL_MARKER while the file named by
NWTEST_FAULT_FLAG exists (delete the file and a retry succeeds). Its resolver fails to evaluate the office
BROKEN_OFFICE, so a watch `office:"<BROKEN_OFFICE>"` compiles and then raises on every candidate article.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from shared.config import Settings
from shared.nlp import ArticleEntities, ArticleInput
from shared.pipeline.service import Extractor, register_extractor

FAIL_MARKER = "[injected-failure]"
BROKEN_OFFICE = "Broken Office"


class FaultyResolver:
    """Knows no names; evaluating the broken office raises."""

    def ids_for_name(self, name: str) -> set[str]:
        return set()

    def office_holders(self, office: str, at: date | None) -> set[str]:
        if office == BROKEN_OFFICE:
            raise RuntimeError(f"injected resolver failure for {office!r}")
        return set()


class FaultyExtractor:
    """No entities; a model error for marked articles while the flag file exists."""

    def __init__(self) -> None:
        self.kb = FaultyResolver()

    def extract_many(self, items: Sequence[ArticleInput]) -> list[ArticleEntities]:
        flag = os.environ.get("NWTEST_FAULT_FLAG")
        if flag and Path(flag).exists() and any(FAIL_MARKER in i.title for i in items):
            raise RuntimeError("injected model failure")
        return [ArticleEntities(i.language or "en", []) for i in items]


def _factory(settings: Settings) -> Extractor:
    return FaultyExtractor()


register_extractor("faulty", _factory)
