"""Tests for src/mutbot/decide.py: the 'better in every pair, no guardrail broken' rule."""

from __future__ import annotations

import pytest

from mutbot.decide import Decision, compare, compare_all, decide
from mutbot.results import Comparison, Pair, Side, Trial

GUARDRAILS = {"error_rate": 0.01}
DEFAULTS = {"latency_p95_ms": 100.0, "throughput_rps": 50.0, "error_rate": 0.0}


def trial(side: Side, metrics: dict[str, float]) -> Trial:
    return Trial(
        side=side,
        started_at=0.0,
        healthy_seconds=1.0,
        metrics=DEFAULTS | metrics,
        loadgen_cpu_fraction=0.1,
        errors={},
        raw=f"{side}.jsonl",
    )


def pairs(*candidates: dict[str, float], baseline: dict[str, float] | None = None) -> list[Pair]:
    """One pair per candidate metrics dict, each against the same baseline metrics."""
    return [
        Pair(
            index=i,
            order=("baseline", "candidate") if i % 2 == 0 else ("candidate", "baseline"),
            baseline=trial("baseline", baseline or {}),
            candidate=trial("candidate", metrics),
        )
        for i, metrics in enumerate(candidates)
    ]


def latencies(*values: float) -> list[Pair]:
    return pairs(*({"latency_p95_ms": v} for v in values))


def test_proposes_when_better_in_every_pair() -> None:
    decision = decide(latencies(80.0, 90.0, 85.0), "latency_p95_ms", GUARDRAILS)
    assert decision == Decision(
        "propose", None, "p95 latency better in all 3 pairs (median +15.0%)"
    )


def test_rejects_when_one_pair_is_worse() -> None:
    decision = decide(latencies(80.0, 105.0, 85.0), "latency_p95_ms", GUARDRAILS)
    assert decision == Decision(
        "reject", "decide", "p95 latency better in 2 of 3 pairs; the rule needs all"
    )


def test_a_tie_is_not_better() -> None:
    decision = decide(latencies(80.0, 100.0), "latency_p95_ms", GUARDRAILS)
    assert decision == Decision(
        "reject", "decide", "p95 latency better in 1 of 2 pairs; the rule needs all"
    )


def test_rejects_at_guardrail_when_any_pair_breaks_it() -> None:
    runs = pairs(
        {"latency_p95_ms": 50.0},
        {"latency_p95_ms": 50.0, "error_rate": 0.05},
        {"latency_p95_ms": 50.0},
    )
    decision = decide(runs, "latency_p95_ms", GUARDRAILS)
    assert decision == Decision(
        "reject", "guardrail", "error rate 0.05 beyond the guardrail 0.01 (pair 2)"
    )


def test_guardrail_is_checked_before_the_primary_metric() -> None:
    runs = pairs({"latency_p95_ms": 150.0, "error_rate": 0.5})
    decision = decide(runs, "latency_p95_ms", GUARDRAILS)
    assert (decision.stage, decision.reason) == (
        "guardrail",
        "error rate 0.5 beyond the guardrail 0.01 (pair 1)",
    )


def test_guardrail_limit_itself_is_allowed() -> None:
    runs = pairs({"latency_p95_ms": 90.0, "error_rate": 0.01})
    assert decide(runs, "latency_p95_ms", GUARDRAILS).verdict == "propose"


def test_guardrail_on_a_higher_is_better_metric() -> None:
    runs = pairs({"latency_p95_ms": 90.0, "throughput_rps": 30.0})
    decision = decide(runs, "latency_p95_ms", {"throughput_rps": 40.0})
    assert decision == Decision(
        "reject", "guardrail", "throughput 30 beyond the guardrail 40 (pair 1)"
    )
    runs = pairs({"latency_p95_ms": 90.0, "throughput_rps": 40.0})
    assert decide(runs, "latency_p95_ms", {"throughput_rps": 40.0}).verdict == "propose"


def test_no_guardrails() -> None:
    runs = pairs({"latency_p95_ms": 90.0, "error_rate": 0.9})
    assert decide(runs, "latency_p95_ms", {}).verdict == "propose"


def test_higher_is_better_primary() -> None:
    up = pairs({"throughput_rps": 60.0}, {"throughput_rps": 55.0}, {"throughput_rps": 70.0})
    assert decide(up, "throughput_rps", GUARDRAILS) == Decision(
        "propose", None, "throughput better in all 3 pairs (median +20.0%)"
    )
    mixed = pairs({"throughput_rps": 60.0}, {"throughput_rps": 45.0})
    assert decide(mixed, "throughput_rps", GUARDRAILS) == Decision(
        "reject", "decide", "throughput better in 1 of 2 pairs; the rule needs all"
    )


def test_higher_is_better_primary_ignores_a_latency_drop() -> None:
    runs = pairs({"throughput_rps": 40.0, "latency_p95_ms": 10.0})
    assert decide(runs, "throughput_rps", GUARDRAILS).reason == (
        "throughput better in 0 of 1 pairs; the rule needs all"
    )


def test_compare_medians_and_pairs_better() -> None:
    runs = [
        Pair(
            index=i,
            order=("baseline", "candidate"),
            baseline=trial("baseline", {"latency_p95_ms": b}),
            candidate=trial("candidate", {"latency_p95_ms": c}),
        )
        for i, (b, c) in enumerate([(100.0, 80.0), (110.0, 100.0), (90.0, 95.0)])
    ]
    assert compare(runs, "latency_p95_ms") == Comparison(
        metric="latency_p95_ms",
        baseline=100.0,
        candidate=95.0,
        change=0.05,
        pairs_better=2,
        pairs=3,
    )


def test_compare_higher_is_better_and_error_rate() -> None:
    runs = pairs(
        {"throughput_rps": 60.0, "error_rate": 0.01},
        {"throughput_rps": 40.0, "error_rate": 0.0},
        baseline={"error_rate": 0.02},
    )
    throughput = compare(runs, "throughput_rps")
    assert (throughput.baseline, throughput.candidate, throughput.change) == (50.0, 50.0, 0.0)
    assert (throughput.pairs_better, throughput.pairs) == (1, 2)
    errors = compare(runs, "error_rate")
    assert (errors.baseline, errors.candidate, errors.pairs_better) == (0.02, 0.005, 2)
    assert errors.change == pytest.approx(0.015)  # absolute difference for the error rate


def test_compare_all_keeps_known_metrics_only() -> None:
    runs = pairs({"latency_p95_ms": 90.0, "custom_metric": 2.0}, baseline={"custom_metric": 1.0})
    comparisons = compare_all(runs)
    assert set(comparisons) == {"latency_p95_ms", "throughput_rps", "error_rate"}
    assert comparisons["latency_p95_ms"].pairs_better == 1
    assert compare_all([]) == {}
