"""One trial: a fresh instance, wait for health, drive load, collect metrics, tear down."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
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


def wait_healthy(instance: Instance, path: str, timeout: float) -> float:
    """Seconds until `path` answers 2xx; StageFailure('start') when it never does."""
    started = time.monotonic()
    last = "no answer"
    while time.monotonic() - started < timeout:
        failure = instance.failure()
        if failure:
            raise StageFailure("start", f"{failure} during start-up")
        try:
            with urllib.request.urlopen(instance.url + path, timeout=1) as response:
                if 200 <= response.status < 300:
                    return time.monotonic() - started
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = type(getattr(exc, "reason", exc)).__name__
        time.sleep(0.1)
    raise StageFailure("start", f"never healthy within {timeout:g}s ({path}: {last})")


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
    # services start and get ready inside start(): before the time to healthy and the load
    instance = backend.start(artifact, logs / f"{name}.service.log", side=side)
    try:
        healthy = wait_healthy(instance, config.sandbox.health, config.sandbox.startup_timeout)
        instance.start_sampling()
        run = drive(
            instance.url,
            plan.locustfile,
            plan.load,
            raw,
            logs / f"{name}.locust.log",
            plan.load_cores,
        )
        samples = instance.stop_sampling()
        failure = instance.failure()
        if failure:
            raise StageFailure("load", f"{failure} under load")
    finally:
        instance.stop()
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
    return Trial(
        side=side,
        started_at=started_at,
        healthy_seconds=healthy,
        metrics=metrics,
        loadgen_cpu_fraction=run.loadgen_cpu_fraction,
        errors=run.errors,
        raw=str(raw.relative_to(plan.run_dir)),
    )
