"""Before and after a merge, in production (pure): the windows to query, the paired comparison
with the judge's statistics, and the decision to propose a revert.

Samples are paired by their offset from their window's start, so with windows of whole days the
pairs are the same times of day. Each pair gives d, positive = better, exactly as in the judge:
a log ratio for positive metrics, the plain difference for the error rate. The exact one-sided
Wilcoxon test and the Hodges–Lehmann estimate with its confidence interval come from mutbot.stats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mutbot.config import Production
from mutbot.metric_math import ABSOLUTE, to_change
from mutbot.metrics import METRICS
from mutbot.stats import p_better, paired_test

DAY = 86_400.0
Status = Literal["no data", "regressed", "under-delivered", "fine"]
Sample = tuple[float, float]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    step: float

    def offset(self, at: float) -> int:
        return round((at - self.start) / self.step)


@dataclass(frozen=True)
class Limits:
    error_rate_limit: float  # an error rate above this after the merge (absolute): regressed
    min_realised: float  # realised / predicted improvement below this: under-delivered
    alpha: float = 0.05  # "significantly worse": one-sided p at or below this
    min_pairs: int = 6  # fewer pairs than this: "no data" (1/2^6 is the smallest p of 6 pairs)

    @classmethod
    def of(cls, production: Production, alpha: float) -> Limits:
        return cls(production.error_rate_limit, production.min_realised, alpha)


@dataclass(frozen=True)
class Verdict:
    """One metric before and after a merge; the numbers are NaN when there is no data."""

    metric: str
    status: Status
    reason: str
    pairs: int
    before: float  # median of the paired samples before the merge
    after: float  # median of the paired samples after it
    change: float  # Hodges–Lehmann relative change, after against before (error rate: absolute)
    ci_low: float  # two-sided (1 - alpha) confidence interval of `change`
    ci_high: float
    p: float  # one-sided exact Wilcoxon signed-rank p that the metric got worse
    predicted: float | None  # the sandbox's change, in the same terms as `change`


def windows(merged_at: float, now: float, production: Production) -> tuple[Window, Window] | None:
    """The before and after windows, or None while the after window has not ended.

    After: [merged_at + settle, + window]. Before: [merged_at - window, merged_at], moved earlier
    when the window is a day or longer so that the two starts are whole days apart (the pairs
    then share their hours of day even with a settle time)."""
    window, step = production.window, production.step
    after = Window(merged_at + production.settle, merged_at + production.settle + window, step)
    if after.end > now:
        return None
    gap = window + production.settle
    if window >= DAY:
        gap = math.ceil(gap / DAY - 1e-9) * DAY
    before = Window(after.start - gap, after.start - gap + window, step)
    return before, after


def compare_windows(
    before: Sequence[Sample],
    after: Sequence[Sample],
    *,
    metric: str,
    predicted_change: float | None,
    limits: Limits,
    span: tuple[Window, Window],
) -> Verdict:
    """One metric's verdict; `span` is the (before, after) windows the samples were queried for."""
    base, cand = _paired(before, after, span)
    d = _deltas(metric, base, cand)
    keep = np.isfinite(d)
    base, cand, d = base[keep], cand[keep], d[keep]
    if len(d) < limits.min_pairs:
        reason = (
            f"{METRICS[metric].label}: {len(d)} usable pairs ({len(before)} samples before, "
            f"{len(after)} after), at least {limits.min_pairs} needed"
        )
        return replace(no_data(metric, reason, predicted_change), pairs=len(d))
    test = paired_test(d, limits.alpha)
    ci = sorted((to_change(metric, test.low), to_change(metric, test.high)))
    measured = Verdict(
        metric=metric,
        status="fine",
        reason="",
        pairs=len(d),
        before=float(np.median(base)),
        after=float(np.median(cand)),
        change=to_change(metric, test.estimate),
        ci_low=ci[0],
        ci_high=ci[1],
        p=p_better(-d),
        predicted=predicted_change,
    )
    status, reason = _judge(measured, limits)
    return replace(measured, status=status, reason=reason)


def decide(verdicts: Sequence[Verdict], primary: str | None = None) -> tuple[bool, str]:
    """Revert when any metric regressed or the primary under-delivered (only metrics with a
    prediction can; without `primary`, any of them). "No data" is never fine, and never a reason
    to revert."""
    bad = [
        v
        for v in verdicts
        if v.status == "regressed"
        or (v.status == "under-delivered" and primary in (None, v.metric))
    ]
    if bad:
        return True, "; ".join(v.reason for v in bad)
    missing = [v for v in verdicts if v.status == "no data"]
    if not verdicts or len(missing) == len(verdicts):
        return False, "no data: " + ("; ".join(v.reason for v in missing) or "no metrics queried")
    reason = "; ".join(v.reason for v in verdicts if v.status != "no data")
    if missing:
        reason += "; no data for " + ", ".join(v.metric for v in missing)
    return False, reason


def improvement(metric: str, change: float) -> float:
    """A change in the metric's own direction: positive = better (error rate: absolute)."""
    if metric in ABSOLUTE or METRICS[metric].better == "lower":
        return -change
    return change


def _paired(
    before: Sequence[Sample], after: Sequence[Sample], span: tuple[Window, Window]
) -> tuple[Floats, Floats]:
    first = {span[0].offset(at): value for at, value in before}
    second = {span[1].offset(at): value for at, value in after}
    common = sorted(set(first) & set(second))
    return (
        np.array([first[k] for k in common], dtype=float),
        np.array([second[k] for k in common], dtype=float),
    )


def _deltas(metric: str, base: Floats, cand: Floats) -> Floats:
    """As mutbot.judge.deltas: a zero or negative value has no log ratio and drops out."""
    if metric in ABSOLUTE:
        return np.asarray(base - cand, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(base / cand)
    d[(base <= 0) | (cand <= 0)] = math.nan
    return np.asarray(d if METRICS[metric].better == "lower" else -d, dtype=np.float64)


def _judge(v: Verdict, limits: Limits) -> tuple[Status, str]:
    metric, label = v.metric, METRICS[v.metric].label
    measured = f"{_show(metric, v.change)} [{_show(metric, v.ci_low)}, {_show(metric, v.ci_high)}]"
    if metric in ABSOLUTE:
        limit = limits.error_rate_limit
        # a rate that rises above the limit; one already above it before is not this merge's doing
        if v.after > limit and (v.before <= limit or v.p <= limits.alpha):
            return "regressed", (
                f"{label} {v.after:.2%} after the merge, above the {limit:.2%} limit "
                f"(before: {v.before:.2%}; change {measured})"
            )
    elif v.p <= limits.alpha and improvement(metric, v.change) < 0:
        return "regressed", f"{label} significantly worse: {measured}, p = {v.p:.2g}"
    wanted = 0.0 if v.predicted is None else improvement(metric, v.predicted)
    if wanted > 0 and improvement(metric, v.change) < limits.min_realised * wanted:
        return "under-delivered", (
            f"{label} changed {measured}, predicted {_show(metric, v.predicted or 0.0)}: the "
            f"estimate is under {limits.min_realised:.0%} of the predicted improvement"
        )
    return "fine", f"{label} changed {measured} over {v.pairs} pairs"


def no_data(metric: str, reason: str, predicted: float | None = None) -> Verdict:
    """A metric that could not be compared (too few samples, Prometheus unreachable): never fine."""
    nan = math.nan
    return Verdict(metric, "no data", reason, 0, nan, nan, nan, nan, nan, nan, predicted)


def _show(metric: str, change: float) -> str:
    if metric in ABSOLUTE:
        return f"{change * 100:+.2f} points"
    return f"{change:+.1%}"
