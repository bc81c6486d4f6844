from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from mutbot.guardrails import Headroom, memory_peaks, memory_veto
from mutbot.judge import compare, judge, noise_spread, screen
from mutbot.metric_math import deltas
from mutbot.results import Finding, Pair, Trial
from testing.records import SETTINGS, pairs

NO_RISK: tuple[float, list[Finding]] = (1.0, [])


def trial(side: str, latency: float, throughput: float = 50.0, errors: float = 0.0) -> Trial:
    metrics = {"latency_p95_ms": latency, "throughput_rps": throughput, "error_rate": errors}
    return Trial(
        side=side,
        started_at=0.0,
        healthy_seconds=1.0,
        metrics=metrics,  # type: ignore[arg-type]
        loadgen_cpu_fraction=0.1,
        errors={},
        raw="x",
    )


def noisy_pairs(
    rng: np.random.Generator, effect: float, n: int = 10, sigma: float = 0.3
) -> list[Pair]:
    """Lognormal pair-to-pair noise around a true ratio candidate/baseline = exp(-effect)."""
    out = []
    for i in range(n):
        base = 100.0 * math.exp(rng.normal(0, 0.5))  # slow drift between pairs
        cand = base * math.exp(-effect + rng.normal(0, sigma))
        out.append(
            Pair(
                index=i,
                order=("baseline", "candidate"),
                baseline=trial("baseline", base),
                candidate=trial("candidate", cand),
            )
        )
    return out


def run_judge(
    measured: list[Pair], spread: float | None = None, risk: float = 1.0, **overrides: object
) -> tuple[str, str | None, str]:
    settings = replace(SETTINGS, **overrides)  # type: ignore[arg-type]
    p = compare(measured, settings.primary, settings.alpha).p_value
    outcome = judge(measured, settings, p, spread, (risk, []), NO_RISK)
    return outcome.verdict, outcome.stage, outcome.reason


def test_no_effect_is_called_better_at_most_at_the_claimed_rate() -> None:
    rng = np.random.default_rng(11)
    runs = 200
    proposed = sum(run_judge(noisy_pairs(rng, 0.0))[0] == "propose" for _ in range(runs))
    assert proposed / runs <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / runs)


def test_a_clear_effect_is_called_better() -> None:
    rng = np.random.default_rng(12)
    verdicts = [run_judge(noisy_pairs(rng, 0.5, sigma=0.1))[0] for _ in range(20)]
    assert verdicts.count("propose") >= 19


def test_the_verdict_explains_itself() -> None:
    verdict, stage, reason = run_judge(pairs(0.81))
    assert (verdict, stage) == ("propose", None)
    assert reason == "better: p95 latency -19.0% (CI -20.6%…-17.4%), p = 0.000977"


def test_orientation_of_d() -> None:
    measured = pairs(0.5, n=2, throughput_factor=2.0)
    assert deltas(measured, "latency_p95_ms") == pytest.approx([math.log(2), math.log(2 / 1.02)])
    assert deltas(measured, "throughput_rps") == pytest.approx([math.log(2)] * 2)


def test_a_guardrail_shown_beyond_its_limit_convicts_whatever_the_primary_gain() -> None:
    verdict, stage, reason = run_judge(pairs(0.5, throughput_factor=0.8))
    assert (verdict, stage) == ("reject", "guardrail")
    assert reason == (
        "throughput worse by +20.0% (p = 0.00098 that it is within the limit of +10.0%); "
        "cost per million requests (measured use) worse by +25.0% (p = 0.00098 that it is "
        "within the limit of +10.0%)"
    )


def test_error_rate_is_guarded_in_percentage_points() -> None:
    measured = [
        p.model_copy(update={"candidate": trial("candidate", 50.0, errors=0.006)})
        for p in pairs(1.0)
    ]
    measured = [
        p.model_copy(update={"baseline": trial("baseline", 100.0, errors=0.001)}) for p in measured
    ]
    verdict, stage, reason = run_judge(measured)
    assert (verdict, stage, reason) == (
        "reject",
        "guardrail",
        "error rate worse by +0.50 pp (p = 0.00098 that it is within the limit of +0.10 pp)",
    )


def test_significant_but_surely_smaller_than_the_minimum_effect_is_a_final_no() -> None:
    verdict, stage, reason = run_judge(pairs(0.97))
    assert (verdict, stage) == ("reject", "decide")
    assert reason.startswith("better, but by less than the minimum effect: p95 latency -3.0%")
    assert reason.endswith("needs 5.0% (judge.min_effect)")


def test_a_ci_across_the_minimum_effect_is_inconclusive() -> None:
    measured = pairs(0.94)  # -6%: the CI runs from about -8% to -4%, across the 5% line
    outcome = judge(measured, SETTINGS, 0.001, None, NO_RISK, NO_RISK)
    assert (outcome.verdict, outcome.final) == ("inconclusive", False)
    assert "but not shown to clear 5.0% (judge.min_effect)" in outcome.reason
    assert outcome.judgement is not None and outcome.judgement.settle is not None


def test_the_noise_floor_is_what_the_noise_supports_and_no_more() -> None:
    """1.96 x spread / sqrt(pairs): an A/A spread of 0.2 over 10 pairs lets 11.7% through."""
    assert run_judge(pairs(0.75), spread=0.2)[0] == "propose"
    outcome = judge(pairs(0.75), SETTINGS, 0.001, 0.5, NO_RISK, NO_RISK)
    assert outcome.verdict == "inconclusive"  # short of a floor the noise raised: no answer
    assert "not shown to clear 26.6% (the noise: 1.96 x A/A spread 0.500 / sqrt(10 pairs)" in (
        outcome.reason
    )
    assert outcome.judgement is not None and outcome.judgement.settle == (
        "rerun on a calmer machine (the A/A spread was 0.500), or raise judge.pairs to 14"
    )
    assert run_judge(pairs(0.75), spread=0.01)[0] == "propose"


def test_not_significant_is_inconclusive_unless_the_ci_rules_the_effect_out() -> None:
    rng = np.random.default_rng(3)
    verdict, stage, reason = run_judge(noisy_pairs(rng, 0.0))
    assert (verdict, stage) == ("inconclusive", "decide")
    assert reason.startswith("not shown better: p95 latency")
    same = pairs(1.0)  # identical within 3%: a 5% gain is ruled out
    verdict, stage, reason = run_judge(same)
    assert (verdict, stage) == ("reject", "decide")
    assert reason.startswith("not better by the minimum effect: p95 latency")


def test_gates_hold_a_measured_winner_for_review() -> None:
    assert run_judge(pairs(0.5), risk=6.0)[:2] == ("needs-review", "gates")
    assert run_judge(pairs(0.5), risk=6.0)[2].endswith("needs review: risk 6.00 (limit 5)")
    weak = pairs(0.5)
    for k, worse in enumerate((1.01, 1.02, 1.03)):  # three pairs slightly worse: ranks 1, 2, 3
        latency = weak[k].baseline.metrics["latency_p95_ms"] * worse
        weak[k] = weak[k].model_copy(update={"candidate": trial("candidate", latency)})
    verdict, stage, reason = run_judge(weak, alpha=0.2)  # p = 14/1024: confidence 0.986
    assert verdict == "propose"
    gates = dict(SETTINGS.gates, confidence=0.99)
    verdict, stage, reason = run_judge(weak, alpha=0.2, gates=gates)
    assert (verdict, stage) == ("needs-review", "gates")
    assert "confidence 0.99 (limit 0.99)" in reason


def test_screening_only_ranks() -> None:
    estimate, reason = screen(pairs(0.8, n=3), SETTINGS)
    assert reason == "screening estimate -19.8%" and estimate > 0
    assert screen(pairs(1.1, n=3), SETTINGS)[1] == "screening estimate +10.3%"
    # a guardrail's point estimate from three pairs vetoes nothing
    assert screen(pairs(0.8, n=3, throughput_factor=0.5), SETTINGS)[1] == (
        "screening estimate -19.8%"
    )
    broken = [
        p.model_copy(update={"candidate": trial("candidate", float("nan"))})
        for p in pairs(0.8, n=3)
    ]
    with pytest.raises(ValueError, match="p95 latency could not be measured"):
        screen(broken, SETTINGS)


def test_a_metric_that_could_not_be_measured() -> None:
    broken = pairs(0.5)
    broken[3] = broken[3].model_copy(update={"candidate": trial("candidate", float("nan"))})
    assert run_judge(broken) == (
        "reject",
        "decide",
        "p95 latency could not be measured in every pair",
    )
    assert math.isnan(compare(broken, "latency_p95_ms", 0.01).change)


def test_the_noise_spread_is_robust_to_one_bad_pair() -> None:
    calm = pairs(1.0, n=4)
    d = np.log(1 / np.array([1.00, 1.02, 0.99, 1.01]))
    mad = float(np.median(np.abs(d - np.median(d)))) * 1.482602218505602
    assert noise_spread(calm, "latency_p95_ms") == pytest.approx(mad)
    poisoned = [*calm[:3], calm[3].model_copy(update={"candidate": trial("candidate", 300.0)})]
    assert noise_spread(poisoned, "latency_p95_ms") < 0.05  # the plain sd would be ~0.5


def test_d_and_change_round_trip_even_at_the_extremes() -> None:
    """Beyond |d| ~ 37 the change rounds to -100%; its d is then infinite, never an error."""
    from mutbot.metric_math import to_change, to_d

    assert to_d("latency_p95_ms", to_change("latency_p95_ms", 0.3)) == pytest.approx(0.3)
    assert to_d("latency_p95_ms", to_change("latency_p95_ms", 40.0)) == math.inf
    assert to_d("throughput_rps", to_change("throughput_rps", -40.0)) == -math.inf


def with_memory(measured: list[Pair], baseline_mb: float, candidate_mb: float) -> list[Pair]:
    """The pairs, each side peaking at this much memory (the last pair a little higher)."""
    out = []
    for i, pair in enumerate(measured):
        bump = 1.0 if i == len(measured) - 1 else 0.0
        sides = {}
        for side, mb in (("baseline", baseline_mb), ("candidate", candidate_mb)):
            trial_ = getattr(pair, side)
            metrics = {**trial_.metrics, "memory_peak_mb": mb - 1.0 + bump}
            sides[side] = trial_.model_copy(update={"metrics": metrics})
        out.append(pair.model_copy(update=sides))
    return out


HEADROOM = Headroom(limit_mb=512.0, share=0.8)


def test_memory_is_judged_by_the_headroom_left_under_the_limit() -> None:
    """Three workers double the memory, far inside the limit: no veto (the relative rule of
    10% used to veto the most common real improvement)."""
    doubled = with_memory(pairs(0.81), 81.0, 164.0)
    assert run_judge(doubled, headroom=HEADROOM)[0] == "propose"
    assert memory_peaks(doubled) == (81.0, 164.0)
    relative = {**SETTINGS.guardrails, "memory_peak_mb": 0.1}
    assert run_judge(doubled, guardrails=relative)[2] == (
        "peak memory worse by +103.7% (p = 0.00098 that it is within the limit of +10.0%)"
    )


def test_a_peak_above_the_ceiling_is_vetoed_with_the_figures() -> None:
    crowded = with_memory(pairs(0.81), 81.0, 450.0)
    assert run_judge(crowded, headroom=HEADROOM) == (
        "reject",
        "guardrail",
        "peak memory 450 MiB, above 80% of the 512 MiB limit (410 MiB)",
    )
    assert memory_veto(crowded, None) is None  # memory_ceiling: null


def test_a_baseline_above_the_ceiling_holds_the_candidate_to_its_own_peak() -> None:
    assert memory_veto(with_memory(pairs(0.81), 460.0, 455.0), HEADROOM) is None
    assert memory_veto(with_memory(pairs(0.81), 460.0, 470.0), HEADROOM) == (
        "peak memory 470 MiB, above 80% of the 512 MiB limit (410 MiB)"
    )


def test_memory_not_measured_is_no_veto() -> None:
    assert all(math.isnan(x) for x in memory_peaks(pairs(0.81)))
    assert memory_veto(pairs(0.81), HEADROOM) is None


def test_a_guardrail_bound_three_pairs_cannot_give_is_none_never_infinite() -> None:
    """A run with judge.pairs: 3 (alpha 0.253 allows it): the 90% bound needs more pairs. An
    infinity would make results.json unreadable (the reader refuses Infinity), and a NaN would
    not equal itself when results.json is read back."""
    from mutbot.guardrails import check
    from mutbot.untrusted import loads

    found = check(pairs(1.02, n=3), "latency_p95_ms", 0.1, 0.253, 0.1)
    assert found is not None and found.status == "undecided"
    assert found.worst is None and "a regression of any size" in found.text
    assert loads(found.model_dump_json())["worst"] is None  # plain JSON, read back as written
    assert type(found).model_validate_json(found.model_dump_json()) == found
