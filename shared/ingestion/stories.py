"""Story assignment: every article gets a story id; copies and near-copies of one story share it.

Order of evidence: an earlier article with the same exact fingerprint, else the most similar earlier article
found through shared LSH bands (estimated Jaccard ≥ threshold), else the article starts its own story
(story id = its own id). The SQL lives in `shared.ingestion.store`; this module only decides.

Two workers inserting near-copies at the same instant may each start a story; the next copy joins the
earlier of the two. That rare split is accepted rather than serialising all ingestion on one lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.ingestion.dedup import (
    THRESHOLD,
    MinHasher,
    StoryIndex,
    band_hashes,
    signature_from_bytes,
    signature_similarity,
    signature_to_bytes,
)

__all__ = [
    "BatchStoryStore",
    "NewArticle",
    "StoryCandidate",
    "StoryStore",
    "assign_stories_batch",
    "assign_story",
    "decide_stories_batch",
]

_HASHER = MinHasher()


@dataclass(frozen=True)
class StoryCandidate:
    """An earlier article that shares at least one band."""

    article_id: int
    story_id: int | None
    signature: bytes | None


class StoryStore(Protocol):
    """The persistence `assign_story` needs (implemented with SQL in shared.ingestion.store)."""

    def story_by_fingerprint(self, fingerprint: str, *, before_id: int) -> int | None:
        """Story of the earliest other article with this fingerprint."""
        ...

    def candidates(self, bands: Sequence[int], *, before_id: int, limit: int) -> list[StoryCandidate]:
        """Earlier articles sharing any of these bands."""
        ...

    def save(self, article_id: int, *, story_id: int, signature: bytes | None, bands: Sequence[int]) -> None:
        """Persist the decision, the signature and the band rows."""
        ...


def assign_story(
    store: StoryStore,
    *,
    article_id: int,
    title: str,
    text: str,
    fingerprint: str | None,
    threshold: float = THRESHOLD,
    hasher: MinHasher = _HASHER,
) -> int:
    """Decide and persist the story of one article; returns the story id."""
    story: int | None = None
    if fingerprint:
        story = store.story_by_fingerprint(fingerprint, before_id=article_id)
    signature = hasher.signature(title, text)
    bands = band_hashes(signature, threshold=threshold) if signature is not None else []
    if story is None and signature is not None:
        best: tuple[float, int] | None = None
        for cand in store.candidates(bands, before_id=article_id, limit=200):
            if cand.signature is None:
                continue
            sim = signature_similarity(signature, signature_from_bytes(cand.signature))
            if sim >= threshold and (best is None or sim > best[0]):
                best = (sim, cand.story_id or cand.article_id)
        story = best[1] if best else None
    story = story or article_id
    store.save(
        article_id,
        story_id=story,
        signature=signature_to_bytes(signature) if signature is not None else None,
        bands=bands,
    )
    return story


@dataclass(frozen=True)
class NewArticle:
    """What batch assignment needs of a freshly inserted article."""

    article_id: int
    title: str
    text: str
    fingerprint: str | None


class BatchStoryStore(Protocol):
    """Set-at-a-time persistence for `assign_stories_batch` (a handful of queries per batch)."""

    def stories_by_fingerprints(self, fingerprints: Sequence[str]) -> dict[str, int]:
        """Story of the earliest already-assigned article for each fingerprint."""
        ...

    def candidates_for_bands(self, bands: Sequence[int]) -> list[StoryCandidate]:
        """Already-assigned articles sharing any of these bands."""
        ...

    def save_many(self, rows: Sequence[tuple[int, int, bytes | None, Sequence[int]]]) -> None:
        """Persist (article id, story id, signature, bands) for every row."""
        ...


StoryRow = tuple[int, int, bytes | None, Sequence[int]]


def decide_stories_batch(
    store: BatchStoryStore,
    articles: Sequence[NewArticle],
    *,
    threshold: float = THRESHOLD,
    hasher: MinHasher = _HASHER,
) -> list[StoryRow]:
    """Decide the stories of many new articles, earlier ids first; returns (id, story, signature, bands)
    rows without writing them (the caller stores them with the articles or through `save_many`)."""
    ordered = sorted(articles, key=lambda a: a.article_id)
    sigs = {a.article_id: hasher.signature(a.title, a.text) for a in ordered}
    bands = {i: band_hashes(s, threshold=threshold) if s is not None else [] for i, s in sigs.items()}
    by_fp = store.stories_by_fingerprints(sorted({a.fingerprint for a in ordered if a.fingerprint}))
    all_bands = sorted({b for bs in bands.values() for b in bs})
    index = StoryIndex(threshold=threshold, hasher=hasher)
    for cand in store.candidates_for_bands(all_bands) if all_bands else []:
        if cand.signature is not None:
            known = signature_from_bytes(cand.signature)
            index.insert(cand.article_id, cand.story_id or cand.article_id, known)
    rows: list[StoryRow] = []
    for art in ordered:
        sig = sigs[art.article_id]
        story = by_fp.get(art.fingerprint) if art.fingerprint else None
        if story is None:
            story = index.assign(art.article_id, sig, bands[art.article_id])
        elif sig is not None:
            index.insert(art.article_id, story, sig, bands[art.article_id])
        if art.fingerprint and art.fingerprint not in by_fp:
            by_fp[art.fingerprint] = story
        packed = signature_to_bytes(sig) if sig is not None else None
        rows.append((art.article_id, story, packed, bands[art.article_id]))
    return rows


def assign_stories_batch(
    store: BatchStoryStore,
    articles: Sequence[NewArticle],
    *,
    threshold: float = THRESHOLD,
    hasher: MinHasher = _HASHER,
) -> dict[int, int]:
    """Decide and persist the stories of many new articles; returns {article id: story id}."""
    rows = decide_stories_batch(store, articles, threshold=threshold, hasher=hasher)
    store.save_many(rows)
    return {a: s for a, s, _sig, _bands in rows}
