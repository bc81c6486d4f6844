from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mutbot.edits import EditError, diff_files, replace_once, unified_diff
from testing.repos import git


def applies(tmp_path: Path, files: dict[str, str], diff: str) -> None:
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    git(tmp_path, "init", "--quiet")
    subprocess.run(
        ["git", "apply", "--check", "-"], cwd=tmp_path, input=diff, text=True, check=True
    )


def test_replace_once_names_the_problem() -> None:
    assert replace_once("a = 1\nb = 1\n", "a = 1", "a = 2", "x.ini") == "a = 2\nb = 1\n"
    with pytest.raises(EditError, match=r"x.ini: the search text was not found: 'c = 1'"):
        replace_once("a = 1\n", "c = 1", "c = 2", "x.ini")
    with pytest.raises(EditError, match="occurs 2 times; include more context"):
        replace_once("a = 1\nb = 1\n", "= 1", "= 2", "x.ini")
    with pytest.raises(EditError, match="empty"):
        replace_once("a", "", "b", "x.ini")


def test_unified_diff_applies_with_git(tmp_path: Path) -> None:
    old = {"config/server.ini": "[server]\nthreads = 1\n# end\n", "Dockerfile": "FROM x\nCMD y"}
    new = {"config/server.ini": "[server]\nthreads = 8\n# end\n", "Dockerfile": "FROM x\nCMD z"}
    diff = diff_files(old, new)
    assert diff.startswith("diff --git a/Dockerfile b/Dockerfile\n")
    assert "\\ No newline at end of file" in diff
    applies(tmp_path, old, diff)


def test_unchanged_file_gives_no_diff() -> None:
    assert unified_diff("a", "same\n", "same\n") == ""
    assert diff_files({"a": "x\n"}, {"a": "x\n"}) == ""
