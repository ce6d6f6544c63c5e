"""Article search, the same on PostgreSQL (tsvector + GIN) and SQLite (FTS5): syntax, stemming per language,
filters, both sorts with cursors, highlights, facets."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from shared.errors import InvalidInput
from shared.search import service
from shared.security.access import Caller
from tests.support.corpus import add_articles

pytestmark = pytest.mark.integration

ADMIN = Caller(key_id=1, account_id=1, scopes=("admin",))
CORPUS: list[dict[str, Any]] = [
    {"title": "SCO summit opens in Astana", "text": "Leaders of the Shanghai Cooperation Organisation met.",
     "entities": [("ORG", "Shanghai Cooperation Organisation")], "story": 1000},
    {"title": "Summits and sanctions", "text": "Several summits discussed sanctioning exports.",
     "entities": [("PERSON", "Xi Jinping")]},
    {"title": "Путин прибыл в Астану", "text": "Владимир Путин прибыл на саммит ШОС.", "language": "ru",
     "entities": [("PERSON", "Vladimir Putin")], "story": 1000},
    {"title": "上海合作组织峰会在阿斯塔纳举行", "text": "习近平出席上海合作组织峰会。", "language": "zh"},
    {"title": "SCO Group sues over Linux", "text": "The SCO Group filed a lawsuit about Linux code."},
    {"title": "Football results", "text": "The league table after the weekend."},
]  # fmt: skip


def _search(session: Session, q: str | None = None, **kw: Any) -> Any:
    sort = kw.pop("sort", "published")
    cursor = kw.pop("cursor", None)
    limit = kw.pop("limit", 20)
    facets = kw.pop("facets", False)
    filters = service.build_filters(session=session, caller=ADMIN, q=q, **kw)
    return service.search_articles(
        session=session, filters=filters, sort=sort, cursor=cursor, limit=limit, with_facets=facets
    )


def _titles(page: Any) -> list[str]:
    return [h.title for h in page.items]


def test_words_phrases_or_not_and_prefixes(session: Session) -> None:
    add_articles(session, CORPUS)
    assert _titles(_search(session, "summit astana")) == ["SCO summit opens in Astana"]
    # stemming in the article's language: "summits" finds "summit"
    both = {"SCO summit opens in Astana", "Summits and sanctions"}
    assert set(_titles(_search(session, "summits"))) == both
    assert _titles(_search(session, '"shanghai cooperation"')) == ["SCO summit opens in Astana"]
    assert set(_titles(_search(session, "SCO -linux"))) == {"SCO summit opens in Astana"}
    either = {"SCO Group sues over Linux", "Football results"}
    assert set(_titles(_search(session, "linux OR football"))) == either
    assert _titles(_search(session, "sanction*")) == ["Summits and sanctions"]
    # Russian words stem in Russian: Путина finds Путин
    assert _titles(_search(session, "Путина")) == ["Путин прибыл в Астану"]
    # Chinese: a run of characters is a phrase of single characters
    assert _titles(_search(session, "上海合作组织")) == ["上海合作组织峰会在阿斯塔纳举行"]
    assert _titles(_search(session, "合作 峰会")) == ["上海合作组织峰会在阿斯塔纳举行"]


def test_traditional_and_simplified_chinese_find_each_other(session: Session) -> None:
    add_articles(
        session,
        [
            {"title": "上海合作組織峰會在阿斯塔納舉行", "text": "習近平出席峰會。", "language": "zh"},
            {"title": "上海合作组织外长会议", "text": "习近平致贺信。", "language": "zh"},
        ],
    )
    both = {"上海合作組織峰會在阿斯塔納舉行", "上海合作组织外长会议"}
    assert set(_titles(_search(session, "上海合作组织"))) == both  # a Simplified query
    assert set(_titles(_search(session, "上海合作組織"))) == both  # a Traditional query
    assert set(_titles(_search(session, "習近平"))) == both
    hit = next(h for h in _search(session, "习近平").items if h.title.startswith("上海合作組織"))
    assert [hit.snippet[s:e] for s, e in hit.highlights] == ["習近平"]  # offsets into the original


def test_syntax_errors_carry_a_position(session: Session) -> None:
    for q, pos in (('summit "astana', 7), ("(summit", 7), ("summit )", 7), ("ab*", 0)):
        with pytest.raises(InvalidInput) as err:
            _search(session, q)
        assert err.value.position == pos, q
    with pytest.raises(InvalidInput):
        _search(session, "-linux")


def test_filters_language_story_entity_and_time(session: Session) -> None:
    add_articles(session, CORPUS)
    assert _titles(_search(session, None, languages=["ru"])) == ["Путин прибыл в Астану"]
    assert set(_titles(_search(session, None, story_id=1000))) == {
        "SCO summit opens in Astana",
        "Путин прибыл в Астану",
    }
    assert _titles(_search(session, None, entity="xi jinping")) == ["Summits and sanctions"]
    from datetime import timedelta

    from tests.support.corpus import NOW

    recent = _search(session, None, since=NOW - timedelta(hours=1, minutes=30))
    assert _titles(recent) == ["SCO summit opens in Astana", "Summits and sanctions"]
    with pytest.raises(InvalidInput):
        _search(session, None, entity="Nobody At All")


def test_cursor_pages_cover_every_match_once_in_both_sorts(session: Session) -> None:
    add_articles(session, [{"title": f"summit report {i}", "text": "summit " * (i + 1)} for i in range(7)])
    for sort in ("published", "relevance"):
        seen: list[int] = []
        cursor = None
        for _ in range(10):
            page = _search(session, "summit", sort=sort, cursor=cursor, limit=3)
            seen += [h.id for h in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == 7 and len(set(seen)) == 7, (sort, seen)
    # narrowed by a filter, the page comes from the text index and a sort (PostgreSQL): same pages
    seen = []
    cursor = None
    for _ in range(10):
        page = _search(session, "summit", languages=["en"], cursor=cursor, limit=3)
        seen += [h.id for h in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [h.id for h in _search(session, "summit", limit=7).items]
    ranked = _search(session, "summit", sort="relevance", limit=7)
    ranks = [h.rank for h in ranked.items]
    assert ranks == sorted(ranks, reverse=True)
    with pytest.raises(InvalidInput):
        _search(session, "summit", sort="relevance", cursor=_search(session, "summit", limit=1).next_cursor)


def test_relevance_ranks_only_the_newest_candidates_on_postgresql(session: Session) -> None:
    # i hours old, "summit" i + 1 times: the oldest is the most relevant
    add_articles(
        session,
        [{"title": f"report {i}", "text": "summit " * (i + 1), "hours_ago": i} for i in range(7)],
    )
    full = [h.title for h in _search(session, "summit", sort="relevance", limit=7).items]
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # ts_rank_cd: more covers rank higher (bm25 on SQLite also weighs the length)
        assert full == [f"report {i}" for i in range(6, -1, -1)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        filters = service.build_filters(session=session, caller=ADMIN, q="summit")
        page = service.search_articles(
            session=session, filters=filters, sort="relevance", cursor=cursor, limit=2, rank_candidates=3
        )
        seen += [h.title for h in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    if postgres:
        assert seen == ["report 2", "report 1", "report 0"]  # the 3 newest, most relevant first
    else:  # FTS5's bm25 ranks in the match query itself: every match (embedded corpora are small)
        assert seen == full


def test_highlights_point_into_the_original_text_and_facets_count_all(session: Session) -> None:
    add_articles(session, CORPUS)
    page = _search(session, "summits", facets=True)
    for hit in page.items:
        marked = [hit.snippet[s:e].lower() for s, e in hit.highlights]
        marked += [hit.title[s:e].lower() for s, e in hit.title_highlights]
        assert marked and all(m.startswith("summit") for m in marked), (hit.title, hit.snippet)
    assert page.facets is not None
    assert page.facets.total == 2
    assert sum(d.count for d in page.facets.days) == 2
    assert [(lg.language, lg.count) for lg in page.facets.languages] == [("en", 2)]
    ru = _search(session, "Путина")
    assert [ru.items[0].snippet[s:e] for s, e in ru.items[0].highlights] == ["Путин"]


def test_entity_facets_count_articles_not_mentions(session: Session) -> None:
    """An article naming an entity three times counts once; the text query narrows the facets too."""
    xi = ("PERSON", "Xi Jinping")
    add_articles(
        session,
        [
            {"title": "Xi at the summit", "text": "Xi Jinping, Xi, Xi.", "entities": [xi, xi, xi]},
            {"title": "Xi in Astana", "text": "Xi Jinping arrived.", "entities": [xi], "hours_ago": 30},
            {"title": "Путин и Си", "text": "Си Цзиньпин.", "language": "ru", "entities": [xi]},
            {"title": "Nobody here", "text": "A summit.", "entities": [("PERSON", "Vladimir Putin")]},
        ],
    )
    page = _search(session, None, entity="Xi Jinping", facets=True)
    assert page.facets is not None and page.facets.total == 3 == len(page.items)
    assert [(lg.language, lg.count) for lg in page.facets.languages] == [("en", 2), ("ru", 1)]
    assert [d.count for d in page.facets.days] == [1, 2]
    narrowed = _search(session, "summit", entity="Xi Jinping", facets=True)
    assert narrowed.facets is not None and narrowed.facets.total == 1
    assert _titles(narrowed) == ["Xi at the summit"]


def test_stemming_is_safe_across_threads() -> None:
    """Request threads stem at once; a shared Snowball stemmer broke mid-word (IndexError) under load."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.search import text

    words = [f"{w}{i}ing" for i in range(4000) for w in ("summit", "nation", "leader")]
    text.stem.cache_clear()
    with ThreadPoolExecutor(8) as pool:
        out = list(pool.map(lambda w: text.stem(w, "english"), words))
    text.stem.cache_clear()
    assert out == [text.stem(w, "english") for w in words]


@pytest.mark.parametrize("session", ["postgresql"], indirect=True)  # GIN is PostgreSQL's
def test_the_postgresql_index_flushes_a_small_pending_list(session: Session) -> None:
    # migration 0008: an insert that crosses the limit merges the pending list in its own transaction;
    # 256 kB keeps that merge (and every search's scan of the unmerged entries) short
    assert session.get_bind().dialect.name == "postgresql"
    options = session.execute(
        text("SELECT reloptions FROM pg_class WHERE relname = 'ix_article_search_document'")
    ).scalar_one()
    assert "gin_pending_list_limit=256" in options
