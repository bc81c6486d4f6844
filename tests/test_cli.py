from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mutbot.cli import main
from testing.repos import EXAMPLE, make_repo


def test_validate_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["validate", "--repo", str(EXAMPLE), "--mutations", str(EXAMPLE / "candidates.json")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"{EXAMPLE / '.mutbot.yml'}: valid (2 target globs, primary latency_p95_ms)" in out
    assert "candidates.json: 9 candidates" in out


def test_config_errors_are_one_clear_message_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".mutbot.yml").write_text(
        "version: 1\ntargets: [x]\nload: {locustfile: l.py, users: many}\nsandbox: {memroy: 1g}\n"
    )
    assert main(["validate", "--repo", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    path = tmp_path / ".mutbot.yml"
    assert err == (
        f"mutbot: error: {path}: sandbox.memroy: unknown key; did you mean 'memory'? expected "
        "one of dockerfile, context, build, command, entrypoint, env, throwaway_env, "
        "local_command, port, health, cpus, memory, startup_timeout, build_timeout, network, "
        f"services, reset, compose, service\n{path}: load.users: expected a whole number, "
        "got 'many'\n"
    )


def test_missing_config_and_bad_candidates_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--repo", str(tmp_path)]) == 3
    assert "no config file; create .mutbot.yml" in capsys.readouterr().err
    project = make_repo(tmp_path / "repo")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"title": "x", "kind": "sideways", "diff": ""}]')
    assert main(["run", "--repo", str(project), "--mutations", str(bad), "--backend", "local"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"mutbot: error: {bad}: 0/kind: Input should be 'incremental' or")
    bad.write_text("[]")
    assert main(["run", "--repo", str(project), "--mutations", str(bad), "--backend", "local"]) == 3
    assert (
        capsys.readouterr().err == f"mutbot: error: {bad}: the list is empty; nothing to measure\n"
    )


def test_not_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".mutbot.yml").write_text((EXAMPLE / ".mutbot.yml").read_text())
    shutil.copytree(EXAMPLE / "loadtest", tmp_path / "loadtest")  # the config's files exist
    assert (
        main(
            [
                "run",
                "--repo",
                str(tmp_path),
                "--mutations",
                str(EXAMPLE / "candidates.json"),
                "--backend",
                "local",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 4
    )
    assert "not inside a git repository" in capsys.readouterr().err
