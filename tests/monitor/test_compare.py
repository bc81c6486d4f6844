from __future__ import annotations

import math

import pytest

from mutbot.config import Production
from mutbot.monitor.compare import (
    Limits,
    Verdict,
    Window,
    compare_windows,
    decide,
    no_data,
    windows,
)

LIMITS = Limits(error_rate_limit=0.05, min_realised=0.5)
SPAN = (Window(1_000.0, 1_011.0, 1.0), Window(5_000.0, 5_011.0, 1.0))
WOBBLE = (1.0, 1.03, 0.98, 1.01, 0.97, 1.02, 0.99, 1.04, 0.96, 1.0, 1.02, 0.98)


def series(start: float, values: list[float], step: float = 1.0) -> list[tuple[float, float]]:
    return [(start + k * step, v) for k, v in enumerate(values)]


def latency(before: float, after: float, predicted: float | None = None) -> Verdict:
    return compare_windows(
        series(SPAN[0].start, [before * w for w in WOBBLE]),
        series(SPAN[1].start, [after * w for w in reversed(WOBBLE)]),
        metric="latency_p95_ms",
        predicted_change=predicted,
        limits=LIMITS,
        span=SPAN,
    )


def errors(before: list[float], after: list[float]) -> Verdict:
    return compare_windows(
        series(SPAN[0].start, before),
        series(SPAN[1].start, after),
        metric="error_rate",
        predicted_change=None,
        limits=LIMITS,
        span=SPAN,
    )


def production(**fields: object) -> Production:
    return Production.model_validate(
        {"prometheus": "http://127.0.0.1:9", "queries": {"latency_p95_ms": "q"}, **fields}
    )


def test_an_improvement_as_predicted_is_fine() -> None:
    verdict = latency(100.0, 80.0, predicted=-0.2)
    assert verdict.status == "fine", verdict.reason
    assert verdict.pairs == 12
    assert verdict.change == pytest.approx(-0.2, abs=0.03)
    assert verdict.ci_low < -0.2 < verdict.ci_high < 0
    assert verdict.before == pytest.approx(100.0, rel=0.02)
    assert verdict.after == pytest.approx(80.0, rel=0.02)
    assert verdict.p > 0.5  # nothing suggests it got worse
    assert verdict.reason.startswith("p95 latency changed -2")


def test_a_significantly_worse_metric_has_regressed() -> None:
    verdict = latency(100.0, 150.0, predicted=-0.2)
    assert verdict.status == "regressed"
    assert verdict.change == pytest.approx(0.5, abs=0.05)
    assert verdict.p < 0.001
    assert "p95 latency significantly worse: +5" in verdict.reason


def test_a_higher_is_better_metric_that_drops_has_regressed() -> None:
    verdict = compare_windows(
        series(SPAN[0].start, [200.0 * w for w in WOBBLE]),
        series(SPAN[1].start, [150.0 * w for w in WOBBLE]),
        metric="throughput_rps",
        predicted_change=None,
        limits=LIMITS,
        span=SPAN,
    )
    assert verdict.status == "regressed"
    assert verdict.change == pytest.approx(-0.25, abs=0.01)


def test_a_small_share_of_the_predicted_improvement_is_under_delivered() -> None:
    verdict = latency(100.0, 95.0, predicted=-0.2)
    assert verdict.status == "under-delivered"
    assert "predicted -20.0%" in verdict.reason
    assert "under 50% of the predicted improvement" in verdict.reason


def test_the_point_estimate_decides_under_delivery() -> None:
    assert latency(100.0, 89.0, predicted=-0.2).status == "fine"  # 11% of a predicted 20%
    assert latency(100.0, 91.0, predicted=-0.2).status == "under-delivered"  # 9%


def test_without_a_prediction_nothing_can_be_under_delivered() -> None:
    assert latency(100.0, 100.0).status == "fine"
    assert latency(100.0, 100.0, predicted=0.1).status == "fine"  # predicted a worsening


def test_empty_or_short_windows_are_no_data_never_fine() -> None:
    empty = compare_windows(
        [], [], metric="latency_p95_ms", predicted_change=-0.2, limits=LIMITS, span=SPAN
    )
    assert empty.status == "no data"
    assert empty.reason == (
        "p95 latency: 0 usable pairs (0 samples before, 0 after), at least 6 needed"
    )
    assert empty.pairs == 0
    assert all(math.isnan(x) for x in (empty.before, empty.change, empty.ci_low, empty.p))
    assert empty.predicted == -0.2
    short = compare_windows(
        series(SPAN[0].start, [100.0] * 12),
        series(SPAN[1].start, [100.0] * 5),
        metric="latency_p95_ms",
        predicted_change=None,
        limits=LIMITS,
        span=SPAN,
    )
    assert (short.status, short.pairs) == ("no data", 5)


def test_samples_pair_by_their_offset_from_the_window_start() -> None:
    before = series(SPAN[0].start, [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0])
    # after: offsets 2..9 present (0 and 1 missing), each exactly 10% above its own offset
    after = [(SPAN[1].start + k, 100.0 * (k + 1) * 1.1) for k in range(2, 10)]
    verdict = compare_windows(
        before, after, metric="latency_p95_ms", predicted_change=None, limits=LIMITS, span=SPAN
    )
    assert verdict.pairs == 6  # offsets 2..7; 0, 1 (before only) and 8, 9 (after only) dropped
    assert verdict.change == pytest.approx(0.1)
    assert verdict.status == "regressed"


def test_a_zero_value_has_no_ratio_and_drops_out() -> None:
    verdict = compare_windows(
        series(SPAN[0].start, [0.0, *([100.0] * 7)]),
        series(SPAN[1].start, [100.0] * 8),
        metric="latency_p95_ms",
        predicted_change=None,
        limits=LIMITS,
        span=SPAN,
    )
    assert (verdict.pairs, verdict.change) == (7, 0.0)


def test_the_error_rate_is_compared_by_absolute_difference() -> None:
    verdict = errors([0.0] * 10, [0.08] * 10)  # no ratio exists from 0
    assert verdict.status == "regressed"
    assert verdict.change == pytest.approx(0.08)
    assert verdict.reason.startswith("error rate 8.00% after the merge, above the 5.00% limit")
    assert "+8.00 points" in verdict.reason


def test_an_error_rate_under_the_limit_is_fine_even_if_higher() -> None:
    assert errors([0.01] * 10, [0.04] * 10).status == "fine"


def test_an_error_rate_already_above_the_limit_is_not_the_merge() -> None:
    assert errors([0.06] * 10, [0.06] * 10).status == "fine"
    assert errors([0.06] * 10, [0.12] * 10).status == "regressed"  # and significantly worse


def test_decide_reverts_on_any_regression_or_under_delivery() -> None:
    fine = latency(100.0, 80.0, predicted=-0.2)
    worse = errors([0.01] * 10, [0.08] * 10)
    short = latency(100.0, 95.0, predicted=-0.2)
    assert decide([fine]) == (False, fine.reason)
    revert, reason = decide([fine, worse])
    assert revert and reason == worse.reason
    assert decide([short, no_data("error_rate", "Prometheus down")])[0]


def test_decide_counts_under_delivery_only_for_the_primary() -> None:
    short = latency(100.0, 95.0, predicted=-0.2)
    assert decide([short], primary="latency_p95_ms")[0]
    revert, reason = decide([short], primary="throughput_rps")
    assert not revert and reason == short.reason


def test_decide_never_calls_missing_data_fine() -> None:
    missing = [no_data("latency_p95_ms", "p95: cannot reach"), no_data("error_rate", "e: empty")]
    assert decide(missing) == (False, "no data: p95: cannot reach; e: empty")
    assert decide([]) == (False, "no data: no metrics queried")
    fine = latency(100.0, 80.0, predicted=-0.2)
    revert, reason = decide([fine, missing[1]])
    assert not revert and reason.endswith("; no data for error_rate")


def test_windows_wait_for_the_after_window_to_end() -> None:
    settings = production(window="10s", step="1s", settle="2s")
    assert windows(1_000.0, 1_011.9, settings) is None
    span = windows(1_000.0, 1_012.0, settings)
    assert span is not None
    before, after = span
    assert (before.start, before.end, before.step) == (990.0, 1_000.0, 1.0)
    assert (after.start, after.end) == (1_002.0, 1_012.0)


def test_daily_windows_share_their_hours_of_day_despite_the_settle_time() -> None:
    day = 86_400.0
    settings = production(window="24h", step="5m", settle="10m")
    merged = 100 * day + 3_600.0
    span = windows(merged, merged + 2 * day, settings)
    assert span is not None
    before, after = span
    assert (after.start - before.start) % day == 0
    assert after.start == merged + 600.0
    assert before.end <= merged  # never overlaps the merge
    assert before.end - before.start == day
