"""End to end on the bundled example: real git, real Docker, real Locust."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from mutbot.cli import main
from mutbot.errors import BaselineError
from mutbot.results import RunResult
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import QUICK_LOAD, edit_config, git, make_repo, write_candidates

GOOD = "Serve requests from 8 worker threads"
FAILS_TESTS = "Copy only the service into the image"  # the tests are left out of the image
DECIMALS = "Round prices to 3 decimals"  # a contract, not a tuning setting
STALE = "Raise threads (stale context)"
FORBIDDEN = "Cache the CI pipeline"
CACHE = "Enable a 1024-entry price cache"
QUIET = "Turn off per-request logging"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = make_repo(tmp_path / "repo")
    edit_config(project, QUICK_LOAD)
    return project


def verdicts(result: RunResult) -> dict[str, tuple[str, str | None]]:
    return {c.title: (c.verdict, c.stage) for c in result.candidates}


@pytest.mark.docker
def test_docker_run_proposes_the_good_and_rejects_each_bad_at_its_stage(
    project: Path, tmp_path: Path, docker_clean: Any
) -> None:
    mutations = write_candidates(
        tmp_path / "c.json", [GOOD, FAILS_TESTS, STALE, FORBIDDEN, DECIMALS]
    )
    out = tmp_path / "out"
    result = execute(RunOptions(project, mutations, out=out, dry_run=True), RecordingReporter())

    assert result.backend == "docker"
    assert verdicts(result) == {
        GOOD: ("propose", None),
        FAILS_TESTS: ("reject", "tests"),
        STALE: ("reject", "apply"),
        FORBIDDEN: ("reject", "policy"),
        DECIMALS: ("reject", "policy"),
    }
    by_title = {c.title: c for c in result.candidates}
    assert by_title[DECIMALS].reason.startswith(
        "not a setting any pack knows to be a tuning setting: config/server.ini:"
    )
    assert by_title[FORBIDDEN].reason.startswith(
        ".github/workflows/ci.yml: changes under .github/workflows/ are never pushed"
    )
    assert by_title[FAILS_TESTS].reason.startswith("tests failed (exit code 1)")
    good = by_title[GOOD]
    assert len(good.pairs) == 5 and good.screening == []  # one measurable candidate: no screen
    assert good.judgement is not None and good.judgement.p_adjusted == 1 / 32
    assert good.comparisons["latency_p95_ms"].ci_high < -0.3  # a real, large effect
    assert {p.order for p in good.pairs} <= {("baseline", "candidate"), ("candidate", "baseline")}
    for pair in good.pairs:
        assert pair.candidate.metrics["latency_p95_ms"] < pair.baseline.metrics["latency_p95_ms"]
        assert pair.baseline.metrics["requests"] > 0
        assert (out / pair.candidate.raw).is_file()
    assert good.comparisons["throughput_rps"].change > 0.5
    assert good.build and good.build.image_size_mb and good.build.image_size_mb > 1
    assert result.ranking == [good.slug]

    # results.json round-trips; the PR file and the dry-run branch exist
    assert RunResult.model_validate_json((out / "results.json").read_text()) == result
    pr = (out / f"pr-{good.slug}.md").read_text()
    assert pr.startswith(f"# {GOOD}\n") and "docker backend" in pr and "git revert -m 1" in pr
    assert not list(out.glob("pr-round*"))
    assert good.branch == f"mutbot/{good.slug}"
    assert git(project, "log", "--format=%s", "main..mutbot/" + good.slug).strip() == GOOD
    assert "threads = 8" in git(project, "show", f"mutbot/{good.slug}:config/server.ini")
    assert git(project, "worktree", "list").count("\n") == 1
    assert git(project, "status", "--porcelain") == ""
    assert (out / "logs" / by_title[FAILS_TESTS].slug / "tests.log").read_text()


@pytest.mark.slow
def test_local_backend_runs_the_whole_judge(project: Path, tmp_path: Path) -> None:
    """A/A block, screening of three measurable candidates, one confirmed, explain agrees."""
    edit_config(project, {"aa_pairs: 0 ": "aa_pairs: 2 ", "screen_pairs: 3": "screen_pairs: 2"})
    mutations = write_candidates(tmp_path / "c.json", [GOOD, CACHE, QUIET, DECIMALS])
    out = tmp_path / "out"
    result = execute(RunOptions(project, mutations, out=out, backend="local"), RecordingReporter())
    assert result.backend == "local"
    assert "NO network isolation" in result.guarantees
    assert result.noise is not None and len(result.noise.pairs) == 2
    assert 0 <= result.noise.spread < 1
    by_title = {c.title: c for c in result.candidates}
    assert (by_title[DECIMALS].verdict, by_title[DECIMALS].stage) == ("reject", "policy")
    measured = [by_title[t] for t in (GOOD, CACHE, QUIET)]
    assert all(len(c.screening) == 2 for c in measured)
    confirmed = [c for c in measured if c.pairs]
    assert len(confirmed) == 1 and confirmed[0].title in (GOOD, CACHE)
    assert confirmed[0].verdict == "propose" and len(confirmed[0].pairs) == 5
    assert result.ranking == [confirmed[0].slug]
    assert by_title[QUIET].stage == "screen"
    assert "local backend" in (out / f"pr-{confirmed[0].slug}.md").read_text()
    assert main(["explain", str(out / "results.json"), confirmed[0].slug]) == 0


def test_a_baseline_that_fails_its_own_tests_stops_the_run(project: Path, tmp_path: Path) -> None:
    edit_config(project, {"command: python -m unittest discover -s tests": "command: 'false'"})
    mutations = write_candidates(tmp_path / "c.json", [GOOD])
    with pytest.raises(BaselineError, match=r"the baseline .* fails at tests: tests failed"):
        execute(
            RunOptions(project, mutations, out=tmp_path / "out", backend="local"),
            RecordingReporter(),
        )
    assert git(project, "worktree", "list").count("\n") == 1


def _wait_for_load(process: subprocess.Popen[str], limit: float) -> None:
    """Until the run drives load: its hardest moment to stop (a sampling thread is running too)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if any("locust_runner.py" in _cmdline(c) for c in _children(process.pid)):
            time.sleep(1.0)  # well inside the trial
            return
        time.sleep(0.1)
    pytest.fail("the run never started its load generator")


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children()
    except psutil.NoSuchProcess:  # the run ended since it was polled: the loop says so next
        return []


def _cmdline(child: psutil.Process) -> str:
    try:
        return " ".join(child.cmdline())
    except psutil.NoSuchProcess:  # a short-lived child (git, docker) gone since it was listed
        return ""


@pytest.mark.docker
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "timeout"])
def test_an_interrupted_run_leaves_nothing_behind(
    how: str, project: Path, tmp_path: Path, docker_clean: Any
) -> None:
    edit_config(project, {"duration: 2s": "duration: 60s"})
    mutations = write_candidates(tmp_path / "c.json", [GOOD])
    args = [
        sys.executable,
        "-m",
        "mutbot",
        "run",
        "--repo",
        str(project),
        "--mutations",
        str(mutations),
        "--out",
        str(tmp_path / "out"),
    ]
    if how == "timeout":
        args += ["--timeout", "12s"]
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        # a shell without job control starts background jobs with SIGINT ignored (CI may run
        # us that way); the run under test must see Ctrl-C as a terminal would send it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        _wait_for_load(process, 60)
        if how != "timeout":
            process.send_signal(getattr(signal, how))
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    reason = {"SIGINT": "interrupted", "SIGTERM": "terminated", "timeout": "timed out after 12s"}
    assert f"mutbot: error: {reason[how]}; what was measured is in " in err
    partial = RunResult.model_validate_json((tmp_path / "out" / "results.json").read_text())
    assert partial.interrupted and partial.candidates[0].stage == "interrupted"
    assert git(project, "worktree", "list").count("\n") == 1
    # docker_clean asserts no container, network or image of the run is left


def test_results_json_is_plain_json(project: Path, tmp_path: Path) -> None:
    mutations = write_candidates(tmp_path / "c.json", [STALE, FORBIDDEN])
    execute(
        RunOptions(project, mutations, out=tmp_path / "out", backend="local"), RecordingReporter()
    )
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["version"] == 1 and data["ranking"] == []
    assert [c["stage"] for c in data["candidates"]] == ["apply", "policy"]
