"""The rising test: is the count of the last window significantly above its own recent past?

For one entity (or story) let c be its count in the last window (articles that mention it) and
c_1..c_N its counts in the N windows before. The baseline rate is

    λ = (c_1 + … + c_N + 1) / N

(one pseudo-count, so something never seen before has an expected rate of 1/N a window rather than 0,
which would make any count infinitely surprising). Under "nothing changed" the count is Poisson(λ); the
p-value is the upper tail P(X ≥ c). It rises when c ≥ `min_count` (a handful of mentions is never news),
c is above the plain mean of the previous windows, and p ≤ `max_p`. The score is -log10(p), so the most
surprising come first; z = (c - mean) / sqrt(λ) is reported for readers who think in z-scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_P = 1e-300  # the tail underflows below this; scores are capped at 300


@dataclass(frozen=True)
class Surprise:
    """How one count compares with its baseline."""

    count: int
    mean: float  # plain mean of the previous windows
    expected: float  # λ, the baseline rate with the pseudo-count
    p_value: float
    score: float  # -log10(p)
    z: float
    rising: bool


def poisson_upper_tail(count: int, lam: float) -> float:
    """P(X ≥ count) for X ~ Poisson(lam), summed in log space from `count` up (exact for count > lam)."""
    if count <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if count <= lam:
        # the mass is mostly below: 1 - P(X < count), fine in plain arithmetic
        below = sum(math.exp(k * math.log(lam) - lam - math.lgamma(k + 1)) for k in range(count))
        return max(0.0, min(1.0, 1.0 - below))
    log_term = count * math.log(lam) - lam - math.lgamma(count + 1)
    first = log_term
    total = 0.0
    k = count
    while True:
        total += math.exp(log_term - first)
        k += 1
        log_term += math.log(lam) - math.log(k)
        if log_term - first < -40:  # the remaining terms add less than e^-40 of the sum
            break
    return min(1.0, math.exp(first) * total)


def surprise(count: int, previous: Sequence[int], *, min_count: int, max_p: float) -> Surprise:
    """The rising test for one count against the counts of the previous windows (oldest first or not)."""
    n = max(1, len(previous))
    mean = sum(previous) / n
    lam = (sum(previous) + 1) / n
    p = poisson_upper_tail(count, lam)
    score = -math.log10(max(p, MIN_P))
    z = (count - mean) / math.sqrt(lam)
    rising = count >= min_count and count > mean and p <= max_p
    return Surprise(count, mean, lam, p, score, z, rising)
