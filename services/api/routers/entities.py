"""/api/v1/entities: top entities in a window, one entity with aliases, offices and counts, co-occurrence."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from sqlmodel import Session

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.params import RisingParams
from shared.errors import NotFound
from shared.insights import entities as insights
from shared.insights.cache import ANSWERS
from shared.insights.rising import rising_args, rising_list
from shared.insights.schemas import EntityTrend, RisingList, TrendBucket
from shared.models import Entity
from shared.models.base import shift, utcnow
from shared.nlp import cached_knowledge_base
from shared.nlp import store as entity_store
from shared.nlp.schemas import (
    CooccurOut,
    CooccurPage,
    CountOut,
    EntityDetail,
    EntityOut,
    OfficeOut,
    TopEntityOut,
)
from shared.schemas import UtcDatetime

router = APIRouter(prefix="/api/v1/entities", tags=["entities"])

SinceQ = Annotated[
    UtcDatetime | None, Query(description="window start (ISO 8601, UTC if no offset); default: `hours` ago")
]
UntilQ = Annotated[UtcDatetime | None, Query(description="window end (ISO 8601, exclusive); default: now")]
HoursQ = Annotated[int, Query(ge=1, le=24 * 366, description="window length when `since` is not given")]
EntityRef = Annotated[
    str, Path(min_length=1, max_length=200, description="database id, knowledge-base id or name")
]


def _window(since: datetime | None, until: datetime | None, hours: int) -> tuple[datetime, datetime]:
    until = until or utcnow()
    return since or shift(until, -timedelta(hours=hours)), until


def _base(e: Entity) -> dict[str, object]:
    return {
        "id": e.id or 0,
        "kb_id": e.kb_id,
        "name": e.name,
        "label": e.label,
        "linked": e.kb_id is not None,
    }


@router.get("", response_model=dict[str, list[TopEntityOut]])
def top_entities(
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    since: SinceQ = None,
    until: UntilQ = None,
    hours: HoursQ = 24,
    type: Annotated[Literal["PERSON", "ORG", "PLACE"] | None, Query(description="entity type")] = None,
    linked: Annotated[bool | None, Query(description="only linked (true) or unlinked (false)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, list[TopEntityOut]]:
    """The entities mentioned in the most articles in the window."""

    def compute(s: Session) -> dict[str, list[TopEntityOut]]:
        start, end = _window(since, until, hours)
        rows = insights.top_entities(
            session=s, since=start, until=end, label=type, linked=linked, limit=limit
        )
        return {"items": [TopEntityOut(**_base(e), mentions=m, articles=a) for e, m, a in rows]}

    key = ("entities.top", caller.owner_filter, since, until, hours, type, linked, limit)
    return ANSWERS.get(key, ttl=settings.dashboard_cache_seconds, session=session, compute=compute)


@router.get("/rising", response_model=RisingList)
def rising_entities(
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    params: RisingParams,
    type: Annotated[Literal["PERSON", "ORG", "PLACE"] | None, Query(description="entity type")] = None,
) -> RisingList:
    """Entities whose articles in the last window exceed their own baseline: a Poisson test against the
    previous windows with a minimum count (see the README, "Rising entities and stories")."""

    def compute(s: Session) -> RisingList:
        args = rising_args(settings, params)
        return rising_list(insights.rising_entities(session=s, label=type, **args), args)

    key = ("entities.rising", caller.owner_filter, params, type)
    return ANSWERS.get(key, ttl=settings.dashboard_cache_seconds, session=session, compute=compute)


def _entity_or_404(session: SessionDep, entity_id: str) -> Entity:
    found = entity_store.get_entity(session=session, ref=entity_id)
    if found is None:
        raise NotFound("no such entity")
    return found


@router.get("/{entity_id}", response_model=EntityDetail)
def entity_detail(
    entity_id: EntityRef,
    session: SessionDep,
    settings: SettingsDep,
    _key: CallerDep,
    since: SinceQ = None,
    until: UntilQ = None,
    hours: HoursQ = 24 * 7,
    bucket: Annotated[
        Literal["hour", "day"], Query(description="count mentions per hour or per day")
    ] = "day",
) -> EntityDetail:
    """One entity by database id or knowledge-base id: aliases, office holdings and mention counts."""
    entity = _entity_or_404(session, entity_id)
    start, end = _window(since, until, hours)
    kb = cached_knowledge_base(settings.effective_kb_path)
    known = kb.get(entity.kb_id) if entity.kb_id else None
    offices = [
        OfficeOut(
            office_id=o.id,
            office=o.name,
            start=t.start.isoformat() if t.start else None,
            end=t.end.isoformat() if t.end else None,
        )
        for o, t in (kb.offices_of(entity.kb_id) if entity.kb_id else [])
    ]
    assert entity.id is not None
    times = entity_store.mention_times(session=session, entity_id=entity.id, since=start, until=end)
    if bucket == "hour":
        keys = Counter(t.replace(minute=0, second=0, microsecond=0) for t in times)
    else:
        keys = Counter(t.replace(hour=0, minute=0, second=0, microsecond=0) for t in times)
    return EntityDetail(
        **_base(entity),
        description=known.description if known else "",
        aliases=known.aliases if known else {},
        offices=offices,
        bucket=bucket,
        mentions=len(times),
        counts=[CountOut(start=k, mentions=n) for k, n in sorted(keys.items())],
    )


@router.get("/{entity_id}/trend", response_model=EntityTrend)
def entity_trend(
    entity_id: EntityRef,
    session: SessionDep,
    _key: CallerDep,
    since: SinceQ = None,
    until: UntilQ = None,
    hours: HoursQ = 24 * 7,
    bucket: Annotated[Literal["hour", "day"], Query(description="bucket size")] = "day",
) -> EntityTrend:
    """Mentions and articles per hour or day over the window, every bucket present (zeros included)."""
    entity = _entity_or_404(session, entity_id)
    start, end = _window(since, until, hours)
    assert entity.id is not None
    rows = insights.trend(session=session, entity_ids=[entity.id], since=start, until=end, bucket=bucket)
    return EntityTrend(
        entity_ids=[entity.id],
        bucket=bucket,
        since=start,
        until=end,
        buckets=[TrendBucket(start=b.start, mentions=b.mentions, articles=b.articles) for b in rows],
    )


@router.get("/{entity_id}/cooccurrence", response_model=CooccurPage)
def cooccurrence(
    entity_id: EntityRef,
    session: SessionDep,
    _key: CallerDep,
    since: SinceQ = None,
    until: UntilQ = None,
    hours: HoursQ = 24 * 7,
    type: Annotated[Literal["PERSON", "ORG", "PLACE"] | None, Query(description="only this type")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> CooccurPage:
    """The entities most often in the same articles as this one, with the number of shared articles."""
    entity = _entity_or_404(session, entity_id)
    start, end = _window(since, until, hours)
    assert entity.id is not None
    rows = entity_store.cooccurring(
        session=session, entity_id=entity.id, since=start, until=end, label=type, limit=limit
    )
    return CooccurPage(
        entity=EntityOut(**_base(entity)), items=[CooccurOut(**_base(e), articles=n) for e, n in rows]
    )
