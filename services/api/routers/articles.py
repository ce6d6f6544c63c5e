"""/api/v1/articles: push articles (202 with ids), list newest first, read one with entities and matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from services.api.deps import KeyDep, SessionDep, SettingsDep
from services.api.pagination import BeforeQ, LimitQ, Page, page
from services.queue import chunks, send
from shared.errors import NotFound
from shared.ingestion import store
from shared.ingestion.schemas import ArticleIn
from shared.ingestion.service import ingest
from shared.models import Article, Match, Watch
from shared.nlp import store as mentions

router = APIRouter(prefix="/api/v1/articles", tags=["articles"])


class ArticleBatch(BaseModel):
    articles: list[ArticleIn] = Field(min_length=1, max_length=1000)


class Accepted(BaseModel):
    ids: list[int]
    new_ids: list[int]


class ArticleOut(BaseModel):
    id: int
    url: str | None
    canonical_url: str
    title: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    processed_at: datetime | None
    status: str
    story_id: int | None
    source: str
    feed_id: int | None


class ArticleDetail(ArticleOut):
    text: str
    author: str | None
    entities: list[dict[str, Any]]
    matches: list[dict[str, Any]]


def article_out(a: Article) -> ArticleOut:
    return ArticleOut.model_validate(a, from_attributes=True)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def push_articles(
    body: ArticleIn | ArticleBatch, session: SessionDep, settings: SettingsDep, _: KeyDep
) -> Accepted:
    """Take one article or {"articles": [...]}; new ones are queued for processing after commit."""
    items = body.articles if isinstance(body, ArticleBatch) else [body]
    result = ingest(session=session, items=items, source="api")
    session.commit()
    for batch in chunks(result.new_ids, settings.pipeline_batch_size):
        send("pipeline.process_batch", [batch])
    return Accepted(ids=result.ids, new_ids=result.new_ids)


@router.get("", response_model=Page[ArticleOut])
def list_articles(
    session: SessionDep, _: KeyDep, limit: LimitQ = 50, before: BeforeQ = None, status: str | None = None
) -> Page[ArticleOut]:
    rows = store.list_page(session=session, limit=limit, before_id=before, status=status)
    return page([article_out(a) for a in rows], limit, rows[-1].id if rows else None)


@router.get("/{article_id}", response_model=ArticleDetail)
def get_article(article_id: int, session: SessionDep, _: KeyDep) -> ArticleDetail:
    a = session.get(Article, article_id)
    if a is None:
        raise NotFound("no such article")
    ents = [
        {
            "text": m.text,
            "label": m.label,
            "canonical": e.name if m.linked else None,
            "entity_id": e.id,
            "kb_id": e.kb_id,
            "start": m.start,
            "end": m.end,
        }
        for m, e in mentions.for_article(session=session, article_id=article_id)
    ]
    q = (
        select(Match, Watch)
        .join(Watch, col(Watch.id) == Match.watch_id)
        .where(Match.article_id == article_id)
    )
    matches = [
        {"watch_id": w.id, "watch": w.name, "score": m.score, "terms": m.terms, "snippet": m.snippet}
        for m, w in session.exec(q)
    ]
    base = article_out(a).model_dump()
    return ArticleDetail(**base, text=a.text, author=a.author, entities=ents, matches=matches)
