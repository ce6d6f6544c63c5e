"""Exact fingerprints and near-duplicate story clustering (MinHash LSH via datasketch).

- `content_fingerprint(title, text)`: sha256 of the normalised text; equal for copies that differ only in
  case, punctuation and whitespace.
- `MinHasher.signature(title, text)`: a MinHash signature (tuple of ints) of word shingles, or None when the
  text is too short to judge (headlines alone make false pairs).
- `band_keys(signature)`: the LSH band hashes. Persist them in an indexed table (band_key → article id) and
  near-duplicate candidates are a single `WHERE band_key IN (...)` query: no in-memory index to rebuild.
- `StoryIndex`: the same logic in memory, rebuilt from stored (article id, story id, signature) rows;
  used by the embedded mode, benchmarks and the corpus measurement.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# datasketch is imported where it is used: its package imports scipy (for MinHashLSH's parameters), about a
# second of CPU at every process start, and most processes (notifier, beat, health checks) never hash.

__all__ = [
    "MinHasher",
    "StoryIndex",
    "band_hashes",
    "band_keys",
    "content_fingerprint",
    "normalize_text",
    "signature_from_bytes",
    "signature_similarity",
    "signature_to_bytes",
]

NUM_PERM = 128
SHINGLE = 4
THRESHOLD = 0.5
MIN_WORDS = 30
SIGNATURE_CHARS = 100_000  # of a text's start make its signature (near-duplicates show there)
_SEED = 1
_SALTS = [i.to_bytes(16, "little") for i in range(512)]
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Lower-cased words of the NFKC text joined by single spaces (punctuation and markup spacing ignored)."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text or "").casefold()))


def content_fingerprint(title: str, text: str) -> str:
    """Exact-duplicate fingerprint (hex sha256) of the normalised title and text."""
    payload = normalize_text(title) + "\n" + normalize_text(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@functools.cache
def _permutations(num_perm: int) -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=_SEED, scheme="affine32").permutations


@functools.cache
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


@dataclass(frozen=True)
class MinHasher:
    """Word-shingle MinHash signatures with fixed permutations, so stored signatures stay comparable."""

    num_perm: int = NUM_PERM
    shingle: int = SHINGLE
    min_words: int = MIN_WORDS

    def shingles(self, title: str, text: str) -> list[bytes] | None:
        """The set of word shingles of title and the start of the text, or None when there are too few words.

        Only the first SIGNATURE_CHARS of a text count: near-duplicates show in their first pages, and a
        2 MB text would otherwise cost seconds of CPU (and, on SQLite, of holding the write lock).
        """
        words = normalize_text(f"{title}\n{text[:SIGNATURE_CHARS]}").split()
        if len(words) < self.min_words:
            return None
        k = self.shingle
        return list({" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)})

    def signature(self, title: str, text: str) -> tuple[int, ...] | None:
        """MinHash signature of the text; None when it is too short to cluster."""
        shingles = self.shingles(title, text)
        if shingles is None:
            return None
        # Permutations are fixed by the seed, so they are made once; crc32 is a stable, fast 32-bit hash.
        perms = _permutations(self.num_perm)
        from datasketch import MinHash

        m = MinHash(
            num_perm=self.num_perm, seed=_SEED, hashfunc=zlib.crc32, permutations=perms, scheme="affine32"
        )
        m.update_batch(shingles)
        return tuple(m.hashvalues.tolist())


def signature_to_bytes(signature: tuple[int, ...]) -> bytes:
    """Pack a signature for a binary column (8 bytes per value)."""
    return struct.pack(f"<{len(signature)}Q", *signature)


def signature_from_bytes(data: bytes) -> tuple[int, ...]:
    """Unpack `signature_to_bytes`."""
    return struct.unpack(f"<{len(data) // 8}Q", data)


def signature_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two signatures."""
    if len(a) != len(b) or not a:
        return 0.0
    return float(np.count_nonzero(np.asarray(a, dtype=np.uint64) == np.asarray(b, dtype=np.uint64))) / len(a)


def band_hashes(signature: tuple[int, ...], *, threshold: float = THRESHOLD) -> list[int]:
    """LSH band hashes (signed 64-bit, indexable in any SQL database); texts above the threshold very
    likely share one."""
    b, r = _lsh_params(threshold, len(signature))
    packed = np.asarray(signature[: b * r], dtype="<u8").tobytes()
    step = r * 8
    # The band number is hashed in, so equal values in different bands never collide.
    out = []
    for i in range(b):
        digest = hashlib.blake2b(packed[i * step : (i + 1) * step], digest_size=8, salt=_SALTS[i]).digest()
        out.append(int.from_bytes(digest, "big", signed=True))
    return out


def band_keys(signature: tuple[int, ...], *, threshold: float = THRESHOLD) -> list[str]:
    """The band hashes as "<band>:<hex>" strings (for key-value stores)."""
    hashes = band_hashes(signature, threshold=threshold)
    return [f"{i}:{h & 0xFFFFFFFFFFFFFFFF:016x}" for i, h in enumerate(hashes)]


class StoryIndex:
    """In-memory near-duplicate index: assigns each added article to an existing story or a new one."""

    def __init__(self, *, threshold: float = THRESHOLD, hasher: MinHasher | None = None) -> None:
        self.threshold = threshold
        self.hasher = hasher or MinHasher()
        self._buckets: dict[int, list[int]] = defaultdict(list)
        self._signatures: dict[int, tuple[int, ...]] = {}
        self._story: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    @classmethod
    def rebuild(
        cls, rows: Iterable[tuple[int, int, tuple[int, ...]]], *, threshold: float = THRESHOLD
    ) -> StoryIndex:
        """Build from stored (article_id, story_id, signature) rows."""
        index = cls(threshold=threshold)
        for article_id, story_id, signature in rows:
            index.insert(article_id, story_id, signature)
        return index

    def insert(
        self, article_id: int, story_id: int, signature: tuple[int, ...], bands: Sequence[int] | None = None
    ) -> None:
        """Record an article whose story is already decided (bands: precomputed band_hashes)."""
        self._signatures[article_id] = signature
        self._story[article_id] = story_id
        for key in bands if bands is not None else band_hashes(signature, threshold=self.threshold):
            self._buckets[key].append(article_id)

    def candidates(
        self, signature: tuple[int, ...], bands: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """Known articles sharing a band with the signature, with their estimated similarity, best first."""
        keys = bands if bands is not None else band_hashes(signature, threshold=self.threshold)
        ids = {a for key in keys for a in self._buckets.get(key, ())}
        scored = [(a, signature_similarity(signature, self._signatures[a])) for a in ids]
        return sorted((s for s in scored if s[1] >= self.threshold), key=lambda s: (-s[1], s[0]))

    def assign(
        self, article_id: int, signature: tuple[int, ...] | None, bands: Sequence[int] | None = None
    ) -> int:
        """Story id for a new article: the best near-duplicate's story, else the article's own id."""
        if signature is None:
            self._story[article_id] = article_id
            return article_id
        bands = bands if bands is not None else band_hashes(signature, threshold=self.threshold)
        found = self.candidates(signature, bands)
        story = self._story[found[0][0]] if found else article_id
        self.insert(article_id, story, signature, bands)
        return story

    def story_of(self, article_id: int) -> int | None:
        """The story an article was assigned to."""
        return self._story.get(article_id)
