"""Right-sizing end to end on the local backend: a candidate that lowers the measured compose
service's memory limit passes the policy, and its trials run with the lower limit (the memory
watchdog holds it) while the baseline's keep the config's; results.json records the limits, and
the cost at the limits is each side's own. A CPU limit, which this backend cannot enforce, is
refused at the policy stage with the reason."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from mutbot.backends import local_backend
from mutbot.backends.base import Artifact
from mutbot.backends.local_backend import LocalBackend, LocalInstance
from mutbot.config import load_config
from mutbot.cost import cost_per_million, monthly_cost
from mutbot.results import RunResult
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.rightsizing import LIMIT, compose_candidate, compose_project, write

pytestmark = pytest.mark.slow
MIB = 1024**2
LOWER = "Lower the memory limit 1g → 128m"
CPUS = "Halve the CPU limit"


def test_the_candidate_side_runs_with_its_own_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = compose_project(tmp_path / "repo")
    started: list[tuple[str, int]] = []  # (side, the watchdog's limit) of every instance
    sides: list[str] = []
    original = LocalBackend.start

    def start(self: LocalBackend, artifact: Artifact, log: Path, side: str = "baseline") -> Any:
        sides.append(side)
        return original(self, artifact, log, side)

    class Watched(LocalInstance):
        def __init__(self, *args: Any) -> None:
            started.append((sides[-1], args[3]))
            super().__init__(*args)

    monkeypatch.setattr(LocalBackend, "start", start)
    monkeypatch.setattr(local_backend, "LocalInstance", Watched)
    candidates = write(
        tmp_path / "c.json",
        [
            compose_candidate(LOWER, "memory: 1g", "memory: 128m"),
            compose_candidate(CPUS, 'cpus: "1"', 'cpus: "0.5"'),
        ],
    )
    options = RunOptions(project, candidates, out=tmp_path / "out", backend="local")
    result = execute(options, RecordingReporter())
    assert RunResult.model_validate_json((tmp_path / "out" / "results.json").read_text()) == result
    found = {c.title: c for c in result.candidates}
    assert (found[CPUS].stage, found[CPUS].reason) == (
        "policy",
        "the local backend has no CPU quota: a CPU limit of 0.5 cannot be measured here; "
        "measure with --backend docker",
    )
    lower = found[LOWER]
    assert lower.stage not in ("policy", "apply", "build", "tests", "load"), lower.reason
    assert lower.reaches == ["resources"]
    assert [(s.key, s.before, s.after) for s in lower.settings] == [(LIMIT, "1g", "128m")]
    assert lower.limits["cpus"] == 1.0 and lower.limits["memory"] == "128m"
    prices = load_config(project / ".mutbot.yml").cost
    assert lower.limits["cost_month_usd"] == pytest.approx(monthly_cost(1.0, 128 * MIB, prices))
    assert {m for s, m in started if s == "baseline"} == {256 * MIB}  # the config's
    assert {m for s, m in started if s == "candidate"} == {128 * MIB}
    for pair in lower.pairs:
        for trial, memory in ((pair.baseline, 256 * MIB), (pair.candidate, 128 * MIB)):
            expected = cost_per_million(1.0, memory, trial.metrics["throughput_rps"], prices)
            assert math.isclose(trial.metrics["cost_limits_per_mreq_usd"], expected)
