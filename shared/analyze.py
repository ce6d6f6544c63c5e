"""`newswatch analyze`: one article in, language, linked entities and watch matches out; no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.config import Settings
from shared.ingestion.schemas import ArticleIn
from shared.nlp import ArticleInput
from shared.pipeline.service import extractor_for
from shared.rules import (
    DocEntity,
    MatchDocument,
    RuleSyntaxError,
    WatchSpec,
    canonical,
    compile_watches,
    load_watch_file,
)
from shared.seeding import parse_plain_article


class AnalyzeError(ValueError):
    """The input or the watch file cannot be used."""


def parse_input(raw: str) -> ArticleIn:
    """JSON with title/text/url/published, or plain text."""
    stripped = raw.strip()
    if not stripped:
        raise AnalyzeError("empty input")
    if stripped.startswith("{"):
        try:
            return ArticleIn.model_validate(json.loads(stripped))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise AnalyzeError(f"not a valid article: {exc}") from exc
    return parse_plain_article(raw)


def load_watches(watches_file: Path | None, settings: Settings) -> list[WatchSpec]:
    """The given watch file, or every default watchlist in seeds/."""
    try:
        if watches_file is not None:
            return load_watch_file(watches_file)
        specs: list[WatchSpec] = []
        for path in sorted((settings.seeds_dir / "watchlists").glob("*.y*ml")):
            specs += load_watch_file(path)
        return specs
    except (OSError, ValueError) as exc:
        raise AnalyzeError(f"cannot load watches: {exc}") from exc


def analyze_input(raw: str, *, watches_file: Path | None, settings: Settings) -> dict[str, Any]:
    """The analyze JSON: {"language", "entities": [...], "matches": [...]}."""
    article = parse_input(raw)
    specs = load_watches(watches_file, settings)
    for spec in specs:  # refuse a bad query before the model loads
        try:
            canonical(spec.query)
        except RuleSyntaxError as exc:
            raise AnalyzeError(f"watch {spec.name!r}: {exc}") from exc
    extractor = extractor_for(settings)
    try:
        engine = compile_watches(specs, resolver=extractor.kb)
    except RuleSyntaxError as exc:
        raise AnalyzeError(str(exc)) from exc
    result = extractor.extract_many(
        [
            ArticleInput(
                title=article.title, text=article.text, language=article.language, published=article.published
            )
        ]
    )[0]
    language = article.language or result.language
    doc = MatchDocument(
        title=article.title,
        text=article.text,
        language=language,
        published=article.published,
        entities=[DocEntity(e.entity_id, e.label, e.text, e.canonical) for e in result.entities],
    )
    matches = engine.match(doc)
    return {
        "language": language,
        "entities": [
            {
                "text": e.text,
                "label": e.label,
                "canonical": e.canonical,
                "kb_id": e.entity_id,  # the knowledge-base id, named as in the API and webhooks
                "start": e.start,
                "end": e.end,
            }
            for e in result.entities
        ],
        "matches": [
            {
                "watch": m.watch_name,
                "score": m.score,
                "terms": list(dict.fromkeys(t.term for t in m.terms)),
                "hits": [
                    {"term": t.term, "field": t.field, "start": t.start, "end": t.end, "text": t.text}
                    for t in m.terms
                ],
                "snippet": m.snippet,
            }
            for m in matches
        ],
    }
