"""Article search: parse the query, resolve filters the caller may use, page, highlight, count facets."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, overload

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from shared.db import select_columns
from shared.errors import InvalidInput, NotFound
from shared.insights.scope import visible_feed, visible_watch
from shared.links import safe_link, source_host
from shared.models import Article, Entity
from shared.search import store
from shared.search.index import article_time
from shared.search.schemas import ArticleHit, DayCount, Facets, LanguageCount, SearchPage
from shared.search.snippets import highlight_title, snippet
from shared.search.syntax import Node, parse, to_tsquery_text
from shared.search.text import config_for
from shared.security.access import Caller

Sort = Literal["published", "relevance"]
_KB_ID = re.compile(r"^Q\d+$")
SNIPPET_SOURCE_CHARS = 50_000


def resolve_entities(*, session: Session, ref: str) -> tuple[int, ...]:
    """Entity ids for a database id ("42"), a knowledge-base id ("Q7747") or a name (any case)."""
    ref = ref.strip()
    if ref.isdigit():
        q = select(Entity.id).where(Entity.id == int(ref))
    elif _KB_ID.match(ref):
        q = select(Entity.id).where(Entity.kb_id == ref)
    else:
        folded = ref.casefold()
        q = select(Entity.id).where(or_(func.lower(Entity.name) == ref.lower(), col(Entity.key) == folded))
    ids = tuple(i for i in session.exec(q) if i is not None)
    if not ids:
        raise InvalidInput(f"no entity {ref!r} (give an id, a knowledge-base id or a name)")
    return ids


def encode_cursor(sort: Sort, key: float | datetime, article_id: int) -> str:
    """An opaque cursor: the sort, the last row's key and id."""
    k = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps({"s": sort, "k": k, "i": article_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@overload
def decode_cursor(cursor: str, sort: Literal["published"]) -> tuple[datetime, int]: ...
@overload
def decode_cursor(cursor: str, sort: Literal["relevance"]) -> tuple[float, int]: ...
def decode_cursor(cursor: str, sort: Sort) -> tuple[float | datetime, int]:
    """The (key, id) of a cursor made for this sort; InvalidInput otherwise."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["s"] != sort:
            raise InvalidInput(f"this cursor belongs to sort={data['s']}")
        key = datetime.fromisoformat(data["k"]) if sort == "published" else float(data["k"])
        return key, int(data["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput("malformed cursor") from exc


def build_filters(
    *,
    session: Session,
    caller: Caller,
    q: str | None = None,
    watch_id: int | None = None,
    entity: str | None = None,
    feed_id: int | None = None,
    languages: Sequence[str] = (),
    story_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> store.Filters:
    """Parse and resolve; a watch or feed the caller may not see is NotFound (404)."""
    node: Node | None = parse(q)
    if watch_id is not None and visible_watch(session=session, caller=caller, watch_id=watch_id) is None:
        raise NotFound("no such watch")
    if feed_id is not None and visible_feed(session=session, caller=caller, feed_id=feed_id) is None:
        raise NotFound("no such feed")
    entity_ids = resolve_entities(session=session, ref=entity) if entity else None
    langs = tuple(dict.fromkeys(lang.strip().lower() for lang in languages if lang.strip()))
    return store.Filters(node, watch_id, entity_ids, feed_id, langs, story_id, since, until)


def search_articles(
    *,
    session: Session,
    filters: store.Filters,
    sort: Sort = "published",
    cursor: str | None = None,
    limit: int = 20,
    with_facets: bool = False,
    rank_candidates: int = 0,
) -> SearchPage:
    """One page of matching articles with highlights; facets over all matches when asked. By relevance,
    only the newest `rank_candidates` matches are ranked (PostgreSQL; 0: every match)."""
    if filters.node is None and sort == "relevance":
        sort = "published"  # nothing to rank by
    configs = store.configs_to_search(session=session, languages=filters.languages, configs_of=config_for)
    if sort == "relevance":
        rows = store.page_by_rank(
            session=session,
            f=filters,
            configs=configs,
            after=decode_cursor(cursor, sort) if cursor else None,
            limit=limit + 1,
            candidates=rank_candidates,
        )
    else:
        rows = store.page_by_time(
            session=session,
            f=filters,
            configs=configs,
            after=decode_cursor(cursor, sort) if cursor else None,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    items = _hits(session, rows, filters.node)
    next_cursor = None
    if more and rows:
        last_id, last_time, last_rank = rows[-1]
        key = last_rank if sort == "relevance" else last_time
        next_cursor = encode_cursor(sort, key, last_id)  # type: ignore[arg-type]  # a ranked row has a rank
    facets = None
    if with_facets:
        days: Counter[str] = Counter()
        langs: Counter[str] = Counter()
        for day, lang, n in store.facets(session=session, f=filters, configs=configs):
            days[day] += n
            langs[lang] += n
        facets = Facets(
            total=sum(langs.values()),
            days=[DayCount(day=d, count=n) for d, n in sorted(days.items())],
            languages=[
                LanguageCount(language=lg, count=n)
                for lg, n in sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        )
    query = to_tsquery_text(filters.node) if filters.node is not None else None
    return SearchPage(items=items, next_cursor=next_cursor, sort=sort, query=query, facets=facets)


_COLUMNS = (
    Article.id,
    Article.title,
    func.substr(Article.text, 1, SNIPPET_SOURCE_CHARS),
    Article.url,
    Article.canonical_url,
    Article.language,
    Article.published_at,
    Article.fetched_at,
    Article.feed_id,
    Article.story_id,
    Article.processed_at,
    Article.status,
    Article.source,
)


def _hit(r: Any, node: Node | None, rank: float | None) -> ArticleHit:
    article_id, title, body, url, canonical, language, published, fetched = r[:8]
    feed_id, story_id, processed, status, source = r[8:]
    config = config_for(language)
    head = highlight_title(title, config, node)
    snip = snippet(body or "", config, node)
    return ArticleHit(
        id=article_id,
        title=title,
        title_highlights=head.highlights,
        url=safe_link(url) or safe_link(canonical),
        host=source_host(canonical),
        language=language,
        dated_at=article_time(published, fetched),
        published_at=published,
        feed_id=feed_id,
        story_id=story_id,
        canonical_url=canonical,
        fetched_at=fetched,
        processed_at=processed,
        status=status,
        source=source,
        snippet=snip.text,
        highlights=snip.highlights,
        rank=rank,
    )


def _hits(
    session: Session, rows: list[tuple[int, datetime, float | None]], node: Node | None
) -> list[ArticleHit]:
    if not rows:
        return []
    found = {
        r[0]: r
        for r in session.exec(select_columns(*_COLUMNS).where(col(Article.id).in_([r[0] for r in rows])))
    }
    return [_hit(found[i], node, rank) for i, _when, rank in rows if i in found]


def list_recent(*, session: Session, limit: int, before: int | None, status: str | None) -> SearchPage:
    """Every article (processed or not), newest id first: the listing without search parameters."""
    q = select_columns(*_COLUMNS).order_by(col(Article.id).desc()).limit(limit)
    if before is not None:
        q = q.where(col(Article.id) < before)
    if status is not None:
        q = q.where(Article.status == status)
    items = [_hit(r, None, None) for r in session.exec(q)]
    next_before = items[-1].id if len(items) == limit else None
    return SearchPage(items=items, sort="id", next_before=next_before)
