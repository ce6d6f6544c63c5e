"""/api/v1/articles: the shared corpus: push articles (202 with ids), list newest first, read one with its
entities and the matches of the caller's watches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.errors import errors_doc
from services.api.params import BeforeQ, IdPath
from services.dispatch import enqueue_processing
from shared.errors import Conflict, NotFound
from shared.ingestion.schemas import (
    Accepted,
    ArticleBatch,
    ArticleDetail,
    ArticleIn,
    ArticleOut,
    MatchOut,
    MentionOut,
)
from shared.ingestion.service import ingest
from shared.links import safe_link
from shared.models import Article
from shared.models.article import STATUS_FAILED
from shared.nlp import store as mentions
from shared.pipeline import service as pipeline
from shared.rules import store as matches
from shared.schemas import MAX_INT
from shared.search import service as search
from shared.search.schemas import SearchPage

router = APIRouter(prefix="/api/v1/articles", tags=["articles"])
StatusQ = Annotated[str | None, Query(max_length=20, description="fetched, processed, failed…")]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def push_articles(
    body: ArticleIn | ArticleBatch, session: SessionDep, settings: SettingsDep, _: CallerDep
) -> Accepted:
    """Take one article or {"articles": [...]}; new ones are queued for processing after commit."""
    items = body.articles if isinstance(body, ArticleBatch) else [body]
    result = ingest(session=session, items=items, source="api")
    session.commit()
    enqueue_processing(result.new_ids, settings=settings)
    return Accepted(ids=result.ids, new_ids=result.new_ids)


_SEARCH_PARAMS = ("q", "watch_id", "entity", "feed_id", "language", "story_id", "since", "until", "cursor")
QueryQ = Annotated[
    str | None,
    Query(
        max_length=1000,
        description='full-text query: words (AND), "phrases", OR, -excluded, prefix*, (groups)',
        examples=['"Shanghai Cooperation" summit -Linux'],
    ),
]
EntityQ = Annotated[
    str | None,
    Query(
        max_length=500, description="mentions this entity: id, knowledge-base id or name", examples=["Q15031"]
    ),
]
LanguageQ = Annotated[
    list[str] | None,
    Query(max_length=10, description="ISO 639-1 codes (repeatable)", examples=[["en", "ru"]]),
]


@router.get("", response_model=SearchPage)
def list_articles(
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    q: QueryQ = None,
    watch_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="matched by this watch")] = None,
    entity: EntityQ = None,
    feed_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="arrived through this feed")] = None,
    language: LanguageQ = None,
    story_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="of this story")] = None,
    since: Annotated[datetime | None, Query(description="article time at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="article time before (ISO 8601)")] = None,
    sort: Annotated[
        Literal["published", "relevance"] | None,
        Query(
            description="default published; relevance ranks the newest "
            "NEWSWATCH_SEARCH_RANK_CANDIDATES matches (1,000; PostgreSQL), title words above text"
        ),
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=500, description="the previous page's next_cursor")
    ] = None,
    facets: Annotated[bool, Query(description="also count matches per day and per language")] = False,
    limit: Annotated[int, Query(ge=1, le=200, description="page size")] = 20,
    before: BeforeQ = None,
    status: StatusQ = None,
) -> SearchPage:
    """Search processed articles (text, filters, sort, cursor, highlights, facets); without any search
    parameter, list every article newest first (`before`, `status`)."""
    given = {"q": q, "watch_id": watch_id, "entity": entity, "feed_id": feed_id, "language": language,
             "story_id": story_id, "since": since, "until": until, "cursor": cursor}  # fmt: skip
    if not any(given[k] for k in _SEARCH_PARAMS) and sort is None and not facets:
        return search.list_recent(session=session, limit=limit, before=before, status=status)
    filters = search.build_filters(
        session=session,
        caller=caller,
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
        rank_candidates=settings.search_rank_candidates,
    )


@router.post(
    "/{article_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ArticleOut,
    responses=errors_doc(409),
)
def retry_article(article_id: IdPath, session: SessionDep, _: CallerDep) -> ArticleOut:
    """Process a failed article again (409 unless it failed)."""
    a = session.get(Article, article_id)
    if a is None:
        raise NotFound("no such article")
    if a.status != STATUS_FAILED:
        raise Conflict(f"article {article_id} is {a.status}, not failed")
    pipeline.retry_article(session=session, article=a)
    session.commit()
    enqueue_processing([article_id])
    return ArticleOut.model_validate(a, from_attributes=True)


@router.get("/{article_id}", response_model=ArticleDetail)
def get_article(article_id: IdPath, session: SessionDep, caller: CallerDep) -> ArticleDetail:
    """One article with its text, entities and the matches of the caller's watches."""
    a = session.get(Article, article_id)
    if a is None:
        raise NotFound("no such article")
    ents = [
        MentionOut(
            text=m.text,
            label=m.label,
            canonical=e.name if m.linked else None,
            entity_id=e.id,
            kb_id=e.kb_id,
            start=m.start,
            end=m.end,
        )
        for m, e in mentions.for_article(session=session, article_id=article_id)
    ]
    found = matches.matches_of_article(session=session, article_id=article_id, owner_id=caller.owner_filter)
    hits = [
        MatchOut(watch_id=w.id or 0, watch=w.name, score=m.score, terms=m.terms, snippet=m.snippet)
        for m, w in found
    ]
    base = ArticleOut.model_validate(a, from_attributes=True).model_dump()
    base["url"] = safe_link(a.url)  # only http(s) is ever offered as a link
    return ArticleDetail(**base, text=a.text, author=a.author, entities=ents, matches=hits)
