"""/api/v1/articles: push articles (202 with ids), list newest first, read one with entities and matches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from services.api.deps import KeyDep, ReaderDep, SessionDep, SettingsDep
from services.api.pagination import BeforeQ
from services.queue import chunks, send
from shared.ingestion.schemas import ArticleIn
from shared.ingestion.service import ingest
from shared.models import Article, Match, Watch
from shared.nlp import store as mentions
from shared.search import service as search
from shared.search.schemas import SearchPage

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
    out = ArticleOut.model_validate(a, from_attributes=True)
    out.url = search.safe_link(out.url)  # only http(s) is ever offered as a link
    return out


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


_SEARCH_PARAMS = ("q", "watch_id", "entity", "feed_id", "language", "story_id", "since", "until", "cursor")


@router.get("", response_model=SearchPage)
def list_articles(
    session: SessionDep,
    viewer: ReaderDep,
    q: Annotated[
        str | None,
        Query(
            max_length=1000,
            description='full-text query: words (AND), "phrases", OR, -excluded, prefix*, (groups)',
            examples=['"Shanghai Cooperation" summit -Linux'],
        ),
    ] = None,
    watch_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="matched by this watch")] = None,
    entity: Annotated[
        str | None,
        Query(
            max_length=500,
            description="mentions this entity: id, knowledge-base id or name",
            examples=["Q15031"],
        ),
    ] = None,
    feed_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="arrived through this feed")] = None,
    language: Annotated[
        list[str] | None,
        Query(max_length=10, description="ISO 639-1 codes (repeatable)", examples=[["en", "ru"]]),
    ] = None,
    story_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="of this story")] = None,
    since: Annotated[datetime | None, Query(description="article time at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="article time before (ISO 8601)")] = None,
    sort: Annotated[Literal["published", "relevance"] | None, Query(description="default published")] = None,
    cursor: Annotated[
        str | None, Query(max_length=500, description="the previous page's next_cursor")
    ] = None,
    facets: Annotated[bool, Query(description="also count matches per day and per language")] = False,
    limit: Annotated[int, Query(ge=1, le=200, description="page size")] = 20,
    before: BeforeQ = None,
    status: Annotated[
        str | None, Query(max_length=20, description="listing only: fetched, processed, failed")
    ] = None,
) -> SearchPage:
    """Search processed articles (text, filters, sort, cursor, highlights, facets); without any search
    parameter, list every article newest first (`before`, `status`)."""
    given = {"q": q, "watch_id": watch_id, "entity": entity, "feed_id": feed_id, "language": language,
             "story_id": story_id, "since": since, "until": until, "cursor": cursor}  # fmt: skip
    if not any(given[k] for k in _SEARCH_PARAMS) and sort is None and not facets:
        return search.list_recent(session=session, limit=limit, before=before, status=status)
    filters = search.build_filters(
        session=session,
        viewer=viewer,
        q=q,
        watch_id=watch_id,
        entity=entity,
        feed_id=feed_id,
        languages=language or (),
        story_id=story_id,
        since=since,
        until=until,
    )
    return search.search_articles(
        session=session,
        filters=filters,
        sort=sort or "published",
        cursor=cursor,
        limit=limit,
        with_facets=facets,
    )


@router.get("/{article_id}", response_model=ArticleDetail)
def get_article(article_id: int, session: SessionDep, _: KeyDep) -> ArticleDetail:
    a = session.get(Article, article_id)
    if a is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such article")
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
