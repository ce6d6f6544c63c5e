"""Is a backlog sampled once a second growing? A test that batch-sized swings do not fool.

The latency bench samples the articles still `fetched` once a second while it offers a steady rate. A
pipeline task fills its batch with the articles waiting (up to `pipeline_batch_size`, 16), and they stay
`fetched` until the batch commits, so a system that keeps up shows samples swinging between 0 and about one
batch, with runs of high and low seconds (a batch takes about a second). A least-squares slope over 30 such
samples, judged against a fixed 0.1 articles/s, is a coin toss for a stable backlog: its standard error is of
the order of the bound, and the plain formula understates it, as neighbouring samples are not independent.

The test here asks two questions, and calls the backlog growing only when both say yes:
- **Is it more than noise?** The least-squares slope through the means of consecutive 10-s blocks, with a
  Student-t 95% interval: growing only if the interval lies wholly above zero. Block means carry little of
  the seconds-long autocorrelation (a batch cycle, a neighbour taking a core for a few seconds) that makes a
  slope's plain interval over raw samples too narrow; on simulated series with those swings the interval
  holds the true slope about 95% of the time (a Newey-West interval over the raw samples: about 83%).
- **Is it more than a batch?** The mean level of the window's second half against its first half: growing only
  if it rose by more than half a batch, i.e. the backlog gained more than one batch over the window. Averaging
  45 samples per half smooths the 0-to-a-batch swings to a few articles, so a stable system stays below the
  bound, while a backlog that truly grows moves every sample of the second half up.

Its resolution is the batch over the window: at 90 s measured (a 100 s offer after 10 s of ramp-up), growth
faster than about 16 / 45 s = 0.36 articles/s is called growing; slower growth needs a longer offer to be told
apart from the swings (the interval reports it either way). Beside the verdict the bench reports what does not
depend on sampling: the processed rate against the offered rate over the window, the offered articles still
waiting when the offer stopped, and the drain time (offer stopped → last offered article processed).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

BLOCK_S = 10.0  # seconds per block mean
# Student's t, two-sided 95%, by degrees of freedom (beyond the table: 1.96 + 2.4/df, within 0.01)
T95 = (0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
       2.131, 2.120, 2.110, 2.101, 2.093, 2.086)  # fmt: skip


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with `df` degrees of freedom."""
    return T95[df] if df < len(T95) else 1.96 + 2.4 / df


def ols(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of y on t and its plain standard error (residuals taken as independent)."""
    n = len(points)
    if n < 3:
        raise ValueError("a slope needs at least 3 points")
    mt, my = statistics.fmean(p[0] for p in points), statistics.fmean(p[1] for p in points)
    sxx = sum((t - mt) ** 2 for t, _ in points)
    if sxx == 0:
        raise ValueError("the points share one time")
    slope = sum((t - mt) * (y - my) for t, y in points) / sxx
    rss = sum((y - my - slope * (t - mt)) ** 2 for t, y in points)
    return slope, math.sqrt(rss / (n - 2) / sxx)


def block_means(points: Sequence[tuple[float, float]], seconds: float = BLOCK_S) -> list[tuple[float, float]]:
    """(mean time, mean value) of consecutive blocks of `seconds`; a block with fewer than half its samples
    (the window's last, partial one) is left out. Samples are taken about once a second."""
    if not points:
        return []
    t0 = points[0][0]
    blocks: dict[int, list[tuple[float, float]]] = {}
    for t, y in points:
        blocks.setdefault(int((t - t0) // seconds), []).append((t, y))
    return [
        (statistics.fmean(t for t, _ in pts), statistics.fmean(y for _, y in pts))
        for _, pts in sorted(blocks.items())
        if len(pts) >= seconds / 2
    ]


def backlog_trend(
    samples: Sequence[tuple[float, float]], *, batch: int, skip_s: float = 10.0
) -> dict[str, Any]:
    """The verdict on (time, backlog) samples taken during a steady offer; `batch`: the pipeline's batch size.

    The first `skip_s` seconds (the backlog rising from empty to its working level) are left out.
    """
    if not samples:
        return {"n": 0, "growing": None, "why": "no samples"}
    t0 = samples[0][0]
    window = [(t - t0, float(y)) for t, y in samples if t - t0 >= skip_s]
    blocks = block_means(window)
    if len(blocks) < 4:
        return {"n": len(window), "growing": None, "why": "fewer than 4 blocks of 10 s after the ramp-up"}
    slope, se = ols(blocks)
    t = t95(len(blocks) - 2)
    lo, hi = slope - t * se, slope + t * se
    half = len(window) // 2
    first = statistics.fmean(y for _, y in window[:half])
    second = statistics.fmean(y for _, y in window[half:])
    change = second - first
    bound = batch / 2
    significant = lo > 0
    large = change > bound
    growing = significant and large
    if growing:
        why = f"rose {change:.1f} > {bound:g} between the halves, slope interval above 0"
    elif large:
        why = f"rose {change:.1f} > {bound:g} between the halves, but the slope interval includes 0"
    elif significant:
        why = f"slope interval above 0, but the level rose only {change:.1f} <= {bound:g} (half a batch)"
    else:
        why = f"level change {change:+.1f} <= {bound:g} (half a batch) and the slope interval includes 0"
    return {
        "n": len(window),
        "window_s": round(window[-1][0] - window[0][0], 1),
        "skipped_first_s": skip_s,
        "mean_first_half": round(first, 2),
        "mean_second_half": round(second, 2),
        "level_change": round(change, 2),
        "level_bound": bound,
        "slope_per_s": round(slope, 3),
        "slope_se": round(se, 3),
        "slope_ci95": [round(lo, 3), round(hi, 3)],
        "slope_blocks": f"{len(blocks)} means of {BLOCK_S:g} s",
        "growing": growing,
        "why": why,
    }
