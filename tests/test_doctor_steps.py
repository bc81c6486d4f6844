"""`mutbot doctor`'s first steps, which need no Docker: the config, git, and choosing a
sandbox; each failure is one line, a diagnosis and the exit code of its error class."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.cli import main
from testing.repos import EXAMPLE, edit_config, make_repo


def doctor(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", "--repo", str(project), *args])
    return code, capsys.readouterr().out


def test_an_invalid_config_names_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_repo(tmp_path / "repo")
    edit_config(project, {"port: 8080": "port: 80800", "memory: 256m": "memory: 256"})
    code, out = doctor(project, capsys)
    assert code == 3
    lines = out.splitlines()
    assert lines[1].startswith("✗ config ") and ".mutbot.yml: sandbox.port: " in lines[1]
    assert any("sandbox.memory" in line and "did you mean 256m?" in line for line in lines[2:])
    assert "· sandbox       -  not run" in lines
    assert "→ `mutbot validate` checks the file; docs/config.md describes every key" in lines


def test_a_folder_outside_git_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "plain"
    make_repo(tmp_path / "repo")
    project.mkdir()
    for name in (".mutbot.yml", "Dockerfile"):
        (project / name).write_text((tmp_path / "repo" / name).read_text())
    (project / "loadtest").mkdir()
    (project / "loadtest" / "locustfile.py").write_text(
        (EXAMPLE / "loadtest" / "locustfile.py").read_text()
    )
    code, out = doctor(project, capsys)
    assert code == 4
    assert "not inside a git repository; run `git init` and commit" in out


def test_without_docker_a_config_the_local_backend_cannot_run_asks_for_docker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_docker: None
) -> None:
    project = make_repo(tmp_path / "repo")
    edit_config(project, {"  local_command: python app.py": ""})
    code, out = doctor(project, capsys)
    assert code == 5
    assert (
        "no Docker engine answers, and the local backend cannot run this config: the local "
        "backend needs sandbox.local_command"
    ) in out
    assert (
        "→ start Docker: this config needs it (docs/sandbox.md says what each backend runs)" in out
    )
    assert not (project / ".mutbot" / "doctor" / "logs").exists()


def test_asking_for_docker_by_name_when_none_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_docker: None
) -> None:
    code, out = doctor(make_repo(tmp_path / "repo"), capsys, "--backend", "docker")
    assert code == 5
    assert "✗ sandbox" in out and "backend 'docker' is not usable here: no Docker engine" in out
    assert "→ start Docker (or try the weaker local backend: --backend local" in out


@pytest.mark.slow
def test_without_docker_it_falls_back_to_the_local_backend_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_docker: None
) -> None:
    code, out = doctor(make_repo(tmp_path / "repo"), capsys)
    assert code == 0, out
    assert "local: NO Docker engine answers (weaker isolation, docs/sandbox.md)" in out
    assert out.splitlines()[-1].startswith("all green in ")
