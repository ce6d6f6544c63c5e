"""Data for `newswatch bench dashboard`: N articles and ~10 N mentions in PostgreSQL, from real news text.

Texts come from ../shared/data/full (BBC, Reuters-21578, AG News, headlines), read in a fixed order and
reused when N exceeds them: a reused text keeps its story id (a copy from another source, as stories
are). Times spread over 90 days up to now with a daily rhythm; every article gets one of 60 feeds (hosts).
Entities are the capitalised word runs of each text (a cheap stand-in for NER with the corpus's own
Zipf-like distribution); an article gets its first `mentions_per_article` occurrences. Watches are 20
keyword rules over titles, so matches and alerts (one per watch and story) follow the text. The search
index is written by the real `shared.search.index.index_articles`, so it is the one the API reads.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from shared.models.account import SYSTEM_ACCOUNT_ID

REPO = Path(__file__).resolve().parent.parent
DATA = (REPO / ".." / "shared" / "data" / "full").resolve()
CORPORA = ("reuters", "bbc", "agnews", "headlines")
WATCH_WORDS = (
    "oil",
    "bank",
    "election",
    "minister",
    "china",
    "russia",
    "trade",
    "market",
    "police",
    "court",
    "football",
    "company",
    "government",
    "war",
    "prices",
    "union",
    "health",
    "film",
    "talks",
    "shares",
)
_CAPS = re.compile(r"\b[A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,}){0,2}\b")
_STOP = {
    "The",
    "This",
    "That",
    "But",
    "And",
    "For",
    "With",
    "From",
    "They",
    "There",
    "What",
    "When",
    "His",
    "Her",
    "Its",
    "Our",
    "Their",
    "Mr",
    "Mrs",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Reuter",
    "Reuters",
    "said",
}
LABELS = ("PERSON", "ORG", "PLACE")


def texts() -> Iterator[tuple[str, str]]:
    """(title, text) of every record of the four corpora, in a fixed order."""
    for name in CORPORA:
        with gzip.open(DATA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                title = (r.get("title") or "").strip()
                if title:
                    yield title, (r.get("text") or "").strip()


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def generate(*, url: str, articles: int, mentions_per_article: int, seed: int = 7) -> dict[str, int]:
    """Fill an empty, migrated database; returns the row counts."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    pg_url = url.replace("postgresql+psycopg://", "postgresql://")
    source = list(texts())
    feeds = [
        (i + 1, f"https://feed{i}.example.{('com', 'ru', 'cn', 'in', 'kz', 'org')[i % 6]}/rss")
        for i in range(60)
    ]
    entity_ids: dict[str, int] = {}
    arts: list[tuple[Any, ...]] = []
    ments: list[tuple[Any, ...]] = []
    story_of_text: dict[int, int] = {}
    for n in range(articles):
        idx = n % len(source)
        title, body = source[idx]
        aid = n + 1
        story = story_of_text.setdefault(idx, aid)
        feed_id, feed_url = feeds[rng.randrange(len(feeds))]
        host = feed_url.split("/")[2]
        age = timedelta(days=90) * (rng.random() ** 1.5)  # more recent articles than old ones
        published = now - age
        fetched = published + timedelta(seconds=rng.randint(30, 900))
        fp = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
        arts.append(
            (
                aid,
                f"https://{host}/a/{aid}",
                f"https://{host}/a/{aid}",
                title,
                body,
                "en",
                published,
                fetched,
                fetched + timedelta(seconds=rng.randint(1, 20)),
                "processed",
                fp,
                story,
                "import",
                feed_id,
                0,
            )
        )
        found = _CAPS.findall(f"{title}. {body}")
        names = [x for x in found if x.split()[0] not in _STOP] or [title.split()[0].title()]
        for k in range(mentions_per_article):
            name = names[k % len(names)]
            eid = entity_ids.setdefault(name, len(entity_ids) + 1)
            label = LABELS[int(hashlib.md5(name.encode()).hexdigest(), 16) % 3]
            ments.append((aid, eid, name[:500], label, 0, len(name), False, min(published, fetched)))
    with psycopg.connect(pg_url, autocommit=False) as conn:
        _copy(
            conn,
            "feeds",
            [
                "id",
                "url",
                "title",
                "kind",
                "enabled",
                "extract_full_text",
                "interval_seconds",
                "next_fetch_at",
                "health",
                "consecutive_failures",
                "created_at",
                "websub_state",
                "owner_id",
            ],
            [
                (
                    i,
                    u,
                    f"Feed {i}",
                    "rss",
                    True,
                    False,
                    900,
                    now,
                    ("ok", "ok", "ok", "degraded", "failing")[i % 5],
                    i % 5,
                    now,
                    "none",
                    SYSTEM_ACCOUNT_ID,
                )
                for i, u in feeds
            ],
        )
        _copy(
            conn,
            "articles",
            [
                "id",
                "url",
                "canonical_url",
                "title",
                "text",
                "language",
                "published_at",
                "fetched_at",
                "processed_at",
                "status",
                "fingerprint",
                "story_id",
                "source",
                "feed_id",
                "attempts",
            ],
            arts,
        )
        _copy(
            conn, "article_sources", ["article_id", "feed_id", "seen_at"], [(a[0], a[13], a[7]) for a in arts]
        )
        _copy(
            conn,
            "entities",
            ["id", "key", "label", "name", "created_at"],
            [
                (
                    i,
                    n.casefold()[:300],
                    LABELS[int(hashlib.md5(n.encode()).hexdigest(), 16) % 3],
                    n[:500],
                    now,
                )
                for n, i in entity_ids.items()
            ],
        )
        _copy(
            conn,
            "mentions",
            ["article_id", "entity_id", "text", "label", "start", '"end"', "linked", "published_at"],
            ments,
        )
        _watches_and_alerts(conn, arts, now)
        for table in (
            "feeds",
            "articles",
            "entities",
            "mentions",
            "watches",
            "matches",
            "alerts",
            "article_sources",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.commit()
    _mark_pairs(url)
    _index(url, articles)
    return {"articles": len(arts), "mentions": len(ments), "entities": len(entity_ids)}


def _watches_and_alerts(conn: psycopg.Connection, arts: list[tuple[Any, ...]], now: datetime) -> None:
    _copy(
        conn,
        "watches",
        [
            "id",
            "name",
            "query",
            "canonical_query",
            "enabled",
            "version",
            "created_at",
            "updated_at",
            "owner_id",
            "status",
        ],
        [
            (i + 1, f"watch {w}", f"title:{w}", f"title:{w}", True, 1, now, now, SYSTEM_ACCOUNT_ID, "active")
            for i, w in enumerate(WATCH_WORDS)
        ],
    )
    matches: list[tuple[Any, ...]] = []
    alerts: dict[tuple[int, int], list[Any]] = {}
    for a in arts:
        words = set(re.findall(r"[a-z]+", a[3].lower()))
        for i, w in enumerate(WATCH_WORDS):
            if w in words:
                matches.append((i + 1, a[0], 1.0, "[]", "", a[8]))
                key = (i + 1, a[11])
                if key in alerts:
                    alerts[key][2].append(a[0])
                    alerts[key][3] = max(alerts[key][3], a[8])
                    alerts[key][4] = min(alerts[key][4], a[8])
                else:
                    snippet = re.sub(rf"(?i)\b({w})\b", r"**\1**", a[3], count=1)
                    alerts[key] = [a[0], snippet, [a[0]], a[8], a[8]]
    _copy(conn, "matches", ["watch_id", "article_id", "score", "terms", "snippet", "created_at"], matches)
    rows = [
        (
            w,
            first,
            f"s{story}",
            1.0,
            "[]",
            snip,
            json.dumps(ids),
            len(ids),
            False,
            False,
            first_at,
            last_at,
            False,
        )
        for (w, story), (first, snip, ids, last_at, first_at) in alerts.items()
    ]
    _copy(
        conn,
        "alerts",
        [
            "watch_id",
            "article_id",
            "story_key",
            "score",
            "terms",
            "snippet",
            "article_ids",
            "revision",
            "throttled",
            "is_digest",
            "created_at",
            "updated_at",
            "false_positive",
        ],
        rows,
    )


def _mark_pairs(url: str) -> None:
    """mentions.article_mentions, as the pipeline's writer sets it (COPY wrote the mentions)."""
    from sqlmodel import Session

    from shared.db import engine_for
    from shared.nlp.store import mark_pairs

    with Session(engine_for(url)) as session:
        mark_pairs(session=session, article_ids=None)
        session.commit()


def _index(url: str, articles: int, batch: int = 1000) -> None:
    """The search rows through the real index writer, a batch per transaction."""
    from sqlmodel import Session, col, select

    from shared.db import engine_for
    from shared.models import Article
    from shared.search.index import index_articles

    engine = engine_for(url)
    for start in range(0, articles, batch):
        with Session(engine) as session:
            rows = list(
                session.exec(select(Article).where(col(Article.id) > start, col(Article.id) <= start + batch))
            )
            index_articles(session=session, articles=rows)
            session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")  # statistics, and the visibility map index-only scans need
