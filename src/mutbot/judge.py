"""The statistical judge (pure): paired tests on the primary metric, guardrails judged by
statistics (mutbot.guardrails), the minimum effect the noise supports, and the verdicts: propose,
needs-review (the gates), inconclusive (the run could not decide: measured again later) and
reject (a measured failure or a confident answer)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mutbot.config import Judge
from mutbot.guardrails import Headroom, check_all, memory_veto
from mutbot.metric_math import d_interval, deltas, threshold, to_change, to_d
from mutbot.metrics import METRICS, median
from mutbot.noise_rules import noise_floor, pairs_to_settle, plain_spread, robust_spread
from mutbot.results import Comparison, Finding, Gate, GuardrailCheck, Judgement, Pair, Verdict
from mutbot.risk import Assessment
from mutbot.stats import paired_test


@dataclass(frozen=True)
class Settings:
    primary: str
    alpha: float
    min_effect: float  # fraction of improvement the CI's lower bound must clear
    guardrails: dict[str, float]  # metric -> allowed regression (fraction; absolute for ABSOLUTE)
    gates: dict[str, float]  # confidence (minimum), risk and complexity (exclusive maxima)
    headroom: Headroom | None = None  # None: no memory ceiling
    clear_alpha: float = 0.10  # a guardrail is cleared by its one-sided bound at this level


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
        clear_alpha=rules.guardrail_alpha,
    )


@dataclass(frozen=True)
class Outcome:
    """A verdict; the judgement is None when a stage before the judge rejected the candidate.
    `final`: the ledger keeps it for good (results.is_final)."""

    verdict: Verdict
    stage: str | None
    reason: str
    judgement: Judgement | None = None
    final: bool = True


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
    if METRICS[metric].exact:
        return _exact(pairs, metric, base, cand, float(np.median(d)))
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


def _exact(pairs: list[Pair], metric: str, base: float, cand: float, d: float) -> Comparison:
    """A property of the built image, the same in every trial of a side: the change is what it
    is, its interval a point, and p is 0 when it is better, 1 when it is not (no sampling)."""
    change = to_change(metric, d)
    return Comparison(
        metric=metric,
        pairs=len(pairs),
        baseline=base,
        candidate=cand,
        change=change,
        ci_low=change,
        ci_high=change,
        p_value=0.0 if d > 0 else 1.0,
        pairs_better=len(pairs) if d > 0 else 0,
    )


def compare_all(pairs: list[Pair], alpha: float) -> dict[str, Comparison]:
    names = [
        name
        for name in METRICS
        if pairs and all(name in p.baseline.metrics and name in p.candidate.metrics for p in pairs)
    ]
    return {name: compare(pairs, name, alpha) for name in names}


def noise_spread(pairs: list[Pair], metric: str) -> float:
    """How far identical pairs disagree: the robust sd of d over A/A pairs (one transient pair
    cannot set it)."""
    return robust_spread([float(x) for x in deltas(pairs, metric)])


@dataclass(frozen=True)
class Floor:
    """The improvement (d units) the CI's near end must clear, and where it came from."""

    d: float
    source: str
    noise: float | None  # the part the noise sets (d units), None without an A/A estimate


def effect_floor(settings: Settings, spread: float | None, pairs: int) -> Floor:
    """judge.min_effect, or the smallest effect this run's noise lets `pairs` pairs resolve
    (two standard errors of identical pairs), whichever is larger: never more than the noise
    supports, never less than the maintainer asked for."""
    configured = threshold(settings.primary, settings.min_effect)
    noise = noise_floor(spread, pairs) if spread is not None else math.nan
    if math.isnan(noise):
        return Floor(configured, "judge.min_effect", None)
    if noise > configured:
        source = (
            f"the noise: 1.96 x A/A spread {spread:.3f} / sqrt({pairs} pairs), "
            "above judge.min_effect"
        )
        return Floor(noise, source, noise)
    return Floor(configured, "judge.min_effect", noise)


def screen(pairs: list[Pair], settings: Settings) -> tuple[float, str]:
    """Screening only ranks (estimated d of the primary, the reason); it never vetoes on a
    point estimate. ValueError when the primary could not be measured at all."""
    comp = compare(pairs, settings.primary, settings.alpha)
    if math.isnan(comp.change):
        raise ValueError(f"{METRICS[settings.primary].label} could not be measured")
    return to_d(settings.primary, comp.change), f"screening estimate {comp.change:+.1%}"


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
    comparisons: dict[str, Comparison] | None = None,
) -> Outcome:
    """`comparisons`: the pairs' comparisons when the caller has them (computed once a run)."""
    comparisons = comparisons or compare_all(pairs, settings.alpha)
    comp = comparisons[settings.primary]
    floor = effect_floor(settings, spread, len(pairs))
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
    checks = check_all(pairs, settings.guardrails, settings.alpha, settings.clear_alpha)
    convicted = [c.text for c in checks if c.status == "convicted"]
    memory = memory_veto(pairs, settings.headroom)
    judgement = Judgement(
        primary=settings.primary,
        alpha=settings.alpha,
        p_value=comp.p_value,
        p_adjusted=p_adjusted,
        confidence=confidence,
        min_effect=abs(to_change(settings.primary, floor.d)),
        min_effect_source=floor.source,
        vetoes=[*convicted, memory] if memory else convicted,
        risk=risk[0],
        risk_findings=risk[1],
        complexity=complexity[0],
        complexity_findings=complexity[1],
        gates=gates,
        guardrails=checks,
        noise_floor=abs(to_change(settings.primary, floor.noise)) if floor.noise else None,
    )
    return _verdict(pairs, comp, settings, p_adjusted, floor, judgement, spread)


def _verdict(
    pairs: list[Pair],
    comp: Comparison,
    settings: Settings,
    p_adjusted: float,
    floor: Floor,
    judgement: Judgement,
    spread: float | None,
) -> Outcome:
    label = METRICS[settings.primary].label
    if math.isnan(comp.change):
        reason = f"{label} could not be measured in every pair"
        return Outcome("reject", "decide", reason, judgement)
    if judgement.vetoes:
        return Outcome("reject", "guardrail", "; ".join(judgement.vetoes), judgement)
    summary = (
        f"{label} {comp.change:+.1%} (exact)"
        if METRICS[settings.primary].exact
        else f"{label} {comp.change:+.1%} (CI {comp.ci_low:+.1%}…{comp.ci_high:+.1%}), "
        f"p = {p_adjusted:.3g}"
    )
    need = f"{judgement.min_effect:.1%} ({judgement.min_effect_source})"
    low, high = d_interval(comp)
    undecided: list[str] = []
    if p_adjusted > settings.alpha or low <= floor.d:
        if high < threshold(settings.primary, settings.min_effect):
            # even the CI's best end falls short of what the maintainer asked: a confident no
            # (short of a floor the noise raised is no answer: the run was too noisy)
            asked = f"{settings.min_effect:.1%} (judge.min_effect)"
            if p_adjusted > settings.alpha:
                reason = f"not better by the minimum effect: {summary}; it must clear {asked}"
            else:
                reason = f"better, but by less than the minimum effect: {summary}; needs {asked}"
            return Outcome("reject", "decide", reason, judgement)
        if p_adjusted > settings.alpha:
            undecided.append(f"not shown better: {summary} > alpha {settings.alpha:g}")
        else:
            undecided.append(f"better ({summary}), but not shown to clear {need}")
    open_guards = [c for c in judgement.guardrails if c.status == "undecided"]
    undecided += [f"guardrail undecided: {c.text}" for c in open_guards]
    if undecided:
        settle = _settle(pairs, comp, settings, floor, open_guards, spread)
        stage = "decide" if not open_guards or len(undecided) > len(open_guards) else "guardrail"
        reason = "; ".join(undecided) + f". To settle it: {settle}"
        judgement = judgement.model_copy(update={"settle": settle})
        return Outcome("inconclusive", stage, reason, judgement, final=False)
    failed = [g for g in judgement.gates if not g.ok]
    if failed:
        why = ", ".join(f"{g.name} {g.value:.2f} (limit {g.limit:g})" for g in failed)
        reason = f"measured better ({summary}) but needs review: {why}"
        return Outcome("needs-review", "gates", reason, judgement)
    return Outcome("propose", None, f"better: {summary}", judgement)


def _settle(
    pairs: list[Pair],
    comp: Comparison,
    settings: Settings,
    floor: Floor,
    guards: list[GuardrailCheck],
    spread: float | None,
) -> str:
    """What would settle an undecided verdict: the pairs after which the interval would be
    narrow enough, judged from the spread of this candidate's own pairs."""
    needs: list[int] = []
    questions = [(settings.primary, to_d(settings.primary, comp.change), floor.d)]
    questions += [
        (
            g.metric,
            to_d(g.metric, -g.estimate if _higher(g.metric) else g.estimate),
            threshold(g.metric, -g.limit),
        )
        for g in guards
    ]
    hopeless = False
    for metric, estimate, line in questions:
        d = [float(x) for x in deltas(pairs, metric)]
        own = robust_spread(d)
        own = own if own > 0 else plain_spread(d)
        n = pairs_to_settle(own, abs(estimate - line), len(pairs))
        if n is None:
            hopeless = True
        else:
            needs.append(n)
    low = d_interval(comp)[0]
    if spread is not None and floor.noise is not None and floor.noise >= floor.d and low > 0:
        # the noise floor shrinks with more pairs too: 1.96 spread / sqrt(n) below the CI's end
        needs.append(max(len(pairs) + 2, math.ceil((1.96 * spread / low) ** 2)))
    steps = []
    if spread is not None and floor.noise is not None and floor.noise >= floor.d:
        steps.append(f"rerun on a calmer machine (the A/A spread was {spread:.3f})")
    else:
        steps.append("rerun")
    hopeless = hopeless or (bool(needs) and max(needs) > 200)  # judge.pairs allows 200
    if needs and not hopeless:
        steps.append(f"raise judge.pairs to {max(needs)}")
    elif hopeless:
        steps.append(
            "more pairs would hardly settle it: the estimate sits at the line it must clear"
        )
    return ", or ".join(steps)


def _higher(metric: str) -> bool:
    return metric in METRICS and METRICS[metric].better == "higher"
