"""Which backend runs: the local one is never used silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot import backends
from mutbot.errors import SandboxError
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import make_repo, write_candidates


def test_without_docker_only_a_run_may_fall_back(no_docker: None) -> None:
    assert backends.choose(None) == "local"
    with pytest.raises(SandboxError, match=r"^no Docker engine answers .*`backend: local`"):
        backends.choose(None, fallback=False)
    assert backends.choose("local", fallback=False) == "local"
    with pytest.raises(SandboxError, match="backend 'docker' is not usable here"):
        backends.choose("docker")


def test_a_run_that_falls_back_says_so_loudly(tmp_path: Path, no_docker: None) -> None:
    project = make_repo(tmp_path / "repo")
    mutations = write_candidates(tmp_path / "c.json", ["Cache the CI pipeline"])  # policy: no trial
    reporter = RecordingReporter()
    result = execute(RunOptions(project, mutations, out=tmp_path / "out"), reporter)
    assert result.backend == "local"
    assert result.guarantees.startswith("NOT Docker: no Docker engine answered")
    assert any(n.startswith("WARNING: no Docker engine answers") for n in reporter.notes)

    named = execute(
        RunOptions(project, mutations, out=tmp_path / "named", backend="local"), RecordingReporter()
    )
    assert named.guarantees.startswith("asked for by name instead of Docker: local process")
