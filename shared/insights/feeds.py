"""Feed health at a glance (state, last success, items per day, last error) and coverage of the corpus by
language and by country.

A source's country is its feed's `country` when set, else the country-code top-level domain of the
article's host (.ru → RU, .uk → GB); generic domains (.com, .org) count as "unknown".
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.insights.scope import feed_clause
from shared.models import ArticleSearch, ArticleSource, Feed
from shared.models.base import utcnow
from shared.security.access import Caller

UNKNOWN = "unknown"
_TLD_COUNTRY = {"uk": "GB", "su": "RU"}  # ccTLDs that differ from the ISO code
_GENERIC = {"com", "org", "net", "info", "biz", "edu", "gov", "int", "mil", "news", "io", "co", "tv", "me"}


def country_of_host(host: str) -> str:
    """ISO 3166-1 alpha-2 of a host's country-code domain, or "unknown"."""
    tld = host.rsplit(".", 1)[-1].lower() if "." in host else ""
    if len(tld) != 2 or tld in _GENERIC or not tld.isalpha():
        return UNKNOWN
    return _TLD_COUNTRY.get(tld, tld.upper())


def health_overview(
    *, session: Session, caller: Caller, days: int = 7, now: datetime | None = None
) -> tuple[dict[str, int], list[tuple[Feed, int, float]]]:
    """({health state: feeds}, [(feed, items in the period, items per day)]) for the caller's feeds."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    items = (
        select(ArticleSource.feed_id, func.count().label("n"))
        .where(col(ArticleSource.seen_at) >= since)
        .group_by(col(ArticleSource.feed_id))
        .subquery()
    )
    q = (
        select(Feed, func.coalesce(items.c.n, 0))
        .outerjoin(items, items.c.feed_id == Feed.id)
        .where(feed_clause(caller))
        .order_by(col(Feed.id))
    )
    rows = [(f, int(n), round(int(n) / days, 2)) for f, n in session.exec(q)]
    states = Counter("disabled" if not f.enabled else f.health for f, _, _ in rows)
    return dict(sorted(states.items())), rows


def coverage(
    *, session: Session, since: datetime, until: datetime
) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """([(language, articles)], [(country, articles)], total) of the articles in the window."""
    window = (col(ArticleSearch.dated_at) >= since, col(ArticleSearch.dated_at) < until)
    lang = func.coalesce(ArticleSearch.language, "und")
    languages = [
        (str(lg), int(n))
        for lg, n in session.exec(
            select(lang, func.count()).where(*window).group_by(lang).order_by(func.count().desc(), lang)
        )
    ]
    by_source = session.exec(
        select(ArticleSearch.host, Feed.country, func.count())
        .outerjoin(Feed, col(Feed.id) == ArticleSearch.feed_id)
        .where(*window)
        .group_by(col(ArticleSearch.host), col(Feed.country))
    )
    countries: Counter[str] = Counter()
    for host, feed_country, n in by_source:
        countries[(feed_country or "").upper() or country_of_host(host or "")] += int(n)
    total = sum(n for _, n in languages)
    return languages, sorted(countries.items(), key=lambda kv: (-kv[1], kv[0])), total
