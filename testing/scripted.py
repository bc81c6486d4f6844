"""Scripted trials: a run's judging path (A/A pairs spread through the run, screening,
confirmation, re-measuring transients, Holm, the judge) without Docker. Each trial's metrics come
from a function of the side's artifact, the trial's name and its position in the run, so a test
chooses the machine's behaviour (a bad first minute, a real regression, pure noise)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from mutbot.backends.base import Artifact, Backend
from mutbot.candidates import Candidate
from mutbot.config import Config
from mutbot.results import Side, Trial
from mutbot.run.context import Context
from mutbot.run.options import RunOptions, rules_for
from mutbot.run.subject import Subject
from mutbot.trial import TrialPlan
from mutbot.worktree import Workspace
from testing.reporters import RecordingReporter

# (artifact ref: "baseline" or the candidate's slug, trial name, index of the trial in the run)
Response = Callable[[str, str, int], dict[str, float]]


class ScriptedTrials:
    """Stands where mutbot.trial.run_trial does; remembers every trial it ran, in order."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.names: list[str] = []

    def __call__(
        self, backend: Backend, artifact: Artifact, side: Side, name: str, plan: TrialPlan
    ) -> Trial:
        index = len(self.names)
        self.names.append(name)
        return Trial(
            side=side,
            started_at=float(index),
            healthy_seconds=0.5,
            metrics=self.response(artifact.ref, name, index),
            loadgen_cpu_fraction=0.1,
            errors={},
            raw="scripted",
        )


def noisy(
    effects: dict[str, dict[str, float]],
    sigma: float = 0.03,
    seed: int = 5,
    disturb: Callable[[int, str], float] = lambda _index, _name: 1.0,
) -> Response:
    """Lognormal noise of `sigma` around a baseline (p95 50 ms, 400 req/s, 0 errors, 100 MiB);
    `effects[slug][metric]` multiplies a candidate's metric; `disturb(index, name)` multiplies
    every latency of that trial (a transient: the machine, whoever runs)."""
    rng = random.Random(seed)
    base = {
        "latency_p50_ms": 20.0,
        "latency_p95_ms": 50.0,
        "latency_p99_ms": 80.0,
        "throughput_rps": 400.0,
        "error_rate": 0.0,
        "memory_peak_mb": 100.0,
        "cpu_ms_per_request": 2.0,
        "cost_per_mreq_usd": 0.02,
    }

    def response(ref: str, name: str, index: int) -> dict[str, float]:
        own = effects.get(ref, {})
        slow = disturb(index, name)
        out = {}
        for metric, value in base.items():
            if metric == "error_rate":
                out[metric] = value * own.get(metric, 1.0)
                continue
            noise = math.exp(rng.gauss(0.0, sigma))
            factor = slow if metric.startswith("latency") else 1.0
            if metric == "throughput_rps":
                factor = 1 / slow
            out[metric] = value * own.get(metric, 1.0) * noise * factor
        return out

    return response


def config(judge: dict[str, Any] | None = None, objective: dict[str, Any] | None = None) -> Config:
    return Config.model_validate(
        {
            "version": 1,
            "targets": ["config/**"],
            "load": {"locustfile": "locustfile.py", "users": 20},
            "judge": {"aa_pairs": 4, "pairs": 10, "screen_pairs": 3, "confirm_top": 2}
            | (judge or {}),
            "objective": objective or {},
        }
    )


def context(trials: ScriptedTrials, cfg: Config, run_dir: Path) -> Context:
    """A run's context whose trials are scripted: nothing is built, started or loaded."""
    return Context(
        options=RunOptions(project=run_dir),
        config=cfg,
        config_path=run_dir / ".mutbot.yml",
        rules=rules_for(cfg, run_dir / ".mutbot.yml", run_dir),
        run_id="scripted",
        run_dir=run_dir,
        workspace=cast(Workspace, None),  # the judging path never touches git
        backend=cast(Backend, None),  # nor a backend: the trials are scripted
        plan=TrialPlan(
            config=cfg, locustfile=run_dir / "locustfile.py", run_dir=run_dir, load_cores=None
        ),
        reporter=RecordingReporter(),
        started_at="2026-12-05T00:00:00+00:00",
        seed=1,
        trials=trials,
    )


def artifact(ref: str) -> Artifact:
    return Artifact(ref=ref, project_dir=Path("."), image_size_mb=None, build_seconds=0.0)


def baseline() -> Subject:
    return Subject("baseline", None, state="tested", artifact=artifact("baseline"))


def subject(slug: str) -> Subject:
    diff = (
        "diff --git a/config/server.ini b/config/server.ini\n"
        "--- a/config/server.ini\n+++ b/config/server.ini\n"
        f"@@ -1 +1 @@\n-a = 1\n+a = {slug}\n"
    )
    candidate = Candidate(title=slug, kind="incremental", diff=diff)
    return Subject(slug, candidate, state="tested", artifact=artifact(slug))
