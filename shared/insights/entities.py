"""Entity reads for the dashboard: top in a window, zero-filled trend buckets, and rising entities.

Every query reads mentions by their time (`mentions.published_at`: the article's time, see
shared.search.index.article_time) through the index (published_at, entity_id, article_id), so a window
is one index range and never touches the articles table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, text
from sqlmodel import Session, col, select

from shared.db import is_sqlite
from shared.insights.stats import Surprise, surprise
from shared.insights.windows import BUCKETS, bucket_starts, windows_ago
from shared.models import ArticleSearch, Entity, Mention


@dataclass(frozen=True)
class Bucket:
    """Counts of one trend bucket."""

    start: datetime
    mentions: int
    articles: int


@dataclass(frozen=True)
class Rising:
    """A rising entity or story with its test."""

    kind: str
    id: int
    name: str
    label: str | None
    test: Surprise
    window_start: datetime
    window_seconds: int
    sources: int
    languages: list[str]


def top_entities(
    *,
    session: Session,
    since: datetime,
    until: datetime,
    label: str | None = None,
    linked: bool | None = None,
    limit: int = 50,
) -> list[tuple[Entity, int, int]]:
    """Entities with the most articles mentioning them in the window: (entity, mentions, articles)."""
    if linked is None:
        # one row per (entity, article) pair carries the pair's mention count (migration 0005): a window
        # is one range of the partial index ix_mentions_pairs and one aggregation. A type filter keeps the
        # pairs of that label, read from the same index (migration 0007): a mention's label is always its
        # entity's (entities are keyed by label and name, shared.nlp.store), so it keeps the same pairs as
        # joining the entities on their label, without aggregating every other type's pairs first
        pair_mentions: Any = literal_column("mentions.article_mentions")  # not a model column: 0005
        a, m = func.count().label("a"), func.sum(pair_mentions).label("m")
        counts = select(Mention.entity_id, m, a).where(
            pair_mentions.is_not(None),
            col(Mention.published_at) >= since,
            col(Mention.published_at) < until,
        )
        if label is not None:
            counts = counts.where(Mention.label == label)
        top = (
            counts.group_by(col(Mention.entity_id))
            .order_by(a.desc(), m.desc(), col(Mention.entity_id))
            .limit(limit)
            .subquery()
        )
        return _top_rows(session, top)
    # the linked filter is per mention: pairs of the mentions that pass it, then per entity
    per_article = (
        select(Mention.entity_id, Mention.article_id, func.count().label("m"))
        .where(col(Mention.published_at) >= since, col(Mention.published_at) < until)
        .group_by(col(Mention.entity_id), col(Mention.article_id))
    )
    if label is not None:
        per_article = per_article.where(Mention.label == label)
    if linked is not None:
        per_article = per_article.where(Mention.linked == linked)
    pa = per_article.subquery()
    # the top ids first, then their entities: joining every entity of the window (23,528 in a week at
    # 100,000 articles) to the entities table before the LIMIT cost a sequential scan and a hash join
    a, m = func.count().label("a"), func.sum(pa.c.m).label("m")
    top = (
        select(pa.c.entity_id, m, a)
        .group_by(pa.c.entity_id)
        .order_by(a.desc(), m.desc(), pa.c.entity_id)
        .limit(limit)
        .subquery()
    )
    if not is_sqlite(session):
        # the (entity, article) hash of a week's mentions (76,445 groups) spilled to disk in 5 batches
        # under the default 4 MB; this transaction only (a request's)
        session.execute(text("SET LOCAL work_mem = '32MB'"))
    return _top_rows(session, top)


def _top_rows(session: Session, top: Any) -> list[tuple[Entity, int, int]]:
    """The entities of a top subquery (entity_id, m, a), in its order."""
    q = (
        select(Entity, top.c.m, top.c.a)
        .join(top, top.c.entity_id == Entity.id)
        .order_by(top.c.a.desc(), top.c.m.desc(), col(Entity.id))
    )
    return [(e, int(m), int(a)) for e, m, a in session.exec(q)]


def trend(
    *, session: Session, entity_ids: Sequence[int], since: datetime, until: datetime, bucket: str
) -> list[Bucket]:
    """Mentions and articles per aligned hour or day bucket of the window, zero-filled for charts."""
    seconds = BUCKETS[bucket]
    starts = bucket_starts(since, until, seconds)
    if not starts:
        return []
    # counted per bucket in SQL (a top entity has thousands of mentions in 30 days; ~30 rows come back):
    # k = how many buckets before the end of the last one
    end = starts[-1] + timedelta(seconds=seconds)
    k = windows_ago(session, Mention.published_at, end, seconds).label("k")
    q = (
        select(k, func.count(), func.count(func.distinct(Mention.article_id)))
        .where(
            col(Mention.entity_id).in_(list(entity_ids)),
            col(Mention.published_at) >= since,
            col(Mention.published_at) < until,
        )
        .group_by(k)
    )
    counts = {
        end - timedelta(seconds=seconds * (int(n) + 1)): (int(m), int(a)) for n, m, a in session.exec(q)
    }
    return [Bucket(s, *counts.get(s, (0, 0))) for s in starts]


def rising_entities(
    *,
    session: Session,
    until: datetime,
    window_seconds: int,
    baseline_windows: int,
    min_count: int,
    max_p: float,
    label: str | None = None,
    limit: int = 20,
) -> list[Rising]:
    """Entities whose articles in [until - window, until) are significantly above their previous windows."""
    since = until - timedelta(seconds=window_seconds * (baseline_windows + 1))
    start = until - timedelta(seconds=window_seconds)
    candidates = _entity_candidates(session, start, until, min_count, label)
    if not candidates:
        return []
    k = windows_ago(session, Mention.published_at, until, window_seconds).label("k")
    pairs = (
        select(Mention.entity_id, Mention.article_id, k)
        .where(
            col(Mention.entity_id).in_(candidates),
            col(Mention.published_at) >= since,
            col(Mention.published_at) < until,
        )
        .distinct()
    )
    if label is not None:
        pairs = pairs.where(Mention.label == label)
    pa = pairs.subquery()
    q = select(pa.c.entity_id, pa.c.k, func.count()).group_by(pa.c.entity_id, pa.c.k)
    tests = _tests(session.exec(q), baseline_windows, min_count, max_p)
    top = sorted(tests.items(), key=lambda kv: (-kv[1].score, kv[0]))[:limit]
    if not top:
        return []
    ids = [i for i, _ in top]
    names = {e.id: e for e in session.exec(select(Entity).where(col(Entity.id).in_(ids)))}
    spread = _spread_entities(session, ids, start, until)
    out = []
    for i, test in top:
        e = names.get(i)
        hosts, langs = spread.get(i, (0, []))
        out.append(
            Rising(
                "entity",
                i,
                e.name if e else "",
                e.label if e else None,
                test,
                start,
                window_seconds,
                hosts,
                langs,
            )
        )
    return out


def _entity_candidates(
    session: Session, start: datetime, until: datetime, min_count: int, label: str | None
) -> list[int]:
    """Entities with at least `min_count` articles in the last window: only these can rise, so only their
    baselines are read (the window is one short range of ix_mentions_time_entity, the baselines ranges of
    ix_mentions_entity_time), instead of every entity's counts over all N + 1 windows."""
    pairs = (
        select(Mention.entity_id, Mention.article_id)
        .where(col(Mention.published_at) >= start, col(Mention.published_at) < until)
        .distinct()
    )
    if label is not None:
        pairs = pairs.where(Mention.label == label)
    pa = pairs.subquery()
    q = select(pa.c.entity_id).group_by(pa.c.entity_id).having(func.count() >= max(1, min_count))
    return sorted(int(i) for i in session.exec(q) if i is not None)


def _tests(
    rows: Iterable[Sequence[Any]], baseline_windows: int, min_count: int, max_p: float
) -> dict[int, Surprise]:
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * (baseline_windows + 1))
    for ref, k, n in rows:
        if ref is not None and 0 <= int(k) <= baseline_windows:
            counts[int(ref)][int(k)] = int(n)
    out = {}
    for ref, series in counts.items():
        if series[0] < min_count:
            continue
        test = surprise(series[0], series[1:], min_count=min_count, max_p=max_p)
        if test.rising:
            out[ref] = test
    return out


def _spread_entities(
    session: Session, ids: list[int], since: datetime, until: datetime
) -> dict[int, tuple[int, list[str]]]:
    """Per entity: distinct sources (hosts) and languages of its articles in the window."""
    q = (
        select(Mention.entity_id, ArticleSearch.host, ArticleSearch.language)
        .join(ArticleSearch, col(ArticleSearch.article_id) == Mention.article_id)
        .where(
            col(Mention.entity_id).in_(ids),
            col(Mention.published_at) >= since,
            col(Mention.published_at) < until,
        )
        .distinct()
    )
    hosts: dict[int, set[str]] = defaultdict(set)
    langs: dict[int, set[str]] = defaultdict(set)
    for i, host, lang in session.exec(q):
        hosts[i].add(host)
        if lang:
            langs[i].add(lang)
    return {i: (len(hosts[i]), sorted(langs[i])) for i in ids}


def window_tests(
    rows: Iterable[Sequence[Any]], baseline_windows: int, min_count: int, max_p: float
) -> dict[int, Surprise]:
    """The rising test of every (ref, windows ago, count) row series; only those rising."""
    return _tests(rows, baseline_windows, min_count, max_p)
