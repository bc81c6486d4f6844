"""Whatever mutbot writes under `.mutbot/` in a project, `git status` stays as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.cli import main
from mutbot.ledger.model import Entry
from mutbot.ledger.store import LOCAL_PATH, FileLedger
from mutbot.statedir import IGNORE_ALL, make_folder
from testing.repos import QUICK_LOAD, edit_config, git, make_repo, write_candidates

STALE = "Raise threads (stale context)"
FORBIDDEN = "Cache the CI pipeline"


def test_the_folder_gets_its_gitignore_first(tmp_path: Path) -> None:
    runs = make_folder(tmp_path / ".mutbot" / "runs" / "1")
    assert runs.is_dir()
    assert (tmp_path / ".mutbot" / ".gitignore").read_bytes() == IGNORE_ALL
    (tmp_path / ".mutbot" / ".gitignore").write_text("runs/\n")  # the user's own is kept
    make_folder(tmp_path / ".mutbot" / "runs" / "2")
    assert (tmp_path / ".mutbot" / ".gitignore").read_text() == "runs/\n"
    make_folder(tmp_path / "results")
    assert not (tmp_path / ".gitignore").exists()  # only .mutbot folders get one


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    project = make_repo(tmp_path / "repo")
    edit_config(project, QUICK_LOAD)
    return project


def test_a_run_with_its_outputs_elsewhere_still_leaves_git_status_clean(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ledger appends to .mutbot/ledger.jsonl: on the old code a run with --out left
    `?? .mutbot/` behind. The run ends saying how to see it as a page, and that command works."""
    mutations = write_candidates(tmp_path / "c.json", [STALE, FORBIDDEN])
    for out in (["--out", str(tmp_path / "out")], []):
        args = ["run", "--repo", str(repo), "--mutations", str(mutations), "--backend", "local"]
        assert main(args + out) == 0
        assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
        if out:
            said = capsys.readouterr().out
            page = f"as a page: mutbot report {(tmp_path / 'out').resolve()}/results.json"
            assert page in said
            assert main(page.removeprefix("as a page: mutbot ").split()) == 0
            assert (tmp_path / "out" / "report.html").stat().st_size > 0
    assert len(list((repo / ".mutbot" / "runs").glob("*/results.json"))) == 1
    assert (repo / LOCAL_PATH).stat().st_size > 0


def test_a_ledger_append_leaves_git_status_clean(repo: Path) -> None:
    FileLedger(repo / LOCAL_PATH).append([Entry(event="policy", fingerprint="a" * 12)])
    assert (repo / LOCAL_PATH).exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_propose_into_the_mutbot_folder_leaves_git_status_clean(repo: Path) -> None:
    """On the old code writing the candidates into a new .mutbot/ crashed (no such folder)."""
    out = repo / ".mutbot" / "candidates.json"
    args = ["propose", "--repo", str(repo), "--proposer", "search", "--out", str(out)]
    assert main(args) == 0
    assert out.exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
