"""The load every trial of a run gets (pure), and the short ramp that measures the baseline's
capacity when the config fixes neither `load.users` nor `load.arrival_rate` (`calibrate_run`).

A service driven at saturation has a chaotic tail; a closed loop hides queueing. So by default a
run measures what the baseline can serve, then drives every trial open-loop at `load.fraction`
of that, with windows long enough to hold ~100 samples beyond the percentile judged.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, TypedDict

from mutbot.config import Load
from mutbot.errors import LoadError, StageFailure
from mutbot.load import LoadRun, drive
from mutbot.metrics import PIPELINE_METRICS
from mutbot.trial import SATURATED, wait_healthy
from mutbot.units import format_duration

if TYPE_CHECKING:
    from mutbot.backends.base import Artifact
    from mutbot.run.context import Context
    from mutbot.run.subject import Subject

WARMUP_S = 1.0  # the warm-up's floor when load.warmup is not written
WARMUP_REQUESTS = 200  # completed before the window opens (docs/config.md says why)
MAX_WARMUP_S = 5.0  # the window opens by then even if they have not: a dead service can't stall
DURATION_S = 5.0  # the window's floor when load.duration is not written
TAIL_SAMPLES = 100  # samples beyond the percentile judged
OTHER_PRIMARY_REQUESTS = 1_000  # throughput, CPU, cost: means, steady well before that
RAMP_USERS = 64  # enough to saturate a 1-CPU service whose requests wait 20 ms downstream
RAMP_SPAWN_S = 3.0  # users ramp up over this, then hold
RAMP_S = 8.0  # the whole ramp: 1-second buckets, the best half is the plateau
MIN_POOL = 8  # open-loop workers, at least
MAX_POOL = 2_000
FIXED_RATE_LATENCY_S = 0.25  # load.arrival_rate without users: a pool for requests this long
# Above this rate the load generator's own scheduling (one gevent loop, ~half a core) shows in
# the tail it measures: uvicorn sample, A/A sd of p95 0.25 at 3,226 req/s, 0.03 at 800 req/s;
# the gunicorn sample 0.046 at 1,244 req/s. 2,000 requests still fit the 5 s window floor.
MAX_RATE_RPS = 1_000.0


@dataclass(frozen=True)
class Calibration:
    capacity_rps: float  # the baseline's plateau throughput in the ramp
    rate_rps: float  # what every trial is driven at
    fraction: float
    loadgen_cpu_fraction: float  # above SATURATED: the capacity is the load generator's
    ramp_seconds: float  # start, health, ramp and stop, wall time

    @property
    def loadgen_saturated(self) -> bool:
        return self.loadgen_cpu_fraction > SATURATED

    def record(self) -> dict[str, float | bool]:
        return {
            "capacity_rps": round(self.capacity_rps, 1),
            "rate_rps": round(self.rate_rps, 1),
            "fraction": self.fraction,
            "loadgen_saturated": self.loadgen_saturated,
            "loadgen_cpu_fraction": round(self.loadgen_cpu_fraction, 3),
            "ramp_seconds": round(self.ramp_seconds, 1),
        }


@dataclass(frozen=True)
class LoadPlan:
    """How every trial of a run is loaded, and why (`chosen`)."""

    mode: Literal["closed", "open"]
    users: int  # closed loop: the users; open loop: the worker pool
    spawn_rate: float
    arrival_rate: float | None  # open loop: requests/s
    warmup: float  # the window opens no earlier than this (seconds)
    max_warmup: float  # ... and no later than this
    warmup_requests: int  # ... once this many requests have completed
    duration: float  # the window lasts at least this
    min_requests: int  # ... and until this many requests started in it
    max_duration: float  # ... at most this
    chosen: str
    no_wait: bool = False  # the users' wait_time replaced by 0 (the capacity ramp)
    calibration: Calibration | None = None

    def lasting(self, seconds: float) -> LoadPlan:
        """This load for exactly `seconds`, from the first request (doctor's check)."""
        return replace(
            self,
            warmup=0.0,
            max_warmup=0.0,
            warmup_requests=0,
            duration=seconds,
            min_requests=0,
            max_duration=seconds,
        )

    def window(self) -> tuple[float, float]:
        """The window's shortest and longest length (equal when known up front)."""
        if self.arrival_rate is None:
            return (self.duration, self.max_duration if self.min_requests else self.duration)
        wanted = self.min_requests / self.arrival_rate
        length = min(max(wanted, self.duration), self.max_duration)
        return (length, length)

    def record(self) -> dict[str, int | float | str]:
        """The load as results.json and the pull request describe it."""
        shortest, longest = self.window()
        window = format_duration(round(shortest, 1))
        rate = self.arrival_rate
        if self.min_requests and rate is not None:
            if self.min_requests / rate > self.max_duration:
                held = round(rate * shortest)
                window += (
                    f" ({held} requests at {rate:g} req/s; {self.min_requests} wanted, "
                    "cut at load.max_duration)"
                )
            else:
                window += f" ({self.min_requests} requests at {rate:g} req/s)"
        elif self.min_requests:
            if longest > shortest:
                window += f" to {format_duration(longest)}"
            window += f", until {self.min_requests} requests"
        warmup = format_duration(self.warmup)
        if self.warmup_requests:
            warmup += (
                f" and {self.warmup_requests} requests (at most {format_duration(self.max_warmup)})"
            )
        return {
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "duration": window,
            "warmup": warmup,
            "model": "closed"
            if self.arrival_rate is None
            else f"open, {self.arrival_rate:g} req/s",
            "chosen": self.chosen,
        }


def min_requests_for(primary: str) -> int:
    """~100 samples beyond the percentile judged: p95 → 2,000, p99 → 10,000, p50 → 200. A
    pipeline primary (the image, a cold build) is judged outside the window: the window is
    sized for p95 latency, which guards it."""
    if primary in PIPELINE_METRICS:
        primary = "latency_p95_ms"
    for name, q in (("latency_p50_ms", 0.50), ("latency_p95_ms", 0.95), ("latency_p99_ms", 0.99)):
        if primary == name:
            return round(TAIL_SAMPLES / (1 - q))
    return OTHER_PRIMARY_REQUESTS


class _Timing(TypedDict):
    warmup: float
    max_warmup: float
    warmup_requests: int
    duration: float
    min_requests: int
    max_duration: float


def _timing(load: Load, primary: str) -> _Timing:
    """Seconds the file writes are what it gets; the request counts fill in the rest."""
    warmup = WARMUP_S if load.warmup is None else load.warmup
    if load.warmup_requests is not None:
        warmup_requests = load.warmup_requests
    else:
        warmup_requests = WARMUP_REQUESTS if load.warmup is None else 0
    duration = DURATION_S if load.duration is None else load.duration
    if load.min_requests is not None:
        min_requests = load.min_requests
    else:
        min_requests = min_requests_for(primary) if load.duration is None else 0
    return _Timing(
        warmup=warmup,
        max_warmup=max(warmup, MAX_WARMUP_S) if warmup_requests else warmup,
        warmup_requests=warmup_requests,
        duration=duration,
        min_requests=min_requests,
        max_duration=max(duration, load.max_duration) if min_requests else duration,
    )


def fixed_plan(load: Load, primary: str) -> LoadPlan | None:
    """The plan when the config fixes users or a rate; None: the run must calibrate."""
    timing = _timing(load, primary)
    if load.arrival_rate is not None:
        pool = load.users or _pool(load.arrival_rate, FIXED_RATE_LATENCY_S)
        spawn = load.spawn_rate if load.users else float(pool)
        return LoadPlan(
            "open", pool, spawn, load.arrival_rate, chosen="fixed by load.arrival_rate", **timing
        )
    if load.users is not None:
        return LoadPlan(
            "closed", load.users, load.spawn_rate, None, chosen="fixed by load.users", **timing
        )
    return None


def ramp_plan() -> LoadPlan:
    """Closed loop, no think time, users ramping up to RAMP_USERS: finds the plateau."""
    return LoadPlan(
        mode="closed",
        users=RAMP_USERS,
        spawn_rate=RAMP_USERS / RAMP_SPAWN_S,
        arrival_rate=None,
        warmup=0.0,
        max_warmup=0.0,
        warmup_requests=0,
        duration=RAMP_S,
        min_requests=0,
        max_duration=RAMP_S,
        chosen="capacity ramp",
        no_wait=True,
    )


def capacity(completions: Sequence[float], start: float, seconds: int) -> float:
    """Plateau throughput: the median of the best half of the 1-second buckets of successful
    completions (epochs) in [start, start + seconds). The ramp's first seconds and a stall
    fall in the worse half."""
    if seconds < 1:
        raise ValueError("need at least one whole second")
    counts = [0] * seconds
    for at in completions:
        bucket = math.floor(at - start)
        if 0 <= bucket < seconds:
            counts[bucket] += 1
    best = sorted(counts, reverse=True)[: math.ceil(seconds / 2)]
    return float(statistics.median(best))


def _pool(rate: float, latency_s: float) -> int:
    """Open-loop workers: twice the concurrency Little's law expects (rate × latency)."""
    return min(MAX_POOL, max(MIN_POOL, math.ceil(2 * rate * latency_s)))


@dataclass(frozen=True)
class Ramp:
    capacity_rps: float
    mean_latency_s: float  # of the successful requests, over the whole ramp
    loadgen_cpu_fraction: float
    requests: int
    failed: int


def read_ramp(run: LoadRun) -> Ramp:
    ok = [(r[0], r[1]) for r in run.raw.requests if r[2]]
    seconds = math.floor(run.raw.window_end - run.raw.window_start)
    found = capacity([s + ms / 1000 for s, ms in ok], run.raw.window_start, max(1, seconds))
    mean = statistics.fmean(ms for _, ms in ok) / 1000 if ok else 0.0
    failed = len(run.raw.requests) - len(ok)
    return Ramp(found, mean, run.loadgen_cpu_fraction, len(run.raw.requests), failed)


def calibrated_plan(load: Load, primary: str, ramp: Ramp, ramp_seconds: float) -> LoadPlan:
    wanted = round(load.fraction * ramp.capacity_rps, 1)
    rate = min(wanted, MAX_RATE_RPS)
    calibration = Calibration(
        ramp.capacity_rps, rate, load.fraction, ramp.loadgen_cpu_fraction, ramp_seconds
    )
    pool = _pool(rate, ramp.mean_latency_s)
    chosen = (
        f"calibrated: capacity {ramp.capacity_rps:g} req/s, open loop at "
        f"{load.fraction:.0%} = {rate:g} req/s"
    )
    if rate < wanted:
        chosen = (
            f"calibrated: capacity {ramp.capacity_rps:g} req/s, open loop at {rate:g} req/s "
            f"({load.fraction:.0%} would be {wanted:g}; above {MAX_RATE_RPS:g} req/s the load "
            "generator's own delays show in the tail it measures)"
        )
    if calibration.loadgen_saturated:
        chosen += " (the load generator saturated in the ramp: the capacity is at least this)"
    return LoadPlan(
        "open",
        pool,
        float(pool),  # every worker up within a second, well inside the warm-up
        rate,
        chosen=chosen,
        calibration=calibration,
        **_timing(load, primary),
    )


def calibrate_run(ctx: Context, baseline: Subject) -> LoadPlan:
    """The run's load plan: the config's, or measured on a baseline instance (edge)."""
    config = ctx.config
    fixed = fixed_plan(config.load, config.objective.primary)
    if fixed is not None:
        return fixed
    assert baseline.artifact is not None
    started = time.monotonic()
    ramp = measure_capacity(ctx, baseline.artifact)
    plan = calibrated_plan(config.load, config.objective.primary, ramp, time.monotonic() - started)
    shortest, longest = plan.window()
    window = format_duration(shortest)
    if longest != shortest:
        window += f" to {format_duration(longest)}"
    ctx.reporter.note(
        f"load {plan.chosen}; {plan.users} workers, windows of {window} "
        f"(the ramp took {time.monotonic() - started:.0f}s)"
    )
    return plan


def measure_capacity(ctx: Context, artifact: Artifact) -> Ramp:
    """Start the baseline, wait for health, ramp, stop (always)."""
    config, logs = ctx.config, ctx.run_dir / "logs"
    raw = ctx.run_dir / "raw" / "calibration.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    instance = ctx.backend.start(artifact, logs / "calibration.service.log")
    try:
        wait_healthy(instance, config.sandbox.health, config.sandbox.startup_timeout)
        run = drive(
            instance.url,
            ctx.plan.locustfile,
            ramp_plan(),
            raw,
            logs / "calibration.locust.log",
            ctx.plan.load_cores,
        )
        failure = instance.failure()
    except StageFailure as exc:
        raise LoadError(f"calibration: the baseline failed to {exc.stage}: {exc.reason}") from None
    finally:
        instance.stop()
    if failure:
        raise LoadError(f"calibration: the baseline {failure} under the ramp; {_FIX}")
    ramp = read_ramp(run)
    if ramp.capacity_rps <= 0:
        top = max(run.errors.items(), key=lambda item: item[1], default=("no request", 0))[0]
        raise LoadError(
            f"calibration: no request succeeded in the {RAMP_S:g}s ramp on the baseline "
            f"({ramp.failed} of {ramp.requests} failed; {top[:200]}); {_FIX}"
        )
    return ramp


_FIX = "check the locustfile against the service, or fix the load with load.users"


def load_record(plan: LoadPlan | None, load: Load, primary: str) -> dict[str, int | float | str]:
    """results.json's `load`: the run's plan; a run stopped before calibrating says so."""
    plan = plan or fixed_plan(load, primary)
    if plan is None:
        return {
            "users": "none yet",
            "spawn_rate": load.spawn_rate,
            "duration": "not planned",
            "warmup": "not planned",
            "model": "open",
            "chosen": "calibrated, but the run stopped before the ramp",
        }
    return plan.record()


def calibration_record(plan: LoadPlan | None) -> dict[str, float | bool] | None:
    return plan.calibration.record() if plan and plan.calibration else None
