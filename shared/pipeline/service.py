"""Processing a batch of fetched articles: language → entities → watch matching → alerts and outbox.

Everything one batch writes (mentions, matches, alerts, deliveries, the article status) commits together,
so a crash half-way leaves the articles `fetched` for the sweep to find, and a second run changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from shared.alerts import service as alerts
from shared.alerts.payload import EntityRef
from shared.config import Settings
from shared.db import is_sqlite
from shared.models import Article, Feed, Watch
from shared.models.article import STATUS_FETCHED, STATUS_PROCESSED
from shared.models.base import utcnow
from shared.nlp import ArticleInput, EntityExtractor, cached_knowledge_base
from shared.nlp import store as mentions
from shared.rules import DocEntity, MatchDocument
from shared.rules.service import ENGINES
from shared.search.index import article_time, index_articles

_lock = threading.Lock()
_extractors: dict[tuple[str, str], EntityExtractor] = {}


def extractor_for(settings: Settings) -> EntityExtractor:
    """The process's entity extractor (model and knowledge base loaded once)."""
    key = (settings.spacy_model, str(settings.effective_kb_path))
    with _lock:
        if key not in _extractors:
            kb = cached_knowledge_base(settings.effective_kb_path)
            _extractors[key] = EntityExtractor(kb=kb, model_name=settings.spacy_model)
        return _extractors[key]


def _claim(session: Session, article_ids: Sequence[int]) -> list[Article]:
    q = select(Article).where(col(Article.id).in_(article_ids), Article.status == STATUS_FETCHED)
    if not is_sqlite(session):
        # two workers given the same ids must not both process one article
        q = q.with_for_update(skip_locked=True)
    return list(session.exec(q.order_by(col(Article.id))))


def process_batch(*, session: Session, article_ids: Sequence[int], settings: Settings) -> list[int]:
    """Process the still-unprocessed articles among `article_ids`; returns new delivery ids to send."""
    batch = _claim(session, article_ids)
    if not batch:
        return []
    extractor = extractor_for(settings)
    extracted = extractor.extract_many(
        [
            ArticleInput(title=a.title, text=a.text, language=a.language, published=a.published_at)
            for a in batch
        ]
    )
    engine = ENGINES.get(session=session, resolver=extractor.kb)
    watches = {w.id: w for w in session.exec(select(Watch))}
    feed_urls = {
        f.id: f.url for f in session.exec(select(Feed).where(col(Feed.id).in_({a.feed_id for a in batch})))
    }
    delivery_ids: list[int] = []
    now = utcnow()
    for article, result in zip(batch, extracted, strict=True):
        assert article.id is not None
        article.language = article.language or result.language
        mentions.replace_mentions(
            session=session,
            article_id=article.id,
            published_at=article_time(article.published_at, article.fetched_at),
            entities=result.entities,
        )
        doc = MatchDocument(
            title=article.title,
            text=article.text,
            language=article.language,
            published=article.published_at,
            entities=[DocEntity(e.entity_id, e.label, e.text, e.canonical) for e in result.entities],
        )
        refs = [
            EntityRef(text=e.text, label=e.label, canonical=e.canonical, kb_id=e.entity_id)
            for e in result.entities
        ]
        for match in engine.match(doc):
            watch = watches.get(int(match.watch_id))
            if watch is None:
                continue
            delivery_ids += alerts.record_match(
                session=session,
                article=article,
                watch=watch,
                result=match,
                entities=_dedupe(refs),
                feed_url=feed_urls.get(article.feed_id),
            )
        article.status = STATUS_PROCESSED
        article.processed_at = now
        session.add(article)
    session.flush()
    index_articles(session=session, articles=batch)  # searchable from the same commit on
    return delivery_ids


def _dedupe(refs: list[EntityRef]) -> list[EntityRef]:
    seen: dict[tuple[str, str], EntityRef] = {}
    for r in refs:
        seen.setdefault((r.label, r.kb_id or r.canonical or r.text), r)
    return list(seen.values())


def stuck_article_ids(*, session: Session, older_than_seconds: float, limit: int = 1000) -> list[int]:
    """Articles left `fetched` too long (a lost message, a killed worker): the sweep re-enqueues them."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    q = (
        select(Article.id)
        .where(Article.status == STATUS_FETCHED, col(Article.fetched_at) <= cutoff)
        .order_by(col(Article.id))
        .limit(limit)
    )
    return [i for i in session.exec(q) if i is not None]


__all__ = ["extractor_for", "process_batch", "stuck_article_ids"]
