"""Stories: articles grouped by story id (copies and near-copies share one), their spread, top entities,
one story's timeline of articles and alerts, and stories rising above their own past.

Read from `article_search` (one row per processed article with its time, story, source host and
language) through the index (story_id, dated_at).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from shared.db import select_columns
from shared.errors import NotFound
from shared.insights.entities import Rising, window_tests
from shared.insights.schemas import StoryEntity, StoryEvent, StoryOut, StoryTimeline, TimelineArticle
from shared.insights.scope import watch_clause
from shared.insights.windows import windows_ago
from shared.links import safe_link
from shared.models import Alert, Article, ArticleSearch, Entity, Mention, Watch
from shared.security.access import Caller

S = ArticleSearch
TOP_ENTITIES = 5


def story_key(story_id: int) -> str:
    """The alerts' key of a story (see shared.alerts.service.story_key)."""
    return f"s{story_id}"


def list_stories(
    *,
    session: Session,
    since: datetime,
    until: datetime,
    order: str = "last_seen",
    language: str | None = None,
    min_articles: int = 1,
    limit: int = 50,
    caller: Caller | None = None,
) -> list[StoryOut]:
    """Stories with articles in the window, most recent (or largest) first, with their whole-life figures."""
    n = func.count()
    active = (
        select(S.story_id, func.max(S.dated_at).label("last"), n.label("n"))
        .where(col(S.story_id).is_not(None), col(S.dated_at) >= since, col(S.dated_at) < until)
        .group_by(col(S.story_id))
        .having(n >= min_articles)
    )
    if language:
        active = active.where(S.language == language)
    ordering = (
        (n.desc(), func.max(S.dated_at).desc()) if order == "articles" else (func.max(S.dated_at).desc(),)
    )
    rows = session.exec(active.order_by(*ordering, col(S.story_id).desc()).limit(limit))
    ids = [int(sid) for sid, _last, _n in rows if sid is not None]  # never None: the WHERE excludes it
    return summaries(session=session, story_ids=ids, caller=caller)


def summaries(*, session: Session, story_ids: Sequence[int], caller: Caller | None = None) -> list[StoryOut]:
    """Whole-life figures of these stories, in the given order; `alerts` counts those of the caller's
    watches (every watch's without a caller)."""
    if not story_ids:
        return []
    ids = list(story_ids)
    agg = (
        select_columns(
            S.story_id,
            func.min(S.dated_at),
            func.max(S.dated_at),
            func.count(),
            func.count(func.distinct(S.host)),
            func.min(S.article_id),
        )
        .where(col(S.story_id).in_(ids))
        .group_by(col(S.story_id))
    )
    figures = {int(r[0]): r for r in session.exec(agg)}
    langs: dict[int, set[str]] = defaultdict(set)
    for sid, lang in session.exec(select(S.story_id, S.language).where(col(S.story_id).in_(ids)).distinct()):
        if lang:
            langs[int(sid)].add(lang)  # type: ignore[arg-type]  # never None: the WHERE names the ids
    firsts = {r[5] for r in figures.values()}
    # the first article's title and link only (an article's text can be megabytes)
    heads = {
        i: (title, url)
        for i, title, url in session.exec(
            select(Article.id, Article.title, Article.url).where(col(Article.id).in_(firsts))
        )
    }
    entities = _top_entities(session, ids)
    counted = select(Alert.story_key, func.count()).where(
        col(Alert.story_key).in_([story_key(i) for i in ids])
    )
    if caller is not None:
        counted = counted.join(Watch, and_(col(Watch.id) == Alert.watch_id, watch_clause(caller)))
    alerts = dict(session.exec(counted.group_by(col(Alert.story_key))).all())
    out = []
    for sid in ids:
        r = figures.get(sid)
        if r is None:
            continue
        head = heads.get(r[5])
        out.append(
            StoryOut(
                id=sid,
                title=head[0] if head else "",
                url=safe_link(head[1] if head else None),
                first_seen=r[1],
                last_seen=r[2],
                articles=int(r[3]),
                sources=int(r[4]),
                languages=sorted(langs.get(sid, ())),
                top_entities=entities.get(sid, []),
                alerts=int(alerts.get(story_key(sid), 0)),
            )
        )
    return out


def _top_entities(session: Session, story_ids: list[int]) -> dict[int, list[StoryEntity]]:
    n = func.count(func.distinct(Mention.article_id))
    q = (
        select_columns(S.story_id, Entity.id, Entity.name, Entity.label, Entity.kb_id, n)
        .join(Mention, col(Mention.article_id) == S.article_id)
        .join(Entity, col(Entity.id) == Mention.entity_id)
        .where(col(S.story_id).in_(story_ids))
        .group_by(col(S.story_id), col(Entity.id), col(Entity.name), col(Entity.label), col(Entity.kb_id))
        .order_by(col(S.story_id), n.desc(), col(Entity.id))
    )
    out: dict[int, list[StoryEntity]] = defaultdict(list)
    for sid, eid, name, label, kb_id, count in session.exec(q):
        bucket = out[int(sid)]
        if len(bucket) < TOP_ENTITIES:
            bucket.append(StoryEntity(id=eid, name=name, label=label, kb_id=kb_id, articles=int(count)))
    return out


def timeline(*, session: Session, caller: Caller, story_id: int, limit: int = 500) -> StoryTimeline:
    """One story: its figures, its articles in time order, and the alerts of the caller's watches on it."""
    rows = session.exec(
        select_columns(S.article_id, S.dated_at, S.host, S.language, Article.title, Article.url)
        .join(Article, col(Article.id) == S.article_id)
        .where(S.story_id == story_id)
        .order_by(col(S.dated_at), col(S.article_id))
        .limit(limit + 1)
    ).all()
    if not rows:
        raise NotFound("no such story")
    alerts = session.exec(
        select(Alert, Watch.name)
        .join(Watch, and_(col(Watch.id) == Alert.watch_id, watch_clause(caller)))
        .where(Alert.story_key == story_key(story_id))
        .order_by(col(Alert.created_at))
    ).all()
    if len(rows) > limit:  # a story larger than the page: its figures from the whole story
        story = summaries(session=session, story_ids=[story_id], caller=caller)[0]
        rows = rows[:limit]
    else:
        # every article is here: the figures come from these rows (and the alerts just read: the same
        # filter as summaries' count) instead of four more statements (figures, languages, head, alerts)
        head = min(rows, key=lambda r: r[0])
        story = StoryOut(
            id=story_id,
            title=head[4] or "",
            url=safe_link(head[5]),
            first_seen=rows[0][1],
            last_seen=max(r[1] for r in rows),
            articles=len(rows),
            sources=len({r[2] for r in rows}),
            languages=sorted({r[3] for r in rows if r[3]}),
            top_entities=_top_entities(session, [story_id]).get(story_id, []),
            alerts=len(alerts),
        )
    articles = [
        TimelineArticle(id=i, dated_at=t, host=h, language=lg, title=title, url=safe_link(url))
        for i, t, h, lg, title, url in rows
    ]
    events = [StoryEvent(at=a.dated_at, kind="article", article_id=a.id, title=a.title) for a in articles]
    for alert, watch_name in alerts:
        events.append(
            StoryEvent(
                at=alert.created_at, kind="alert", alert_id=alert.id, watch=watch_name, score=alert.score
            )
        )
    events.sort(key=lambda e: (e.at, e.kind))
    return StoryTimeline(story=story, articles=articles, events=events)


def rising_stories(
    *,
    session: Session,
    until: datetime,
    window_seconds: int,
    baseline_windows: int,
    min_count: int,
    max_p: float,
    limit: int = 20,
) -> list[Rising]:
    """Stories whose articles in [until - window, until) are significantly above their previous windows."""
    since = until - timedelta(seconds=window_seconds * (baseline_windows + 1))
    start = until - timedelta(seconds=window_seconds)
    # only stories with at least min_count articles in the last window can rise: their baselines alone
    # are read (ix_article_search_story), not every story's counts over all N + 1 windows
    n = func.count()
    candidates = [
        int(r)
        for r in session.exec(
            select(S.story_id)
            .where(col(S.story_id).is_not(None), col(S.dated_at) >= start, col(S.dated_at) < until)
            .group_by(col(S.story_id))
            .having(n >= max(1, min_count))
        )
        if r is not None
    ]
    if not candidates:
        return []
    k = windows_ago(session, S.dated_at, until, window_seconds).label("k")
    q = (
        select(S.story_id, k, func.count())
        .where(col(S.story_id).in_(candidates), col(S.dated_at) >= since, col(S.dated_at) < until)
        .group_by(col(S.story_id), k)
    )
    tests = window_tests(session.exec(q), baseline_windows, min_count, max_p)
    top = sorted(tests.items(), key=lambda kv: (-kv[1].score, kv[0]))[:limit]
    figures = {s.id: s for s in summaries(session=session, story_ids=[i for i, _ in top])}
    spread: dict[int, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    q2 = select(S.story_id, S.host, S.language).where(
        col(S.story_id).in_([i for i, _ in top]), col(S.dated_at) >= start, col(S.dated_at) < until
    )
    for sid, host, lang in session.exec(q2):
        spread[int(sid)][0].add(host)  # type: ignore[arg-type]  # never None: the WHERE names the ids
        if lang:
            spread[int(sid)][1].add(lang)  # type: ignore[arg-type]  # never None: the WHERE names the ids
    out = []
    for sid, test in top:
        f = figures.get(sid)
        hosts, langs = spread[sid]
        out.append(
            Rising(
                "story",
                sid,
                f.title if f else "",
                None,
                test,
                start,
                window_seconds,
                len(hosts),
                sorted(langs),
            )
        )
    return out
