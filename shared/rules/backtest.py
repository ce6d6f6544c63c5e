"""Backtest: run one rule over the stored articles of a time window, so it can be tuned before it alerts.

The window is [since, until) on each article's time (published, else fetched). Articles are read in
id-ordered batches, so memory stays flat however long the window; the rule is compiled once, with the
knowledge base as resolver when the caller passes one (entity and office operators need it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from shared.models.base import shift, utcnow
from shared.rules import store
from shared.rules.engine import compile_watches
from shared.rules.errors import RulesError
from shared.rules.types import EntityResolver, MatchDocument, WatchSpec
from shared.rules.validation import canonical

DEFAULT_DAYS = 30
MAX_LIMIT = 1000
BATCH = 500


class BacktestWindowError(RulesError):
    """A since/until value that is not an ISO date or date-time, or a window that ends before it starts."""

    code = "invalid_window"


@dataclass
class BacktestMatch:
    """One stored article the rule matches."""

    article_id: int
    title: str
    published: str
    score: float
    snippet: str
    terms: list[dict[str, Any]] = field(default_factory=list)
    false_positive: bool = False  # an analyst marked this article a false positive of the watch


@dataclass
class FalsePositive:
    """Feedback on the watch: does the rule under test still match an article judged a false positive?"""

    article_id: int
    note: str
    matched: bool | None  # None: the article is outside the window


@dataclass
class BacktestResult:
    """Totals over the window, counts per day, and the first `limit` matches after `offset`."""

    query: str
    since: str
    until: str
    scanned: int
    total: int
    per_day: dict[str, int]
    matches: list[BacktestMatch]
    offset: int
    limit: int
    false_positives: list[FalsePositive] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API and CLI output)."""
        return {
            "query": self.query,
            "since": self.since,
            "until": self.until,
            "scanned": self.scanned,
            "total": self.total,
            "per_day": self.per_day,
            "offset": self.offset,
            "limit": self.limit,
            "matches": [m.__dict__ for m in self.matches],
            "false_positives": [f.__dict__ for f in self.false_positives],
            "false_positives_matched": sum(1 for f in self.false_positives if f.matched),
        }


def parse_bound(value: str | date | datetime | None, *, end: bool) -> datetime | None:
    """An ISO date or date-time as an aware UTC datetime; a bare date as `until` covers that whole day."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError as exc:
            raise BacktestWindowError(f"{value!r} is not an ISO date (YYYY-MM-DD) or date-time") from exc
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    start = datetime.combine(value, time.min, tzinfo=UTC)
    # windows at the ends of the calendar (until 9999-12-31) stop at its last instant
    return shift(start, timedelta(days=1)) if end else start


def window(
    since: str | date | datetime | None, until: str | date | datetime | None, *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The [since, until) window, by default the last 30 days up to now."""
    hi = parse_bound(until, end=True) or (now or utcnow())
    lo = parse_bound(since, end=False) or shift(hi, -timedelta(days=DEFAULT_DAYS))
    if lo >= hi:
        raise BacktestWindowError(
            f"the window is empty: since {lo.isoformat()} is not before {hi.isoformat()}"
        )
    return lo, hi


def backtest(
    *,
    session: Session,
    query: str,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    resolver: EntityResolver | None = None,
    name: str = "backtest",
    false_positives: Mapping[int, str] | None = None,
) -> BacktestResult:
    """Match `query` against the stored articles of the window; raises RuleSyntaxError or a window error.

    `false_positives` ({article id: note}, the watch's feedback) are reported with whether the rule still
    matches each of them, so a rule can be tuned until it stops."""
    feedback = dict(false_positives or {})
    seen: dict[int, bool] = {}
    canon = canonical(query)
    lo, hi = window(since, until)
    limit = max(0, min(limit, MAX_LIMIT))
    engine = compile_watches([WatchSpec(id=0, name=name, query=query)], resolver=resolver)
    needs_entities = any(k in canon for k in ("entity:", "person:", "org:", "place:", "office:"))
    per_day: Counter[str] = Counter()
    matches: list[BacktestMatch] = []
    scanned = total = 0
    after = 0
    while True:
        rows = store.articles_in_window(session=session, since=lo, until=hi, after_id=after, limit=BATCH)
        if not rows:
            break
        after = rows[-1][0]
        ents = store.entities_for(session=session, article_ids=[r[0] for r in rows]) if needs_entities else {}
        for article_id, title, text, language, when in rows:
            scanned += 1
            doc = MatchDocument(title, text, language, when, ents.get(article_id, ()))
            found = engine.match(doc)
            if article_id in feedback:
                seen[article_id] = bool(found)
            if not found:
                continue
            total += 1
            per_day[_day(when)] += 1
            if offset < total <= offset + limit:
                m = found[0]
                matches.append(
                    BacktestMatch(
                        article_id=article_id,
                        title=title,
                        published=_iso(when),
                        score=m.score,
                        snippet=m.snippet,
                        terms=m.term_dicts(),
                        false_positive=article_id in feedback,
                    )
                )
    return BacktestResult(
        query=canon,
        since=lo.isoformat(),
        until=hi.isoformat(),
        scanned=scanned,
        total=total,
        per_day=dict(sorted(per_day.items())),
        matches=matches,
        offset=offset,
        limit=limit,
        false_positives=[FalsePositive(a, note, seen.get(a)) for a, note in sorted(feedback.items())],
    )


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _day(when: datetime) -> str:
    return _aware(when).astimezone(UTC).date().isoformat()


def _iso(when: datetime) -> str:
    return _aware(when).isoformat()
