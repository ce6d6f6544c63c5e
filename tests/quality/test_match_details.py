"""Generated rules × real articles: every match's details built in C equal the Python reference.

The rules are the benchmark's topical and broad mixes (bench/_matching_rules.py) drawn from BBC
vocabulary; the articles are BBC, Reuters and AG News texts from ../shared/data (read in place), so the
term hits, their order, the display of a span named twice, the snippet window, its marks and whitespace,
and SCORE and plain scores are compared on real text (tests/support/match_details.py: the reference).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import matching
from bench._matching_rules import BBC, generate_rules, generate_topical, load_articles, vocabulary
from shared.rules import MatchDocument, compile_watches
from tests.support.match_details import assert_details_match_reference

OTHER = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "random_2000_non_sco.jsonl"


def _other_news(limit: int) -> list[MatchDocument]:
    out = []
    with OTHER.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append(MatchDocument(title=row.get("title") or "", text=row.get("text") or "", language="en"))
            if len(out) >= limit:
                break
    return out


@pytest.mark.skipif(not BBC.is_file() or not OTHER.is_file(), reason="../shared/data is not here")
@pytest.mark.parametrize("mix", ["topical", "broad"])
def test_details_equal_the_reference_on_real_articles(mix: str) -> None:
    bbc = load_articles()
    words, phrases = vocabulary(bbc, 0.02 if mix == "topical" else 0.05)
    specs = (
        generate_topical(2000, bbc, words, phrases)
        if mix == "topical"
        else generate_rules(1000, words, phrases)
    )
    engine = compile_watches(specs)
    docs = bbc[::15] + _other_news(150)
    matches = sum(assert_details_match_reference(engine, d) for d in docs)
    assert matches > 5 * len(docs)  # the rules fire: there is something to compare


@pytest.mark.skipif(not BBC.is_file() or not OTHER.is_file(), reason="../shared/data is not here")
def test_bench_matching_reports_details_lazy_naive_and_growth(capsys: pytest.CaptureFixture[str]) -> None:
    """`bench matching` (small): the headline is with details, the lazy figure labelled beside it, the
    naive baseline measures at least 20 articles at every size, growth and goals are reported."""
    args = ["--rules", "40", "--rules", "80", "--articles", "300", "--rounds", "1", "--naive-seconds", "0"]
    assert matching.main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["headline"]) >= {"articles_per_cpu_second_with_details", "articles_per_cpu_second_lazy"}
    for row in report["results"]:
        assert row["naive_articles_measured"] >= 20
        assert row["matches"] > 0 and row["compile_cpu_seconds"] >= 0 and row["engine_memory_mb_c"] > 0
    assert report["growth"]["from_rules"] == 40 and report["growth"]["to_rules"] == 80
    assert "lazy" in report and "with_details" in report and "load_average" in report
