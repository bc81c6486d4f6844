"""Per-pair differences and the changes they stand for (pure): d > 0 always means better."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mutbot.metrics import METRICS
from mutbot.results import Comparison, Pair

ABSOLUTE = frozenset({"error_rate"})  # compared by difference: a rate of 0 has no ratio


def deltas(pairs: list[Pair], metric: str) -> NDArray[np.float64]:
    """Per pair d, positive = better: ln(baseline / candidate) for lower-is-better metrics,
    ln(candidate / baseline) for higher-is-better ones, baseline - candidate for the error rate."""
    base = np.array([p.baseline.metrics[metric] for p in pairs], dtype=float)
    cand = np.array([p.candidate.metrics[metric] for p in pairs], dtype=float)
    if metric in ABSOLUTE:
        return np.asarray(base - cand, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.log(base / cand)
    return np.asarray(d if METRICS[metric].better == "lower" else -d, dtype=np.float64)


def to_change(metric: str, d: float) -> float:
    """A d back into the metric's own relative change (error rate: absolute difference)."""
    if metric in ABSOLUTE:
        return -d
    return math.expm1(-d) if METRICS[metric].better == "lower" else math.expm1(d)


def to_d(metric: str, change: float) -> float:
    """The inverse of to_change."""
    if metric in ABSOLUTE:
        return -change
    # -100% is where to_change lands for |d| above ~37 (e^-37 rounds to 0): d is unbounded there
    grown = math.log1p(change) if change > -1 else -math.inf
    return -grown if METRICS[metric].better == "lower" else grown


def d_interval(comp: Comparison) -> tuple[float, float]:
    ends = sorted((to_d(comp.metric, comp.ci_low), to_d(comp.metric, comp.ci_high)))
    return ends[0], ends[1]


def threshold(metric: str, improvement: float) -> float:
    """The d that corresponds to an improvement of `improvement` (negative: a regression)."""
    if metric in ABSOLUTE:
        return improvement
    if METRICS[metric].better == "lower":
        return -math.log1p(-improvement) if improvement < 1 else math.inf
    return math.log1p(improvement)
