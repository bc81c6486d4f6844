"""Metric names and directions, and exact per-trial metrics from raw latencies (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["lower", "higher"]


@dataclass(frozen=True)
class MetricInfo:
    label: str
    unit: str
    better: Direction
    # the same for every trial of one side (a property of the built image): a difference is a
    # difference, no statistics needed (mutbot.judge.compare)
    exact: bool = False


# Every metric a trial reports; the config's objective and guardrails may name any of them.
METRICS: dict[str, MetricInfo] = {
    "throughput_rps": MetricInfo("throughput", "req/s", "higher"),
    "error_rate": MetricInfo("error rate", "", "lower"),
    "latency_p50_ms": MetricInfo("p50 latency", "ms", "lower"),
    "latency_p95_ms": MetricInfo("p95 latency", "ms", "lower"),
    "latency_p99_ms": MetricInfo("p99 latency", "ms", "lower"),
    "cpu_ms_per_request": MetricInfo("CPU per request", "CPU-ms", "lower"),
    "cpu_cores_mean": MetricInfo("CPU used", "cores", "lower"),
    "memory_peak_mb": MetricInfo("peak memory", "MiB", "lower"),
    "cost_month_usd": MetricInfo("cost at measured use", "$/month", "lower"),
    "cost_per_mreq_usd": MetricInfo("cost per million requests (measured use)", "$", "lower"),
    "cost_limits_per_mreq_usd": MetricInfo(
        "cost per million requests (at the limits)", "$", "lower"
    ),
    "healthy_seconds": MetricInfo("time to healthy", "s", "lower"),
    "requests": MetricInfo("requests", "", "higher"),
    # the pipeline's own figures: what the image weighs, and a build without any cache
    "image_size_mb": MetricInfo("image size", "MiB", "lower", exact=True),
    "image_compressed_mb": MetricInfo(
        "image size, compressed as pulled", "MiB", "lower", exact=True
    ),
    "build_seconds": MetricInfo("cold build time", "s", "lower"),
}
IMAGE_METRICS = ("image_size_mb", "image_compressed_mb")
BUILD_METRIC = "build_seconds"  # one cold build of the side before each trial, when wanted
PIPELINE_METRICS = (*IMAGE_METRICS, BUILD_METRIC)  # only the docker backend measures them
GUARDING = "latency_p95_ms"  # what guards a pipeline primary, and tells its transients


def charted(primary: str) -> str:
    """The figure a chart of the pairs shows: the primary, unless it is exact (the same image
    in every pair, a flat line): then the runtime figure that guards it."""
    return GUARDING if primary in METRICS and METRICS[primary].exact else primary


# The error rate is a guardrail, not something to optimise (a 0 → 0 change has no ratio).
OBJECTIVES = tuple(name for name in METRICS if name not in ("requests", "error_rate"))


@dataclass(frozen=True)
class RawLoad:
    """What the load generator saw in the measured window: (start epoch s, latency ms, ok)."""

    window_start: float
    window_end: float
    requests: Sequence[tuple[float, float, bool]]


def exact_percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: a latency that was really observed, not a bucket."""
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=float), q, method="inverted_cdf"))


def load_metrics(raw: RawLoad) -> dict[str, float]:
    """Requests that started inside the window count; warm-up requests are dropped by timestamp."""
    inside = [r for r in raw.requests if raw.window_start <= r[0] < raw.window_end]
    duration = raw.window_end - raw.window_start
    latencies = [r[1] for r in inside if r[2]]
    failures = sum(1 for r in inside if not r[2])
    count = len(inside)
    return {
        "requests": float(count),
        "throughput_rps": (count - failures) / duration if duration > 0 else 0.0,
        "error_rate": failures / count if count else 1.0,
        "latency_p50_ms": exact_percentile(latencies, 50),
        "latency_p95_ms": exact_percentile(latencies, 95),
        "latency_p99_ms": exact_percentile(latencies, 99),
    }


def usage_metrics(
    cpu_seconds: float, window_seconds: float, memory_peak_bytes: int, requests: float
) -> dict[str, float]:
    successes = max(requests, 1.0)
    return {
        "cpu_ms_per_request": cpu_seconds / successes * 1000.0,
        "cpu_cores_mean": cpu_seconds / window_seconds if window_seconds > 0 else 0.0,
        "memory_peak_mb": memory_peak_bytes / 1024**2,
    }


def relative_change(name: str, baseline: float, candidate: float) -> float:
    """Signed change against the baseline, positive = better: a fraction (error rate: absolute)."""
    if np.isnan(baseline) or np.isnan(candidate):
        return float("nan")
    if name == "error_rate":  # a rate near zero: the absolute difference says more
        return baseline - candidate
    if baseline == 0:
        return float("nan")
    change = (candidate - baseline) / abs(baseline)
    return change if METRICS[name].better == "higher" else -change


def median(values: Sequence[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return float(np.median(finite)) if finite else float("nan")


def medians(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per metric, the median over trials (each a metric -> value mapping with the same keys)."""
    return {name: median([row[name] for row in rows]) for name in (rows[0] if rows else {})}


def window_usage(
    samples: Sequence[tuple[float, float, int]], start: float, end: float
) -> tuple[float, int]:
    """CPU-seconds used inside [start, end] (interpolated between samples) and peak memory.

    Samples are (epoch seconds, cumulative CPU seconds, memory bytes), in time order. Where
    they do not cover the whole window, the rate seen over the covered part is scaled up to it.
    """
    if len(samples) < 2:
        return float("nan"), max((s[2] for s in samples), default=0)
    times = np.array([s[0] for s in samples])
    cpu = np.array([s[1] for s in samples])
    first, last = max(start, float(times[0])), min(end, float(times[-1]))
    if last <= first:
        return float("nan"), max(s[2] for s in samples)
    used = float(np.interp(last, times, cpu) - np.interp(first, times, cpu))
    used *= (end - start) / (last - first)
    inside = [s[2] for s in samples if start <= s[0] <= end]
    if not inside:  # a window shorter than the sampling period: the sample nearest its middle
        middle = (start + end) / 2
        inside = [min(samples, key=lambda s: abs(s[0] - middle))[2]]
    return max(used, 0.0), max(inside)
