"""A plugin extractor that tells where it was made: load it with NEWSWATCH_PLUGINS=tests.support.counting.

It registers the entity extractor `counting` (NEWSWATCH_ENTITY_EXTRACTOR=counting): no model and no entities;
each time one is made, and each time it is handed articles, it appends a line to the file named by
NWTEST_COUNTING_FILE: `made <pid>` or `extract <pid> <n articles>`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from shared.config import Settings
from shared.nlp import ArticleEntities, ArticleInput
from shared.pipeline.service import Extractor, register_extractor


def _note(line: str) -> None:
    with Path(os.environ["NWTEST_COUNTING_FILE"]).open("a") as fh:
        fh.write(line + "\n")


class CountingExtractor:
    """No entities; every construction and call noted with the process id."""

    kb = None

    def __init__(self) -> None:
        _note(f"made {os.getpid()}")

    def extract_many(self, items: Sequence[ArticleInput]) -> list[ArticleEntities]:
        _note(f"extract {os.getpid()} {len(items)}")
        return [ArticleEntities(i.language or "en", []) for i in items]


def _factory(settings: Settings) -> Extractor:
    return CountingExtractor()


register_extractor("counting", _factory)
