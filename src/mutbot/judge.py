"""The statistical judge (pure): paired tests on the primary metric, guardrail vetoes (relative
for what costs money or users' time, memory by the headroom left under the limit), the minimum
effect, and the gates that separate "propose" from "needs manual review"."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from mutbot.config import Judge
from mutbot.metrics import METRICS, median
from mutbot.results import Comparison, Finding, Gate, Judgement, Pair, Verdict
from mutbot.risk import Assessment
from mutbot.stats import paired_test

ABSOLUTE = frozenset({"error_rate"})  # compared by difference: a rate of 0 has no ratio
MEMORY = "memory_peak_mb"


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


@dataclass(frozen=True)
class Settings:
    primary: str
    alpha: float
    min_effect: float  # fraction of improvement the CI's lower bound must clear
    guardrails: dict[str, float]  # metric -> allowed regression (fraction; absolute for ABSOLUTE)
    gates: dict[str, float]  # confidence (minimum), risk and complexity (exclusive maxima)
    headroom: Headroom | None = None  # None: no memory ceiling


def settings_for(
    primary: str, rules: Judge, guardrails: dict[str, float], headroom: Headroom | None = None
) -> Settings:
    gates = rules.gates
    return Settings(
        primary=primary,
        alpha=rules.alpha,
        min_effect=rules.min_effect,
        guardrails=guardrails,
        gates={"confidence": gates.confidence, "risk": gates.risk, "complexity": gates.complexity},
        headroom=headroom,
    )


@dataclass(frozen=True)
class Outcome:
    """A verdict; the judgement is None when a stage before the judge rejected the candidate."""

    verdict: Verdict
    stage: str | None
    reason: str
    judgement: Judgement | None = None


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


def compare(pairs: list[Pair], metric: str, alpha: float) -> Comparison:
    d = deltas(pairs, metric)
    base = median([p.baseline.metrics[metric] for p in pairs])
    cand = median([p.candidate.metrics[metric] for p in pairs])
    nan = math.nan
    if len(d) == 0 or not np.all(np.isfinite(d)):
        return Comparison(
            metric=metric,
            pairs=len(pairs),
            baseline=base,
            candidate=cand,
            change=nan,
            ci_low=nan,
            ci_high=nan,
            p_value=nan,
            pairs_better=0,
        )
    test = paired_test(d, alpha)
    ends = sorted((to_change(metric, test.low), to_change(metric, test.high)))
    return Comparison(
        metric=metric,
        pairs=len(pairs),
        baseline=base,
        candidate=cand,
        change=to_change(metric, test.estimate),
        ci_low=ends[0],
        ci_high=ends[1],
        p_value=test.p_value,
        pairs_better=int(np.sum(d > 0)),
    )


def compare_all(pairs: list[Pair], alpha: float) -> dict[str, Comparison]:
    names = [
        name
        for name in METRICS
        if pairs and all(name in p.baseline.metrics and name in p.candidate.metrics for p in pairs)
    ]
    return {name: compare(pairs, name, alpha) for name in names}


def noise_spread(pairs: list[Pair], metric: str) -> float:
    """Standard deviation of d over an A/A block: how far identical pairs disagree."""
    d = deltas(pairs, metric)
    d = d[np.isfinite(d)]
    return float(np.std(d, ddof=1)) if len(d) > 1 else math.nan


def vetoes(comparisons: dict[str, Comparison], guardrails: dict[str, float]) -> list[str]:
    """Guardrail metrics whose estimated regression is beyond its limit."""
    found = []
    for metric, limit in guardrails.items():
        comp = comparisons.get(metric)
        if comp is None or math.isnan(comp.change):
            continue
        label = METRICS[metric].label
        if metric in ABSOLUTE:
            if comp.change > limit:
                found.append(f"{label} up {comp.change * 100:.2f} pp (limit +{limit * 100:.2f} pp)")
            continue
        worse = comp.change if METRICS[metric].better == "lower" else -comp.change
        if worse > limit:
            found.append(f"{label} worse by {worse:.0%} (limit {limit:.0%})")
    return found


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


def _broken(pairs: list[Pair], comparisons: dict[str, Comparison], settings: Settings) -> list[str]:
    found = vetoes(comparisons, settings.guardrails)
    memory = memory_veto(pairs, settings.headroom)
    return [*found, memory] if memory else found


def effect_floor(settings: Settings, spread: float | None) -> tuple[float, str]:
    """The minimum improvement, in d units, and where it came from."""
    configured = threshold(settings.primary, settings.min_effect)
    if spread is not None and not math.isnan(spread) and 2 * spread > configured:
        return 2 * spread, "twice the pair-to-pair spread of the A/A block"
    return configured, "judge.min_effect"


def screen(pairs: list[Pair], settings: Settings) -> tuple[bool, str, float]:
    """Worth confirming? (advance, reason, estimated d of the primary)."""
    comparisons = compare_all(pairs, settings.alpha)
    comp = comparisons[settings.primary]
    if math.isnan(comp.change):
        return False, f"{METRICS[settings.primary].label} could not be measured", -math.inf
    found = _broken(pairs, comparisons, settings)
    if found:
        return False, "guardrail in screening: " + "; ".join(found), -math.inf
    d = to_d(settings.primary, comp.change)
    if d <= 0:
        return False, f"no sign of improvement in screening ({comp.change:+.1%})", d
    return True, f"screening estimate {comp.change:+.1%}", d


def scored(assessment: Assessment | None) -> tuple[float, list[Finding]]:
    """A risk or complexity assessment as the judge and results.json record it."""
    if assessment is None:
        return 0.0, []
    found = [
        Finding(rule=f.rule, points=f.points, where=f.where, why=f.why) for f in assessment.findings
    ]
    return assessment.score, found


def judge(
    pairs: list[Pair],
    settings: Settings,
    p_adjusted: float,
    spread: float | None,
    risk: tuple[float, list[Finding]],
    complexity: tuple[float, list[Finding]],
) -> Outcome:
    comparisons = compare_all(pairs, settings.alpha)
    comp = comparisons[settings.primary]
    floor, source = effect_floor(settings, spread)
    confidence = 1 - p_adjusted if not math.isnan(p_adjusted) else 0.0
    gates = [
        Gate(
            name="confidence",
            value=confidence,
            limit=settings.gates["confidence"],
            ok=confidence >= settings.gates["confidence"],
        ),
        Gate(
            name="risk",
            value=risk[0],
            limit=settings.gates["risk"],
            ok=risk[0] < settings.gates["risk"],
        ),
        Gate(
            name="complexity",
            value=complexity[0],
            limit=settings.gates["complexity"],
            ok=complexity[0] < settings.gates["complexity"],
        ),
    ]
    found = _broken(pairs, comparisons, settings)
    judgement = Judgement(
        primary=settings.primary,
        alpha=settings.alpha,
        p_value=comp.p_value,
        p_adjusted=p_adjusted,
        confidence=confidence,
        min_effect=abs(to_change(settings.primary, floor)),
        min_effect_source=source,
        vetoes=found,
        risk=risk[0],
        risk_findings=risk[1],
        complexity=complexity[0],
        complexity_findings=complexity[1],
        gates=gates,
    )
    verdict, stage, reason = _verdict(comp, settings, p_adjusted, floor, judgement)
    return Outcome(verdict, stage, reason, judgement)


def _verdict(
    comp: Comparison, settings: Settings, p_adjusted: float, floor: float, judgement: Judgement
) -> tuple[Verdict, str | None, str]:
    label = METRICS[settings.primary].label
    if math.isnan(comp.change):
        return "reject", "decide", f"{label} could not be measured in every pair"
    if judgement.vetoes:
        return "reject", "guardrail", "; ".join(judgement.vetoes)
    summary = (
        f"{label} {comp.change:+.1%} (CI {comp.ci_low:+.1%}…{comp.ci_high:+.1%}), "
        f"p = {p_adjusted:.3g}"
    )
    if p_adjusted > settings.alpha:
        return "reject", "decide", f"not shown better: {summary} > alpha {settings.alpha:g}"
    if d_interval(comp)[0] <= floor:
        return (
            "reject",
            "decide",
            (
                f"better, but not by enough: {summary}; the CI must clear "
                f"{judgement.min_effect:.1%} ({judgement.min_effect_source})"
            ),
        )
    failed = [g for g in judgement.gates if not g.ok]
    if failed:
        why = ", ".join(f"{g.name} {g.value:.2f} (limit {g.limit:g})" for g in failed)
        return "needs-review", "gates", f"measured better ({summary}) but needs review: {why}"
    return "propose", None, f"better: {summary}"
