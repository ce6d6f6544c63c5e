"""A pipeline task fills its batch with other articles waiting in `fetched` (PostgreSQL), so articles pushed
one by one are processed in batches once they queue up: oldest first, never one that failed before, never
one another worker holds, each article once; a failing picked-up article is split out like any other."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

import tests.support.faults  # noqa: F401  # registers the `faulty` extractor (no model, fails on a marker)
from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.models import Article
from shared.models.base import utcnow
from shared.pipeline import service
from tests.support.faults import FAIL_MARKER

pytestmark = pytest.mark.integration


@pytest.fixture()
def settings(clean_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    flag = tmp_path / "fail"
    flag.write_text("on")
    monkeypatch.setenv("NWTEST_FAULT_FLAG", str(flag))
    base = get_settings()
    yield base.model_copy(update={"entity_extractor": "faulty", "pipeline_batch_size": 4})


def _articles(
    titles: list[str], *, attempts: dict[int, int] | None = None, hours_ago: float = 0
) -> list[int]:
    with session_scope() as s:
        rows = [
            Article(url=f"https://pickup.example/{t}", canonical_url=f"https://pickup.example/{t}", title=t)
            for t in titles
        ]
        for n, row in enumerate(rows):
            row.attempts = (attempts or {}).get(n, 0)
            row.fetched_at = utcnow() - timedelta(hours=hours_ago)
            s.add(row)
        s.flush()
        return [r.id or 0 for r in rows]


def _statuses(ids: list[int]) -> list[str]:
    with session_scope() as s:
        found = {a.id: a for a in s.exec(select(Article).where(col(Article.id).in_(ids)))}
        return [found[i].status for i in ids]


def test_a_task_fills_its_batch_with_waiting_articles_oldest_first(settings: Settings) -> None:
    ids = _articles([f"article {n}" for n in range(7)], attempts={1: 1})  # ids[1] failed once before
    service.process_batch(sessions=session_scope, article_ids=[ids[0]], settings=settings)
    assert _statuses(ids) == ["processed", "fetched"] + ["processed"] * 3 + ["fetched"] * 2

    # a task whose own article is done still takes what waits (not the one that failed before)
    service.process_batch(sessions=session_scope, article_ids=[ids[2]], settings=settings)
    assert _statuses(ids) == ["processed", "fetched"] + ["processed"] * 5

    # without pick-up (a batch split into single articles) only the task's own article runs
    more = _articles([f"later {n}" for n in range(2)])
    service.process_batch(sessions=session_scope, article_ids=[ids[1]], settings=settings, pick_up=False)
    assert _statuses([ids[1], *more]) == ["processed", "fetched", "fetched"]


def test_an_article_another_worker_holds_is_not_picked_up(settings: Settings) -> None:
    ids = _articles([f"article {n}" for n in range(3)])
    with session_scope() as held:  # another worker's batch holds ids[1] until it commits
        held.exec(select(Article).where(Article.id == ids[1]).with_for_update()).one()
        service.process_batch(sessions=session_scope, article_ids=[ids[0]], settings=settings)
        assert _statuses(ids) == ["processed", "fetched", "processed"]


def test_a_failing_picked_up_article_is_split_out_and_the_rest_processed(settings: Settings) -> None:
    ids = _articles(["fine 0", f"bad {FAIL_MARKER}", "fine 2"])
    service.process_batch(sessions=session_scope, article_ids=[ids[0]], settings=settings)
    assert _statuses(ids) == ["processed", "fetched", "processed"]
    with session_scope() as s:
        bad = s.get(Article, ids[1])
        assert bad is not None and bad.attempts == 1 and bad.error
    # it is not picked up again by later tasks: only its own retry (the sweep) runs it
    later = _articles(["fine 3"])
    service.process_batch(sessions=session_scope, article_ids=later, settings=settings)
    with session_scope() as s:
        bad = s.get(Article, ids[1])
        assert bad is not None and bad.attempts == 1 and bad.status == "fetched"


def test_an_article_waiting_longer_than_the_sweeps_limit_is_left_to_the_sweep(settings: Settings) -> None:
    # one that kills its worker before its failure is counted must not be the oldest in every batch
    (old,) = _articles(["waiting for two hours"], hours_ago=2)
    ids = _articles([f"article {n}" for n in range(2)])
    service.process_batch(sessions=session_scope, article_ids=[ids[0]], settings=settings)
    assert _statuses([old, *ids]) == ["fetched", "processed", "processed"]
    service.process_batch(sessions=session_scope, article_ids=[old], settings=settings)  # its own task
    assert _statuses([old]) == ["processed"]


def test_a_few_waiting_articles_are_shared_among_the_pool_processes(settings: Settings) -> None:
    # 6 waiting, 2 processes: a task takes its own article and fills to half of them (3), oldest first,
    # so the other process's task finds the other half; a backlog of two batches or more fills full batches
    ids = _articles([f"article {n}" for n in range(6)])
    service.process_batch(sessions=session_scope, article_ids=[ids[0]], settings=settings, share=2)
    assert _statuses(ids) == ["processed"] * 3 + ["fetched"] * 3

    # the articles being processed elsewhere count as waiting work: with 3 held by another process and 3
    # free, a share of the 6 is all 3 free ones
    more = _articles([f"more {n}" for n in range(3)])
    with session_scope() as held:
        held.exec(select(Article).where(col(Article.id).in_(ids[3:])).with_for_update()).all()
        service.process_batch(sessions=session_scope, article_ids=[more[0]], settings=settings, share=2)
        assert _statuses(ids[3:] + more) == ["fetched"] * 3 + ["processed"] * 3

    # 3 + 9 waiting: ceil(12 / 2) = 6, capped at a batch (4): its own article and the 3 oldest
    many = _articles([f"many {n}" for n in range(9)])
    service.process_batch(sessions=session_scope, article_ids=[many[0]], settings=settings, share=2)
    assert _statuses(ids[3:] + many) == ["processed"] * 4 + ["fetched"] * 8


def test_a_tasks_own_articles_are_taken_whatever_the_share(settings: Settings) -> None:
    ids = _articles([f"article {n}" for n in range(4)])
    service.process_batch(sessions=session_scope, article_ids=ids[:3], settings=settings, share=4)
    assert _statuses(ids) == ["processed"] * 3 + ["fetched"]
