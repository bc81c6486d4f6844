"""The numbers behind the pictures (pure): every candidate's estimate of the primary's change
with its interval, and each candidate's confirmation pairs. The run summary's text chart, the
files `mutbot run` draws and the page `mutbot report` renders all read them from here, so the
pictures cannot disagree with each other or with results.json."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from mutbot.judge import compare
from mutbot.metric_math import ABSOLUTE, threshold, to_change
from mutbot.metrics import METRICS, Direction
from mutbot.results import CandidateResult, Comparison, RunResult

Source = Literal["confirmed", "screening"]
_ORDER = {"propose": 0, "needs-review": 1, "inconclusive": 2, "reject": 3}


@dataclass(frozen=True)
class Estimate:
    """One candidate's change in the primary, in the metric's own direction (−39% = lower; the
    error rate: absolute). `source` None: nothing was measured, `note` says why."""

    slug: str
    title: str
    verdict: str
    source: Source | None
    change: float
    low: float  # the interval's ends, low <= high; NaN: no interval, ±inf: unbounded
    high: float
    pairs: int
    note: str


@dataclass(frozen=True)
class Forest:
    """Every candidate's estimate, in the ranking's order, and what to read them against."""

    metric: str
    label: str
    better: Direction
    level: float  # of the intervals, e.g. 0.99
    band: float | None  # the change an improvement had to reach (judge's minimum effect)
    rows: list[Estimate]


@dataclass(frozen=True)
class PairPoint:
    number: int  # 1-based, as the PR's tables count pairs
    baseline: float
    candidate: float


def left_out(cand: CandidateResult) -> bool:
    """Rejected but not for good: screening left it out (measured again next run)."""
    return cand.verdict == "reject" and not cand.final


def ordered(run: RunResult) -> list[CandidateResult]:
    """Proposed best first, then needs review, inconclusive, left out by screening (undecided)
    and rejected, as the terminal ranks them; run order within."""
    rank = {slug: i for i, slug in enumerate(run.ranking)}
    return sorted(
        run.candidates,
        key=lambda c: (
            2.5 if left_out(c) else _ORDER.get(c.verdict, 4),
            rank.get(c.slug, len(rank)),
        ),
    )


def primary_of(run: RunResult) -> str | None:
    """The run's primary metric, when it is one mutbot knows (results.json may be edited)."""
    primary = run.objective.get("primary")
    return primary if isinstance(primary, str) and primary in METRICS else None


def alpha_of(run: RunResult) -> float:
    alpha = run.judge.get("alpha")
    if isinstance(alpha, int | float) and not isinstance(alpha, bool) and 0 < alpha < 1:
        return float(alpha)
    return 0.01


def forest(run: RunResult) -> Forest | None:
    """None when the run's primary is no metric mutbot knows."""
    metric = primary_of(run)
    if metric is None:
        return None
    alpha = alpha_of(run)
    info = METRICS[metric]
    rows = [_estimate(c, metric, alpha) for c in ordered(run)]
    return Forest(metric, info.label, info.better, 1 - alpha, _band(run, metric), rows)


def pair_points(candidate: CandidateResult, metric: str) -> list[PairPoint]:
    """The confirmation pairs' figures for `metric` (NaN where a trial lacks it)."""
    return [
        PairPoint(
            p.index + 1,
            p.baseline.metrics.get(metric, math.nan),
            p.candidate.metrics.get(metric, math.nan),
        )
        for p in candidate.pairs
    ]


def _estimate(cand: CandidateResult, metric: str, alpha: float) -> Estimate:
    comp, source = cand.comparisons.get(metric), "confirmed"
    if comp is None or not cand.pairs:
        comp, source = _screened(cand, metric, alpha), "screening"
    if comp is None or not math.isfinite(comp.change):
        why = f"{cand.stage}: {cand.reason}" if cand.stage else cand.reason or "not measured"
        return Estimate(
            cand.slug, cand.title, cand.verdict, None, math.nan, math.nan, math.nan, 0, why
        )
    low, high = sorted((comp.ci_low, comp.ci_high))
    kind: Source = "confirmed" if source == "confirmed" else "screening"
    note = ""
    if not _bounded(metric, low, high):  # a few screening pairs: no interval at this level
        low = high = math.nan
        note = f"{comp.pairs} pairs: too few for an interval at this level"
    return Estimate(
        cand.slug, cand.title, cand.verdict, kind, comp.change, low, high, comp.pairs, note
    )


def _bounded(metric: str, low: float, high: float) -> bool:
    """Both ends finite, and (a ratio) not at -100%, where an unbounded log ratio lands."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return False
    return metric in ABSOLUTE or low > -1.0


def _screened(cand: CandidateResult, metric: str, alpha: float) -> Comparison | None:
    pairs = cand.screening
    if not pairs or not all(
        metric in p.baseline.metrics and metric in p.candidate.metrics for p in pairs
    ):
        return None
    return compare(pairs, metric, alpha)


def _band(run: RunResult, metric: str) -> float | None:
    """The minimum effect as a change of the metric: what the confirmed were judged by (the
    noise may have raised it above judge.min_effect), else the configured one."""
    judged = [c.judgement.min_effect for c in run.candidates if c.judgement]
    configured = run.judge.get("min_effect")
    if judged:
        effect = max(judged)
    elif isinstance(configured, int | float) and not isinstance(configured, bool):
        effect = float(configured)
    else:
        return None
    if not 0 < effect < 1 or not math.isfinite(effect):
        return None
    return to_change(metric, threshold(metric, effect))


def extent(forest: Forest) -> tuple[float, float]:
    """The axis of a forest plot: zero, the minimum effect and every estimate are on it; an
    interval reaches at most one such span beyond them (a huge or unbounded one is cut there,
    and the picture marks its cut end)."""
    core = [0.0, *([forest.band] if forest.band is not None else [])]
    core += [r.change for r in forest.rows if r.source is not None and math.isfinite(r.change)]
    ends = [x for r in forest.rows for x in (r.low, r.high) if math.isfinite(x)]
    low, high = min(core), max(core)
    span = high - low if high - low > 1e-6 else (0.01 if forest.metric in ABSOLUTE else 0.1)
    low = max(min([low, *ends]), low - span)
    high = min(max([high, *ends]), high + span)
    if high - low < span:  # every figure (about) the same: an axis around it
        low, high = low - span / 2, high + span / 2
    margin = (high - low) * 0.04
    if not math.isfinite(high - low + margin):  # values near the float limits: a hand edit
        return -1.0, 1.0
    return low - margin, high + margin
