"""/api/v1/articles: the shared corpus: push articles (202 with ids), list newest first, read one with its
entities and the matches of the caller's watches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.errors import errors_doc
from services.api.params import BeforeQ, IdPath, LimitQ
from services.queue import chunks, send
from shared.errors import Conflict, NotFound
from shared.ingestion import store
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
from shared.models import Article
from shared.models.article import STATUS_FAILED
from shared.nlp import store as mentions
from shared.pipeline import service as pipeline
from shared.rules import store as matches
from shared.schemas import Page

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
    for batch in chunks(result.new_ids, settings.pipeline_batch_size):
        send("pipeline.process_batch", [batch])
    return Accepted(ids=result.ids, new_ids=result.new_ids)


@router.get("", response_model=Page[ArticleOut])
def list_articles(
    session: SessionDep, _: CallerDep, limit: LimitQ = 50, before: BeforeQ = None, status: StatusQ = None
) -> Page[ArticleOut]:
    """Articles, newest first."""
    rows = store.list_page(session=session, limit=limit, before_id=before, status=status)
    return Page.of(
        [ArticleOut.model_validate(a, from_attributes=True) for a in rows],
        limit,
        rows[-1].id if rows else None,
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
    send("pipeline.process_batch", [[article_id]])
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
    return ArticleDetail(**base, text=a.text, author=a.author, entities=ents, matches=hits)
