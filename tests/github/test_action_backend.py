"""`mutbot action` never falls back to the weaker local backend by itself: without Docker it
fails, unless the workflow asks for `backend: local`, and then the log and the PR say so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mutbot import hardening
from mutbot.cli import main
from mutbot.errors import ConfigError, SandboxError
from mutbot.github.action import read_env, run_action
from testing.github_world import REPO, World, github_world
from testing.repos import QUICK_LOAD, edit_config, git, write_candidates
from testing.webhooks import payload


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path / "w") as w:
        yield w


def variables(world: World, tmp_path: Path, **extra: str) -> dict[str, str]:
    event = payload("push_with-new-branch")
    event["ref"] = "refs/heads/main"
    event["repository"]["full_name"] = REPO
    event["repository"]["default_branch"] = "main"
    return world.variables(tmp_path, "push", event, **extra)


def test_without_docker_the_action_fails_unless_local_is_named(
    world: World,
    tmp_path: Path,
    no_docker: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in variables(world, tmp_path).items():
        monkeypatch.setenv(name, value)
    try:
        assert main(["action"]) == SandboxError.exit_code
    finally:
        hardening.take_secrets()  # hold nothing from this test
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("mutbot: error: no Docker engine answers")
    assert "`backend: local`" in line
    assert "The run failed: no Docker engine answers" in (tmp_path / "summary.md").read_text()
    assert not world.fake.calls("POST", r".*/pulls")


def test_the_backend_input_is_checked(world: World, tmp_path: Path) -> None:
    assert read_env(variables(world, tmp_path, MUTBOT_BACKEND="local")).backend == "local"
    assert read_env(variables(world, tmp_path, MUTBOT_BACKEND="")).backend is None
    with pytest.raises(ConfigError, match="backend: expected one of docker, local, got 'vm'"):
        read_env(variables(world, tmp_path, MUTBOT_BACKEND="vm"))


@pytest.mark.slow
def test_backend_local_runs_and_the_log_and_the_pr_say_so(
    world: World, tmp_path: Path, no_docker: None, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_config(world.checkout, QUICK_LOAD)
    git(world.checkout, "push", "--quiet", "origin", "main")
    candidates = write_candidates(tmp_path / "c.json", ["Serve requests from 8 worker threads"])
    env = variables(world, tmp_path, MUTBOT_BACKEND="local", MUTBOT_PROPOSER=f"file:{candidates}")
    with world.client() as gh:
        assert run_action(read_env(env), client=gh) == 0

    out = capsys.readouterr().out
    assert "mutbot: measuring with the LOCAL backend, asked for by the workflow" in out
    body: Any = world.fake.pull(1)["body"]  # the only pull request
    assert "**Sandbox:** local backend: asked for by name instead of Docker: local process" in body
    assert "local sandbox" in (tmp_path / "summary.md").read_text()
