"""Story assignment: every article gets a story id; copies and near-copies of one story share it.

Order of evidence: an earlier article with the same exact fingerprint, else the most similar earlier article
found through shared LSH bands (estimated Jaccard ≥ threshold), else the article starts its own story
(story id = its own id). The SQL lives in `shared.fetching.store`; this module only decides.

Two workers inserting near-copies at the same instant may each start a story; the next copy joins the
earlier of the two. That rare split is accepted rather than serialising all ingestion on one lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.fetching.dedup import (
    THRESHOLD,
    MinHasher,
    band_hashes,
    signature_from_bytes,
    signature_similarity,
    signature_to_bytes,
)

__all__ = ["StoryCandidate", "StoryStore", "assign_story"]

_HASHER = MinHasher()


@dataclass(frozen=True)
class StoryCandidate:
    """An earlier article that shares at least one band."""

    article_id: int
    story_id: int | None
    signature: bytes | None


class StoryStore(Protocol):
    """The persistence `assign_story` needs (implemented with SQL in shared.fetching.store)."""

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
