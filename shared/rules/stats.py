"""Document frequencies of words, so the presearcher anchors each rule on its truly rarest terms.

Lucene Monitor weighs terms by length unless given term frequencies; so do we. Frequencies come from a
sample of real articles (the workers use recent stored ones); any corpus of the same kind of text works.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise

from shared.folding import fold
from shared.rules.text import normalize, tokens

STEM = "\x01"  # presence keys of wildcard stems ("\x01sanct"), apart from plain words
UNSEEN = 0.5  # an unseen word counts as half a document


class Frequencies:
    """Share of sampled documents containing each word; costs of presence keys in those units."""

    def __init__(
        self, counts: Counter[str], docs: int, pairs: Counter[tuple[str, str]] | None = None
    ) -> None:
        self.docs = max(1, docs)
        self.share = {w: n / self.docs for w, n in counts.items()}
        # Adjacent word pairs, when counted: "with the" is in most articles, "red sea" in few.
        self.pair_share = {k: n / self.docs for k, n in pairs.items()} if pairs is not None else None
        self._sorted: list[str] | None = None

    def word(self, word: str) -> float:
        """Estimated share of documents containing `word`."""
        return self.share.get(word, UNSEEN / self.docs)

    def cost(self, key: str | tuple[str, str]) -> float:
        """Estimated share of documents in which a presence key occurs."""
        if isinstance(key, tuple):
            if self.pair_share is not None:
                return self.pair_share.get(key, UNSEEN / self.docs)
            # Two words adjacent: far rarer than either; a tenth of the rarer one is a fair guess.
            return min(self.word(key[0]), self.word(key[1])) * 0.1
        if key.startswith(STEM):
            return min(1.0, self._prefix_share(key[1:]))
        return self.word(key)

    def _prefix_share(self, stem: str) -> float:
        if self._sorted is None:
            self._sorted = sorted(self.share)
        i, total = bisect_left(self._sorted, stem), 0.0
        while i < len(self._sorted) and self._sorted[i].startswith(stem):
            total += self.share[self._sorted[i]]
            i += 1
        return total or UNSEEN / self.docs


def document_frequencies(texts: Iterable[str]) -> Frequencies:
    """Count, for every normalised word and pair of adjacent words, the number of texts containing it."""
    counts: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    docs = 0
    for text in texts:
        docs += 1
        words = tokens(fold(normalize(text)))  # the words as the matcher sees them: Chinese folded
        counts.update(set(words))
        pairs.update(set(pairwise(words)))
    return Frequencies(counts, docs, pairs)


__all__ = ["Frequencies", "document_frequencies"]
