"""Guardrails judged by statistics (pure). A guardrail convicts only when the confirmation block
shows the regression beyond its limit with confidence (one-sided exact Wilcoxon at alpha); it is
cleared when the regression's one-sided upper bound at `clear_alpha` lies inside the limit; in
between it is undecided, and the verdict says so. Memory is judged by the headroom left under
the limit (a peak above the ceiling is a measured fact, not an estimate)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from mutbot.metric_math import ABSOLUTE, deltas, threshold, to_change
from mutbot.metrics import METRICS
from mutbot.results import GuardrailCheck, Pair
from mutbot.stats import p_better, paired_test

MEMORY = "memory_peak_mb"
Status = Literal["convicted", "cleared", "undecided"]


def _worse(metric: str, change: float) -> float:
    """A change as a regression: + = worse (error rate: absolute)."""
    if metric in ABSOLUTE or METRICS[metric].better == "lower":
        return change
    return -change


def _say(metric: str, worse: float) -> str:
    text = f"{worse * 100:+.2f} pp" if metric in ABSOLUTE else f"{worse * 100:+.1f}%"
    return "±" + text[1:] if text[1:].strip("0.%p ") == "" else text  # no "-0.0%"


def check(
    pairs: list[Pair], metric: str, limit: float, alpha: float, clear_alpha: float
) -> GuardrailCheck | None:
    """One guardrail on the confirmation block; None when the metric is not measured in every
    pair (nothing to judge)."""
    if not pairs or any(
        metric not in p.baseline.metrics or metric not in p.candidate.metrics for p in pairs
    ):
        return None
    d = deltas(pairs, metric)
    if not np.all(np.isfinite(d)):
        return None
    if METRICS[metric].exact:
        return _exact(metric, limit, float(np.median(d)))
    at_limit = threshold(metric, -limit)  # the d of a regression of exactly `limit`
    p_convict = p_better(at_limit - d)  # H1: median d below it, i.e. worse than the limit
    p_clear = p_better(d - at_limit)  # H1: median d above it, i.e. within the limit
    bound = paired_test(d, 2 * clear_alpha)  # its low end: the one-sided (1 - clear_alpha) bound
    estimate = _worse(metric, to_change(metric, bound.estimate))
    bounded = _worse(metric, to_change(metric, bound.low))
    # too few pairs for the bound's level: no bound at all (None; results.json never holds an
    # infinity, which its reader refuses)
    worst = bounded if math.isfinite(bounded) else None
    label = METRICS[metric].label
    status: Status
    if p_convict <= alpha:
        status = "convicted"
        text = (
            f"{label} worse by {_say(metric, estimate)} (p = {p_convict:.2g} that it is within "
            f"the limit of {_say(metric, limit)})"
        )
    elif p_clear <= clear_alpha:
        status = "cleared"
        text = (
            f"{label} {_say(metric, estimate)}, at worst {_say(metric, bounded)} "
            f"({1 - clear_alpha:.0%} bound; limit {_say(metric, limit)})"
        )
    else:
        status = "undecided"
        up_to = f"up to {_say(metric, worst)}" if worst is not None else "of any size"
        text = (
            f"{label} {_say(metric, estimate)}: a regression {up_to} is not "
            f"excluded ({1 - clear_alpha:.0%} bound) nor shown beyond the limit of "
            f"{_say(metric, limit)}"
        )
    return GuardrailCheck(
        metric=metric,
        limit=limit,
        status=status,
        estimate=estimate,
        worst=worst,
        p_convict=p_convict,
        p_clear=p_clear,
        text=text,
    )


def _exact(metric: str, limit: float, d: float) -> GuardrailCheck:
    """An exact metric (the image's size) is over its limit or not: nothing to estimate."""
    worse = _worse(metric, to_change(metric, d))
    over = worse > limit
    label = METRICS[metric].label
    verb = "beyond" if over else "within"
    return GuardrailCheck(
        metric=metric,
        limit=limit,
        status="convicted" if over else "cleared",
        estimate=worse,
        worst=worse,
        p_convict=0.0 if over else 1.0,
        p_clear=1.0 if over else 0.0,
        text=f"{label} {_say(metric, worse)} (exact), {verb} the limit of {_say(metric, limit)}",
    )


def check_all(
    pairs: list[Pair], guardrails: dict[str, float], alpha: float, clear_alpha: float
) -> list[GuardrailCheck]:
    found = (check(pairs, m, limit, alpha, clear_alpha) for m, limit in guardrails.items())
    return [c for c in found if c is not None]


@dataclass(frozen=True)
class Headroom:
    """Memory judged by what is left under the limit: more workers always use more memory, and
    that is fine while the peak stays well inside the limit."""

    limit_mb: float  # the candidate side's memory limit
    share: float  # of it, the most a candidate's peak may reach
    baseline_mb: float | None = None  # the baseline side's, when the candidate has its own

    @property
    def ceiling_mb(self) -> float:
        return self.limit_mb * self.share

    def own(self, limit_mb: float | None) -> Headroom:
        """For a candidate whose trials ran with its own memory limit (None: the config's)."""
        if limit_mb is None or limit_mb == self.limit_mb:
            return self
        return replace(self, limit_mb=limit_mb, baseline_mb=self.limit_mb)


def memory_peaks(pairs: list[Pair]) -> tuple[float, float]:
    """The highest peak memory (MiB) of each side's trials, baseline and candidate: what the
    limit has to hold. NaN for a side where it was not measured."""
    return (
        _highest([p.baseline.metrics.get(MEMORY, math.nan) for p in pairs]),
        _highest([p.candidate.metrics.get(MEMORY, math.nan) for p in pairs]),
    )


def _highest(values: list[float]) -> float:
    return max((v for v in values if not math.isnan(v)), default=math.nan)


def memory_veto(pairs: list[Pair], headroom: Headroom | None) -> str | None:
    """A candidate whose peak passes the ceiling, unless the baseline peaked as high already
    (a service above the ceiling is held to its own peak; with its own limit, a candidate must
    also use no more of it than the baseline used of its). An OOM kill fails the load stage."""
    if headroom is None:
        return None
    base, cand = memory_peaks(pairs)
    base_limit = headroom.baseline_mb or headroom.limit_mb
    held = cand <= base and cand / headroom.limit_mb <= base / base_limit
    if math.isnan(cand) or cand <= headroom.ceiling_mb or held:
        return None
    whose = "its own" if headroom.baseline_mb is not None else "the"
    return (
        f"peak memory {cand:.0f} MiB, above {headroom.share:.0%} of {whose} "
        f"{headroom.limit_mb:.0f} MiB limit ({headroom.ceiling_mb:.0f} MiB)"
    )
