"""One trial: a fresh instance, wait for health, drive load, collect metrics, tear down."""

from __future__ import annotations

import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mutbot.backends.base import Artifact, Backend, Instance, Limits
from mutbot.config import Config
from mutbot.cost import cost_per_million, monthly_cost
from mutbot.errors import StageFailure, TrialInvalid
from mutbot.load import LoadRun, drive
from mutbot.metrics import load_metrics, usage_metrics, window_usage
from mutbot.results import Side, Trial

if TYPE_CHECKING:
    from mutbot.calibrate import LoadPlan


@dataclass(frozen=True)
class TrialPlan:
    config: Config
    locustfile: Path
    run_dir: Path
    load_cores: tuple[int, ...] | None
    load: LoadPlan | None = None  # set once per run by calibrate.calibrate_run, before any trial


# Health polls: 10 ms apart for the first quarter of a second (services here are up in 40-60 ms:
# the time to healthy is known to 10 ms, not to the old fixed pause's 0.1 s), then each pause
# 1.2 times the last, up to 0.1 s.
FIRST_POLL_S = 0.01
STEADY_S = 0.25
MAX_POLL_S = 0.1
FAILURE_EVERY_S = 0.1  # whether it crashed: at most this often (a Docker API call each time)


def poll_delays(
    first: float = FIRST_POLL_S, steady: float = STEADY_S, most: float = MAX_POLL_S
) -> Iterator[float]:
    """Pauses between health polls: `first` until `steady` seconds of them, then a backoff."""
    delay, slept = first, 0.0
    while True:
        yield delay
        slept += delay
        if slept >= steady:
            delay = min(delay * 1.2, most)


def wait_healthy(
    instance: Instance, path: str, timeout: float, sleep: Callable[[float], None] = time.sleep
) -> float:
    """Seconds until `path` answers 2xx; StageFailure('start') when it never does."""
    started = time.monotonic()
    last = "no answer"
    checked = -math.inf
    for delay in poll_delays():
        now = time.monotonic()
        if now - started >= timeout:
            break
        if now - checked >= FAILURE_EVERY_S:
            checked = now
            failure = instance.failure()
            if failure:
                raise StageFailure("start", f"{failure} during start-up")
        try:
            with _opener.open(instance.url + path, timeout=1) as response:
                if 200 <= response.status < 300:
                    return time.monotonic() - started
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = type(getattr(exc, "reason", exc)).__name__
        sleep(delay)
    failure = instance.failure()
    if failure:
        raise StageFailure("start", f"{failure} during start-up")
    raise StageFailure("start", f"never healthy within {timeout:g}s ({path}: {last})")


# straight to the instance: never through a proxy the environment names
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


SATURATED = 0.90  # share of one core: above it the load generator, not the service, is measured
MIN_RATE = 0.97  # open loop: share of the planned arrivals that must really have been sent


def check_valid(run: LoadRun) -> None:
    if run.loadgen_cpu_fraction > SATURATED:
        raise TrialInvalid(f"load generator saturated ({run.loadgen_cpu_fraction:.0%} CPU)")
    if run.scheduled_in_window:
        sent = sum(1 for r in run.raw.requests if run.raw.window_start <= r[0] < run.raw.window_end)
        if sent < MIN_RATE * run.scheduled_in_window:
            raise TrialInvalid(
                f"achieved {sent / run.scheduled_in_window:.0%} of the target arrival rate"
            )


class TrialRunner(Protocol):
    def __call__(
        self, backend: Backend, artifact: Artifact, side: Side, name: str, plan: TrialPlan
    ) -> Trial: ...


def run_trial(
    backend: Backend, artifact: Artifact, side: Side, name: str, plan: TrialPlan
) -> Trial:
    logs = plan.run_dir / "logs"
    raw = plan.run_dir / "raw" / f"{name}.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    (logs / name).parent.mkdir(parents=True, exist_ok=True)
    config = plan.config
    if plan.load is None:
        raise AssertionError("no load plan: calibrate.calibrate_run runs before any trial")
    started_at = time.time()
    clock = Stopwatch()
    # services start and get ready inside start(): before the time to healthy and the load
    instance = backend.start(artifact, logs / f"{name}.service.log", side=side)
    clock.lap("start")
    try:
        healthy = wait_healthy(instance, config.sandbox.health, config.sandbox.startup_timeout)
        clock.lap("healthy")
        instance.start_sampling()
        clock.lap("sampling_start")
        run = drive(
            instance.url,
            plan.locustfile,
            plan.load,
            raw,
            logs / f"{name}.locust.log",
            plan.load_cores,
        )
        clock.lap("load")
        samples = instance.stop_sampling(until=run.raw.window_end)
        clock.lap("sampling_stop")
        failure = instance.failure()
        clock.lap("failure_check")
        if failure:
            raise StageFailure("load", f"{failure} under load")
    except BaseException:
        instance.stop()
        raise
    instance.release()  # Docker: torn down while the next instance starts, not now
    clock.lap("teardown")
    check_valid(run)
    window = run.raw.window_end - run.raw.window_start
    metrics = load_metrics(run.raw)
    cpu, memory = window_usage(
        [(s.at, s.cpu_seconds, s.memory_bytes) for s in samples],
        run.raw.window_start,
        run.raw.window_end,
    )
    successes = metrics["requests"] * (1 - metrics["error_rate"])
    metrics.update(usage_metrics(cpu, window, memory, successes))
    metrics["cost_month_usd"] = monthly_cost(metrics["cpu_cores_mean"], memory, config.cost)
    metrics["cost_per_mreq_usd"] = cost_per_million(
        metrics["cpu_cores_mean"], memory, metrics["throughput_rps"], config.cost
    )
    # at the limits this side ran with: a candidate's own, else the config's
    limits = artifact.limits or Limits(config.sandbox.cpus, config.sandbox.memory)
    metrics["cost_limits_per_mreq_usd"] = cost_per_million(
        limits.cpus, limits.memory, metrics["throughput_rps"], config.cost
    )
    metrics["healthy_seconds"] = healthy
    clock.lap("metrics")
    return Trial(
        side=side,
        started_at=started_at,
        healthy_seconds=healthy,
        metrics=metrics,
        loadgen_cpu_fraction=run.loadgen_cpu_fraction,
        errors=run.errors,
        raw=str(raw.relative_to(plan.run_dir)),
        timings=trial_timings(clock.laps, run.timings),
    )


class Stopwatch:
    """Seconds spent in each step of a trial, in order."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


# The load step's parts, from the load generator's epochs (load.LoadRun.timings): each phase
# runs from the first epoch to the second; a phase whose epochs are missing is left out.
LOAD_PHASES = (
    ("loadgen_spawn", "spawned", "imported"),  # a new process: interpreter, Locust's imports
    ("loadgen_command", "called", "received"),  # the command on its way to the process
    ("loadgen_setup", "received", "t0"),  # the locustfile, a fresh Locust environment
    ("warmup", "t0", "window_start"),
    ("window", "window_start", "window_end"),
    ("loadgen_quit", "window_end", "stopped"),  # the users stopped
    ("loadgen_write", "stopped", "answered"),  # the raw file written, the answer read
    ("parse", "answered", "parsed"),  # the raw file read back
)


def trial_timings(laps: dict[str, float], load: dict[str, float]) -> dict[str, float]:
    """Where a trial's seconds went (results.json `timings`): the steps the stopwatch timed,
    the load step split into the load generator's phases, and `total`."""
    if "spawned" in load and "imported" in load:  # a new process: the command waited for it
        load = {**load, "called": load["imported"]}
    out: dict[str, float] = {}
    for name, seconds in laps.items():
        if name != "load":
            out[name] = round(seconds, 4)
            continue
        for phase, start, end in LOAD_PHASES:
            if start in load and end in load:
                out[phase] = round(load[end] - load[start], 4)
    out["total"] = round(sum(laps.values()), 4)
    return out
