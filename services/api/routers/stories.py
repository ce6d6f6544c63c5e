"""/api/v1/stories: stories in a window, rising stories, one story's timeline of articles and alerts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlmodel import Session

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.params import HoursQ, IdPath, RisingParams, SinceQ, UntilQ, window
from shared.insights import stories
from shared.insights.cache import ANSWERS
from shared.insights.rising import rising_args, rising_list
from shared.insights.schemas import RisingList, StoryList, StoryTimeline

router = APIRouter(prefix="/api/v1/stories", tags=["stories"])

OrderQ = Annotated[Literal["last_seen", "articles"], Query(description="newest activity first, or largest")]


@router.get("", response_model=StoryList)
def list_stories(
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    since: SinceQ = None,
    until: UntilQ = None,
    hours: HoursQ = 24,
    order: OrderQ = "last_seen",
    language: Annotated[
        str | None, Query(max_length=10, description="only articles in this language")
    ] = None,
    min_articles: Annotated[int, Query(ge=1, le=10_000, description="hide smaller stories")] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> StoryList:
    """Stories with articles in the window: first and last seen, articles, sources, languages, entities."""

    def compute(s: Session) -> StoryList:
        start, end = window(since, until, hours)
        found = stories.list_stories(
            session=s, since=start, until=end, order=order, language=language, min_articles=min_articles,
            limit=limit, caller=caller,
        )  # fmt: skip
        return StoryList(items=found)

    key = ("stories", caller.owner_filter, since, until, hours, order, language, min_articles, limit)
    return ANSWERS.get(key, ttl=settings.dashboard_cache_seconds, session=session, compute=compute)


@router.get("/rising", response_model=RisingList)
def rising(session: SessionDep, settings: SettingsDep, caller: CallerDep, params: RisingParams) -> RisingList:
    """Stories whose articles in the last window exceed their own baseline (Poisson test, see the README)."""

    def compute(s: Session) -> RisingList:
        args = rising_args(settings, params)
        return rising_list(stories.rising_stories(session=s, **args), args)

    key = ("stories.rising", caller.owner_filter, params)
    return ANSWERS.get(key, ttl=settings.dashboard_cache_seconds, session=session, compute=compute)


@router.get("/{story_id}", response_model=StoryTimeline)
def story_timeline(story_id: IdPath, session: SessionDep, caller: CallerDep) -> StoryTimeline:
    """One story: figures, articles in time order, and the alerts of the caller's watches on it."""
    return stories.timeline(session=session, caller=caller, story_id=story_id)
