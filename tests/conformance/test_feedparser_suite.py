"""The feed reader over feedparser's own test documents: every expectation met on both paths, or listed.

The documents come from feedparser's source distribution on PyPI (the installed version), downloaded once
into ~/.cache/newswatch/feedparser (or $XDG_CACHE_HOME/newswatch/feedparser) and read from the tarball;
see tests/conformance/feedparser_suite.py for how expectations map onto the project's model.
"""

from __future__ import annotations

import pytest

from tests.conformance.feedparser_suite import (
    MODES,
    Report,
    explained,
    fetch_sdist,
    load_documents,
    load_known,
    run_suite,
)


@pytest.fixture(scope="module")
def report() -> Report:
    return run_suite(list(load_documents(fetch_sdist())))


def _show(rows: list[tuple[str, ...]]) -> str:
    return "\n".join("  " + " | ".join(r) for r in rows[:60]) + ("\n  ..." if len(rows) > 60 else "")


def test_the_suite_is_read_and_covers_every_field(report: Report) -> None:
    # Guards against a test that passes by reading nothing (a changed sdist layout, a broken header regex).
    assert report.documents > 2000
    assert report.documents_checked > 1400 and report.entries_compared > 800
    for field, floor in {
        "title": 500,
        "summary": 500,
        "subtitle": 80,
        "content": 60,
        "link": 25,
        "id": 20,
    }.items():
        assert report.checks[field] >= floor, (field, report.checks)
    assert report.checks["date"] >= 30 and report.checks["encoding"] >= 50
    assert not report.expectations_not_holding or len(report.expectations_not_holding) <= 2


def test_every_difference_from_feedparser_is_a_known_one(report: Report) -> None:
    known = load_known()
    unexplained = [d for d in report.differences if explained(d, known) is None]
    rows = [
        (d.document, d.mode, d.field, f"expected {d.expected!r:.120}", f"got {d.got!r:.120}")
        for d in unexplained
    ]
    assert not unexplained, f"{len(unexplained)} differences not in known_differences.yaml:\n{_show(rows)}"


def test_fast_path_and_fallback_agree_wherever_both_read_a_document(report: Report) -> None:
    known = load_known()
    apart = [d for d in report.differences if d.mode == "paths" and explained(d, known) is None]
    assert report.both_paths > 1800
    assert not apart, _show([(d.document, d.field, repr(d.expected), repr(d.got)) for d in apart])


def test_known_differences_still_happen(report: Report) -> None:
    """A listed difference that no longer happens is stale: the list stays short and true."""
    used = {explained(d, load_known()) for d in report.differences}
    stale = [key for key in load_known() if key not in used]
    assert not stale, _show([tuple(k) for k in stale])


def test_the_fast_path_reads_nearly_every_document_feedparser_reads(report: Report) -> None:
    # The fast path declines only what lxml finds not well-formed or what has no RSS/Atom root.
    assert set(report.accepted) <= set(MODES)
    assert report.accepted["fast"] >= 0.97 * report.accepted["fallback"]
