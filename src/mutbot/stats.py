"""Paired statistics (pure): the exact one-sided Wilcoxon signed-rank test (scipy), the
Hodges–Lehmann estimate with its confidence interval, Holm's correction, the Pareto front."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Floats = Sequence[float] | NDArray[np.float64]


@dataclass(frozen=True)
class PairedTest:
    """Per-pair differences d (positive = better) summarised for one metric."""

    n: int
    p_value: float  # one-sided exact Wilcoxon signed-rank, H1: the median d is above zero
    estimate: float  # Hodges–Lehmann: median of the Walsh averages (d_i + d_j) / 2, i <= j
    low: float  # two-sided (1 - alpha) confidence interval of the estimate
    high: float
    alpha: float
    spread: float  # sample standard deviation of d


def smallest_p(pairs: int) -> float:
    """No arrangement of n pairs gives an exact one-sided p below 1 / 2^n."""
    return 0.5**pairs


def walsh_averages(d: Floats) -> NDArray[np.float64]:
    values = np.asarray(d, dtype=float)
    i, j = np.triu_indices(len(values))
    return np.sort((values[i] + values[j]) / 2)


def p_better(d: Floats) -> float:
    """One-sided exact Wilcoxon signed-rank p-value that the median d is above zero."""
    return _p_greater(np.asarray(d, dtype=np.float64))


def _p_greater(d: NDArray[np.float64]) -> float:
    if not np.any(d):
        return 1.0
    return float(stats.wilcoxon(d, alternative="greater", method="exact").pvalue)


def _bound(d: NDArray[np.float64], walsh: NDArray[np.float64], level: float, upper: bool) -> float:
    """One-sided confidence bound by inverting scipy's test over the Walsh averages.

    The signed-rank statistic of d - delta counts the Walsh averages above delta, so the test's
    p-value only changes at Walsh averages: probe midpoints and binary-search the boundary."""
    sign = -1.0 if upper else 1.0
    w = np.sort(sign * walsh)
    x = sign * d
    probes = np.concatenate(([w[0] - 1.0], (w[:-1] + w[1:]) / 2))

    def rejects(k: int) -> bool:
        return _p_greater(x - probes[k]) <= level

    if not rejects(0):
        return math.inf if upper else -math.inf
    lo, hi = 0, len(probes) - 1  # rejects(lo) holds; find the last probe that still rejects
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if rejects(mid) else (lo, mid - 1)
    return float(sign * w[lo])


def paired_test(d: Floats, alpha: float) -> PairedTest:
    values = np.asarray(d, dtype=float)
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise ValueError("paired differences must be finite and non-empty")
    walsh = walsh_averages(values)
    return PairedTest(
        n=len(values),
        p_value=_p_greater(values),
        estimate=float(np.median(walsh)),
        low=_bound(values, walsh, alpha / 2, upper=False),
        high=_bound(values, walsh, alpha / 2, upper=True),
        alpha=alpha,
        spread=float(np.std(values, ddof=1)) if len(values) > 1 else math.nan,
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order (scipy has no Holm)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def pareto_front(points: dict[str, Sequence[float]]) -> list[str]:
    """Names whose vector (higher = better in every coordinate) no other vector dominates."""

    def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
        return all(x >= y for x, y in zip(a, b, strict=True)) and any(
            x > y for x, y in zip(a, b, strict=True)
        )

    return [
        name
        for name, vector in points.items()
        if not any(dominates(other, vector) for key, other in points.items() if key != name)
    ]
