"""assign_story against an in-memory StoryStore (the SQL one is exercised by integration tests)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.ingestion.dedup import content_fingerprint
from shared.ingestion.stories import StoryCandidate, assign_story


class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[int, dict[str, object]] = {}
        self.fingerprints: dict[int, str] = {}

    def story_by_fingerprint(self, fingerprint: str, *, before_id: int) -> int | None:
        ids = sorted(i for i, f in self.fingerprints.items() if f == fingerprint and i < before_id)
        return self.rows[ids[0]]["story"] if ids else None  # type: ignore[return-value]

    def candidates(self, bands: Sequence[int], *, before_id: int, limit: int) -> list[StoryCandidate]:
        found = [
            StoryCandidate(i, r["story"], r["sig"])  # type: ignore[arg-type]
            for i, r in sorted(self.rows.items())
            if i < before_id and set(bands) & set(r["bands"])  # type: ignore[call-overload]
        ]
        return found[:limit]

    def save(self, article_id: int, *, story_id: int, signature: bytes | None, bands: Sequence[int]) -> None:
        self.rows[article_id] = {"story": story_id, "sig": signature, "bands": list(bands)}


TEXT = (
    "Foreign ministers of the Shanghai Cooperation Organisation met in Tashkent on Friday to prepare the "
    "summit, discussing transport corridors, counter-terrorism cooperation, the situation in Afghanistan "
    "and applications from several countries that want to join the organisation as observers or partners."
)


def add(store: FakeStore, i: int, title: str, text: str) -> int:
    fp = content_fingerprint(title, text)
    store.fingerprints[i] = fp
    return assign_story(store, article_id=i, title=title, text=text, fingerprint=fp)


def test_copies_near_copies_and_short_exact_copies_share_a_story() -> None:
    store = FakeStore()
    assert add(store, 1, "SCO ministers meet", TEXT) == 1
    assert add(store, 2, "SCO ministers meet", TEXT) == 1  # exact copy, other URL
    assert add(store, 3, "Ministers gather in Tashkent", TEXT + " More to follow.") == 1
    assert add(store, 4, "Rates", "The central bank left rates unchanged on Thursday " * 4) == 4
    assert add(store, 5, "Headline only", "") == 5
    assert add(store, 6, "Headline only", "") == 5  # too short for MinHash, but the fingerprint matches
    assert store.rows[5]["sig"] is None and store.rows[1]["sig"] is not None
