from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mutbot.errors import GitError, StageFailure
from mutbot.policy import DiffRules
from mutbot.worktree import Workspace
from testing.repos import git, make_repo

THREADS = """\
diff --git a/config/server.ini b/config/server.ini
--- a/config/server.ini
+++ b/config/server.ini
@@ -1,4 +1,4 @@
 [server]
 # Worker threads. 1 = plain single-threaded HTTPServer.
-threads = 1
+threads = 8
 # Entries in the in-memory LRU of computed prices. 0 = no cache.
"""

RULES = DiffRules(("config/*.ini", "Dockerfile"), (".github/**",), 20, 3)


def test_apply_happens_in_a_worktree_never_in_the_users_tree(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    before = (project / "config/server.ini").read_text()
    ws = Workspace(project)
    try:
        tree = ws.add("cand")
        ws.apply(tree, THREADS, RULES)
        assert "threads = 8" in (tree / "config/server.ini").read_text()
        assert (project / "config/server.ini").read_text() == before
        assert git(project, "status", "--porcelain") == ""
    finally:
        ws.close()
    assert not tree.exists()
    assert git(project, "worktree", "list").count("\n") == 1


def test_a_project_in_a_subfolder_takes_diffs_relative_to_that_folder(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "mono", subdir="services/pricing")
    ws = Workspace(project)
    try:
        assert ws.prefix == "services/pricing"
        tree = ws.add("cand")
        assert tree.name == "pricing"
        ws.apply(tree, THREADS, RULES)
        assert "threads = 8" in (tree / "config/server.ini").read_text()
        with pytest.raises(StageFailure) as info:
            ws.apply(ws.add("stale"), THREADS.replace("-threads = 1", "-threads = 4"), RULES)
        assert info.value.reason == "does not apply: patch failed: config/server.ini:1"
    finally:
        ws.close()


def test_a_diff_that_does_not_apply_is_a_stage_failure(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    ws = Workspace(project)
    try:
        tree = ws.add("cand")
        with pytest.raises(StageFailure) as info:
            ws.apply(tree, THREADS.replace("-threads = 1", "-threads = 4"), RULES)
        assert info.value.stage == "apply"
        assert info.value.reason == "does not apply: patch failed: config/server.ini:1"
        assert "threads = 1" in (tree / "config/server.ini").read_text()
    finally:
        ws.close()


def test_uncommitted_edits_are_noticed_and_not_used(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    (project / "config/server.ini").write_text("[server]\nthreads = 99\n")
    ws = Workspace(project)
    try:
        assert ws.uncommitted()
        tree = ws.add("base")
        assert "threads = 1" in (tree / "config/server.ini").read_text()
    finally:
        ws.close()


def test_dry_run_branch_holds_one_bot_commit_on_the_base(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    ws = Workspace(project)
    try:
        tree = ws.add("cand")
        ws.apply(tree, THREADS, RULES)
        sha = ws.commit_branch(tree, "mutbot/threads", "Serve from 8 threads\n")
    finally:
        ws.close()
    assert git(project, "rev-parse", "mutbot/threads").strip() == sha
    assert git(project, "rev-parse", "mutbot/threads~1").strip() == ws.base
    assert git(project, "log", "-1", "--format=%an <%ae>", sha).strip() == (
        "mutbot <mutbot@users.noreply.github.com>"
    )
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(project, "status", "--porcelain") == ""


def test_not_a_repository_or_no_commits(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not inside a git repository"):
        Workspace(tmp_path)
    git(tmp_path, "init", "--quiet")
    with pytest.raises(GitError, match="has no commits yet"):
        Workspace(tmp_path)


def test_export_copies_the_candidate_without_git_or_stray_files(tmp_path: Path) -> None:
    """What builds, tests and services see: no `.git` (whose config holds the checkout's
    token in Actions), no file git does not track, unless the candidate's diff names it."""
    repo = tmp_path / "mono"
    for name, text in {
        "services/api/config/server.ini": "[server]\nthreads = 1\n",
        "services/api/tests/test_app.py": "import unittest\n",
        "services/api/run.sh": "#!/bin/sh\n",
        "services/api/.gitignore": "*.log\n",
        "README.md": "top\n",
    }.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    (repo / "services/api/run.sh").chmod(0o755)
    (repo / "services/api/link").symlink_to("config/server.ini")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "initial")
    (repo / "services/api/secret.env").write_text("TOKEN=x\n")  # the user's: never copied
    ws = Workspace(repo / "services/api")
    try:
        tree = ws.add("cand")
        (tree / "config/extra.ini").write_text("[extra]\n")  # what its diff did
        (tree / "tests/test_app.py").unlink()
        (tree / "stray.txt").write_text("left by something\n")
        (tree / "server.log").write_text("ignored\n")
        copy = ws.export(tree, ("config/extra.ini", "tests/test_app.py"))
        files = sorted(
            p.relative_to(copy.parent.parent).as_posix() for p in copy.parent.parent.rglob("*")
        )
        assert files == [  # only the project folder: builds and services never leave it
            "services",
            "services/api",
            "services/api/.gitignore",
            "services/api/config",
            "services/api/config/extra.ini",
            "services/api/config/server.ini",
            "services/api/link",
            "services/api/run.sh",
        ]
        assert copy.name == "api" and (copy / "config/extra.ini").read_text() == "[extra]\n"
        assert os.access(copy / "run.sh", os.X_OK)
        assert os.readlink(copy / "link") == "config/server.ini"
        assert not any((p / ".git").exists() for p in (copy, *copy.parents))
        found = subprocess.run(["git", "rev-parse"], cwd=copy, capture_output=True)
        assert found.returncode != 0  # outside any repository
    finally:
        ws.close()
    assert not copy.exists()


def test_apply_judges_the_diff_before_touching_the_worktree(tmp_path: Path) -> None:
    """No caller can apply a diff the policy refuses: the rules are part of `apply`."""
    project = make_repo(tmp_path / "repo", subdir="services/pricing")
    ws = Workspace(project)
    try:
        tree = ws.add("cand")
        delete_ci = (
            "diff --git a/config/server.ini b/config/x.ini\nsimilarity index 100%\n"
            "rename from .github/workflows/ci.yml\nrename to config/x.ini\n"
        )
        with pytest.raises(StageFailure) as info:
            ws.apply(tree, delete_ci, RULES)
        assert info.value.stage == "policy"
        assert (tree / ".github/workflows/ci.yml").is_file()
        with pytest.raises(StageFailure) as info:
            ws.apply(tree, THREADS, DiffRules(("Dockerfile",), (), 20, 3))
        assert info.value.reason == "config/server.ini is not among the targets"
        assert git(tree, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""
    finally:
        ws.close()
