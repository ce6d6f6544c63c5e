"""Canonical URLs and duplicate detection."""

from __future__ import annotations

import pytest

from shared.ingestion.canonical import canonical_url, extract_canonical_link
from shared.ingestion.dedup import (
    MinHasher,
    StoryIndex,
    band_keys,
    content_fingerprint,
    signature_from_bytes,
    signature_to_bytes,
)


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.example.com/news/story-1",
        "http://example.com/news/story-1/",
        "https://EXAMPLE.com:443/news/story-1#comments",
        "https://example.com/news/story-1?utm_source=rss&utm_medium=feed&fbclid=abc",
        "https://example.com/news/story-1/amp",
        "https://amp.example.com/news/story-1",
        "https://example-com.cdn.ampproject.org/c/s/example.com/news/story-1",
        "https://example.com/amp/news/story-1",
        "https://example.com/news/story-1?amp=1",
        "http://example.com:80/news//story-1",
    ],
)
def test_variants_share_one_canonical_form(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/news/story-1"


def test_meaningful_query_is_kept_sorted_and_ports_kept() -> None:
    assert canonical_url("https://ex.com/a?b=2&a=1&utm_campaign=x") == "https://ex.com/a?a=1&b=2"
    assert canonical_url("https://ex.com:8443/a") == "https://ex.com:8443/a"
    assert canonical_url("mailto:x@example.com") == "mailto:x@example.com"
    assert canonical_url("https://ex.com") == "https://ex.com/"


def test_link_rel_canonical_and_og_url() -> None:
    page = '<html><head><link rel="canonical" href="/story?id=1&amp;x=2"></head></html>'
    assert extract_canonical_link(page, "https://ex.com/amp/story") == "https://ex.com/story?id=1&x=2"
    og = '<meta property="og:url" content="https://ex.com/og">'
    assert extract_canonical_link(og, "https://ex.com/") == "https://ex.com/og"
    js = '<link rel="canonical" href="javascript:alert(1)">'
    assert extract_canonical_link(js, "https://ex.com/") is None
    assert extract_canonical_link("<p>nothing</p>", "https://ex.com/") is None


def test_fingerprint_ignores_case_punctuation_and_spacing() -> None:
    a = content_fingerprint("SCO Summit", "Leaders met in Astana.  Talks continue!")
    b = content_fingerprint("sco summit", "Leaders met in Astana\nTalks continue")
    c = content_fingerprint("sco summit", "Leaders met in Minsk. Talks continue")
    assert a == b != c and len(a) == 64


WIRE = (
    "Leaders of the Shanghai Cooperation Organisation gathered in Astana on Thursday for a two day summit "
    "expected to focus on regional security, trade corridors and the admission of Belarus as a full member. "
    "Officials said the final declaration would call for closer cooperation against terrorism and for new "
    "payment systems in national currencies, while several delegations planned bilateral meetings."
)


def test_near_duplicates_join_one_story_and_others_do_not() -> None:
    hasher = MinHasher()
    index = StoryIndex()
    s1 = index.assign(1, hasher.signature("SCO summit opens", WIRE))
    copy = WIRE.replace("Thursday", "Thursday morning") + " Reporting by the wire desk."
    s2 = index.assign(2, hasher.signature("SCO leaders meet in Astana", copy))
    other = "The central bank raised interest rates by half a point on Tuesday citing inflation " * 3
    s3 = index.assign(3, hasher.signature("Rates rise", other))
    assert s1 == 1 and s2 == 1 and s3 == 3
    assert index.assign(4, hasher.signature("Short", "too short to judge")) == 4


def test_signature_persistence_round_trip_and_rebuild() -> None:
    hasher = MinHasher()
    sig = hasher.signature("t", WIRE)
    assert sig is not None
    assert signature_from_bytes(signature_to_bytes(sig)) == sig
    assert len(band_keys(sig)) > 1
    rebuilt = StoryIndex.rebuild([(10, 7, sig)])
    assert rebuilt.assign(11, hasher.signature("t2", WIRE + " Updated.")) == 7
