"""Tests for src/mutbot/metrics.py: exact percentiles, window filtering, changes and usage."""

from __future__ import annotations

import math

import pytest

from mutbot.metrics import (
    METRICS,
    OBJECTIVES,
    RawLoad,
    exact_percentile,
    load_metrics,
    median,
    relative_change,
    usage_metrics,
    window_usage,
)

NAN = float("nan")


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        (range(1, 101), 50, 50.0),
        (range(1, 101), 95, 95.0),
        (range(1, 101), 99, 99.0),
        (range(1, 101), 100, 100.0),
        (range(1, 11), 50, 5.0),
        (range(1, 11), 90, 9.0),
        (range(1, 11), 91, 10.0),  # rank ceil(9.1) = 10
        (range(1, 11), 95, 10.0),
        (range(1, 11), 0, 1.0),
        ([1, 2, 3, 4], 25, 1.0),
        ([1, 2, 3, 4], 26, 2.0),
        ([3, 1, 2], 50, 2.0),  # order does not matter
        ([7.5], 99, 7.5),
    ],
)
def test_exact_percentile_is_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert exact_percentile(list(values), q) == expected


def test_exact_percentile_returns_an_observed_value() -> None:
    values = [12.5, 3.25, 100.0, 47.0, 8.0, 8.5, 900.0]
    for q in (1, 10, 33, 50, 66, 90, 95, 99, 99.9):
        assert exact_percentile(values, q) in values


def test_exact_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(exact_percentile([], 95))


def test_load_metrics_window_failures_and_throughput() -> None:
    raw = RawLoad(
        window_start=10.0,
        window_end=20.0,
        requests=[
            (9.99, 1000.0, True),  # warm-up: dropped
            (10.0, 10.0, True),  # start of window: kept
            (12.0, 20.0, True),
            (15.0, 5000.0, False),  # failure: counted in error rate, not in latency
            (19.999, 30.0, True),
            (20.0, 999.0, True),  # end of window is excluded
        ],
    )
    assert load_metrics(raw) == {
        "requests": 4.0,
        "throughput_rps": 0.3,  # 3 successes in 10 s
        "error_rate": 0.25,
        "latency_p50_ms": 20.0,
        "latency_p95_ms": 30.0,
        "latency_p99_ms": 30.0,
    }


def test_load_metrics_percentiles_over_many_requests() -> None:
    requests = [(100.0 + i / 100, float(i), True) for i in range(1, 101)]
    requests += [(100.5, 10_000.0, False)] * 5
    metrics = load_metrics(RawLoad(100.0, 102.0, requests))
    assert metrics["requests"] == 105.0
    assert metrics["throughput_rps"] == 50.0
    assert metrics["error_rate"] == pytest.approx(5 / 105)
    assert (metrics["latency_p50_ms"], metrics["latency_p95_ms"], metrics["latency_p99_ms"]) == (
        50.0,
        95.0,
        99.0,
    )


def test_load_metrics_with_no_request_in_the_window() -> None:
    metrics = load_metrics(RawLoad(0.0, 10.0, [(11.0, 5.0, True)]))
    assert metrics["requests"] == 0.0
    assert metrics["throughput_rps"] == 0.0
    assert metrics["error_rate"] == 1.0
    assert all(math.isnan(metrics[f"latency_p{q}_ms"]) for q in (50, 95, 99))


def test_load_metrics_all_failed() -> None:
    metrics = load_metrics(RawLoad(0.0, 2.0, [(0.5, 1.0, False), (1.5, 2.0, False)]))
    assert (metrics["requests"], metrics["throughput_rps"], metrics["error_rate"]) == (2, 0, 1)
    assert math.isnan(metrics["latency_p95_ms"])


@pytest.mark.parametrize(
    ("name", "baseline", "candidate", "expected"),
    [
        ("latency_p95_ms", 100.0, 80.0, 0.2),  # lower is better: a drop is positive
        ("latency_p95_ms", 100.0, 125.0, -0.25),
        ("cpu_ms_per_request", 2.0, 1.0, 0.5),
        ("memory_peak_mb", 200.0, 250.0, -0.25),
        ("throughput_rps", 100.0, 120.0, 0.2),  # higher is better: a rise is positive
        ("throughput_rps", 100.0, 90.0, -0.1),
        ("requests", 1000.0, 1100.0, 0.1),
        ("error_rate", 0.02, 0.01, 0.01),  # absolute difference, not a fraction
        ("error_rate", 0.0, 0.01, -0.01),  # zero baseline is fine for the error rate
        ("error_rate", 0.0, 0.0, 0.0),
        ("latency_p95_ms", 100.0, 100.0, 0.0),
    ],
)
def test_relative_change_orientation(
    name: str, baseline: float, candidate: float, expected: float
) -> None:
    assert relative_change(name, baseline, candidate) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("name", "baseline", "candidate"),
    [
        ("latency_p95_ms", 0.0, 5.0),
        ("throughput_rps", 0.0, 5.0),
        ("latency_p95_ms", NAN, 5.0),
        ("latency_p95_ms", 5.0, NAN),
        ("error_rate", NAN, 0.0),
    ],
)
def test_relative_change_undefined_is_nan(name: str, baseline: float, candidate: float) -> None:
    assert math.isnan(relative_change(name, baseline, candidate))


def test_metric_tables() -> None:
    assert METRICS["throughput_rps"].better == "higher"
    assert METRICS["latency_p95_ms"].better == "lower"
    assert METRICS["error_rate"].better == "lower"
    assert "requests" in METRICS
    assert "requests" not in OBJECTIVES
    assert set(OBJECTIVES) == set(METRICS) - {"requests", "error_rate"}  # error rate: a guardrail


def test_median_ignores_nan() -> None:
    assert median([3.0, NAN, 1.0, 2.0]) == 2.0
    assert median([1.0, 4.0]) == 2.5
    assert math.isnan(median([NAN]))
    assert math.isnan(median([]))


def test_usage_metrics() -> None:
    assert usage_metrics(2.0, 10.0, 256 * 1024**2, 1000.0) == {
        "cpu_ms_per_request": 2.0,
        "cpu_cores_mean": 0.2,
        "memory_peak_mb": 256.0,
    }


def test_usage_metrics_without_requests_or_window() -> None:
    metrics = usage_metrics(0.5, 0.0, 1024**2, 0.0)
    assert metrics["cpu_ms_per_request"] == 500.0  # divided by at least one request
    assert metrics["cpu_cores_mean"] == 0.0


# (epoch seconds, cumulative CPU seconds, memory bytes), one sample a second
SAMPLES = [
    (100.0, 0.0, 100),
    (101.0, 0.5, 300),
    (102.0, 1.5, 200),
    (103.0, 1.5, 900),
]


def test_window_usage_on_sample_boundaries() -> None:
    assert window_usage(SAMPLES, 100.0, 103.0) == (1.5, 900)
    assert window_usage(SAMPLES, 101.0, 102.0) == (1.0, 300)


def test_window_usage_interpolates_between_samples() -> None:
    cpu, memory = window_usage(SAMPLES, 100.5, 101.5)
    assert cpu == pytest.approx(1.0 - 0.25)  # 0.25 at 100.5, 1.0 at 101.5
    assert memory == 300  # the only sample inside the window
    cpu, _ = window_usage(SAMPLES, 101.25, 101.75)
    assert cpu == pytest.approx(0.5)


def test_window_usage_peak_memory_only_inside_the_window() -> None:
    _, memory = window_usage(SAMPLES, 100.5, 102.5)
    assert memory == 300  # samples at 101 and 102; not 900 at 103, not 100 at 100


def test_window_usage_never_negative() -> None:
    samples = [(0.0, 5.0, 1), (1.0, 4.0, 1)]  # a counter reset
    assert window_usage(samples, 0.0, 1.0) == (0.0, 1)


@pytest.mark.parametrize(
    ("samples", "memory"),
    [([], 0), ([(100.0, 1.0, 512)], 512)],
)
def test_window_usage_with_fewer_than_two_samples(
    samples: list[tuple[float, float, int]], memory: int
) -> None:
    cpu, peak = window_usage(samples, 100.0, 110.0)
    assert math.isnan(cpu)
    assert peak == memory


def test_window_usage_scales_the_rate_when_samples_cover_only_part_of_the_window() -> None:
    # samples from 100 to 103 at 0.5 CPU-s per second; the window runs 99..104
    cpu, _ = window_usage(SAMPLES_STEADY, 99.0, 104.0)
    assert cpu == pytest.approx(0.5 * 5)


def test_window_usage_outside_every_sample_is_unknown() -> None:
    cpu, _ = window_usage(SAMPLES_STEADY, 200.0, 210.0)
    assert math.isnan(cpu)


SAMPLES_STEADY = [(100.0 + t, 0.5 * t, 10) for t in range(4)]
