"""How much identical sides disagree, and what follows (pure): a spread one bad pair cannot
inflate, the smallest effect the noise lets a block resolve, transient trials, and how many pairs
would settle an undecided comparison."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z_95 = 1.959963984540054  # two standard errors: 95% of identical blocks land inside


def robust_spread(d: Sequence[float]) -> float:
    """Standard deviation of d estimated from its median absolute deviation (scaled to agree
    with the sd for normal data): one transient pair moves it little. Fewer than three finite
    values: the plain sd (two) or NaN."""
    values = np.asarray([x for x in d if math.isfinite(x)], dtype=float)
    if len(values) < 2:
        return math.nan
    if len(values) == 2:
        return float(np.std(values, ddof=1))
    return float(stats.median_abs_deviation(values, scale="normal"))


def plain_spread(d: Sequence[float]) -> float:
    values = np.asarray([x for x in d if math.isfinite(x)], dtype=float)
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def noise_floor(spread: float, pairs: int) -> float:
    """The smallest effect (d units) a block of `pairs` pairs can tell from identical sides:
    two standard errors of the mean d of identical pairs whose spread is `spread`."""
    if not math.isfinite(spread) or pairs < 1:
        return math.nan
    return Z_95 * spread / math.sqrt(pairs)


@dataclass(frozen=True)
class Transient:
    """A trial far off the run's recent baseline trials: the machine, not the service."""

    value: float
    reference: float  # median of the recent baseline trials
    ratio: float  # value / reference
    limit: float  # the ratio (or its inverse) beyond which a trial is a transient


TRANSIENT_SPREADS = 4.0  # robust sds of ln(value) away from the recent median
TRANSIENT_MIN = math.log(1.5)  # never flag less than 1.5x either way: drift is not a transient
TRANSIENT_REFERENCE = 8  # recent baseline trials the reference is drawn from
TRANSIENT_MIN_REFERENCE = 4  # fewer: no reference yet, nothing is flagged


def transient(value: float, recent: Sequence[float]) -> Transient | None:
    """`value` (a baseline-side trial's primary metric) against the latest baseline trials of
    the run: flagged when its log is beyond TRANSIENT_SPREADS robust sds and 1.5x from their
    median. A recent window, so a slow change of the machine's speed moves the reference too."""
    window = [v for v in recent if math.isfinite(v) and v > 0][-TRANSIENT_REFERENCE:]
    if len(window) < TRANSIENT_MIN_REFERENCE or not (math.isfinite(value) and value > 0):
        return None
    logs = np.log(np.asarray(window, dtype=float))
    centre = float(np.median(logs))
    sd = float(stats.median_abs_deviation(logs, scale="normal"))
    limit = max(TRANSIENT_SPREADS * sd, TRANSIENT_MIN)
    if abs(math.log(value) - centre) <= limit:
        return None
    reference = math.exp(centre)
    return Transient(
        value=value, reference=reference, ratio=value / reference, limit=math.exp(limit)
    )


def pairs_to_settle(spread: float, margin: float, current: int, most: int = 200) -> int | None:
    """Pairs after which a 99% interval of half-width ~2.6 spread / sqrt(n) would fit inside
    `margin` (d units): what would settle an undecided comparison. None: no sensible count does
    (no margin, no spread, or more than `most`)."""
    if not (math.isfinite(spread) and math.isfinite(margin)) or margin <= 0 or spread <= 0:
        return None
    needed = math.ceil((2.576 * spread / margin) ** 2)
    needed = max(needed, current + 2)
    return needed if needed <= most else None
