"""Right-sizing on Docker, end to end: a candidate lowers the memory limit of the compose
service that builds the measured Dockerfile, and every candidate-side container really runs
with the lower limit (its HostConfig, read while the run goes on) while every baseline-side
container keeps the config's; results.json records the candidate's limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mutbot.backends.base import Artifact
from mutbot.backends.docker_backend import DockerBackend, DockerInstance
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import edit_config
from testing.rightsizing import LIMIT, compose_candidate, compose_project, write

pytestmark = [pytest.mark.docker, pytest.mark.slow]
MIB = 1024**2


def test_the_candidate_side_runs_with_the_lower_compose_memory_limit(
    tmp_path: Path, docker_clean: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = compose_project(tmp_path / "repo")
    edit_config(project, {"duration: 2s": "duration: 1s"})  # the limit is the point, not speed
    started: list[tuple[str, int, int, int]] = []
    original = DockerBackend.start

    def start(
        self: DockerBackend, artifact: Artifact, log: Path, side: str = "baseline"
    ) -> DockerInstance:
        instance = original(self, artifact, log, side)
        host = instance.container.attrs["HostConfig"]
        started.append((side, host["Memory"], host["MemorySwap"], host["NanoCpus"]))
        return instance

    monkeypatch.setattr(DockerBackend, "start", start)
    lower = compose_candidate("Lower the memory limit 1g → 128m", "memory: 1g", "memory: 128m")
    options = RunOptions(
        project, write(tmp_path / "c.json", [lower]), out=tmp_path / "out", backend="docker"
    )
    [candidate] = execute(options, RecordingReporter()).candidates
    assert candidate.stage not in ("policy", "apply", "build", "tests", "load"), candidate.reason
    assert candidate.reaches == ["resources"] and candidate.settings[0].key == LIMIT
    assert candidate.limits["memory"] == "128m" and candidate.limits["cpus"] == 1.0
    assert {s[1:] for s in started if s[0] == "baseline"} == {(256 * MIB, 256 * MIB, 10**9)}
    assert {s[1:] for s in started if s[0] == "candidate"} == {(128 * MIB, 128 * MIB, 10**9)}
    assert len(candidate.pairs) == 3 and len(started) >= 6  # more when a pair ran again
