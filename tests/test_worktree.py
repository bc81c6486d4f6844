from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.errors import GitError, StageFailure
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


def test_apply_happens_in_a_worktree_never_in_the_users_tree(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    before = (project / "config/server.ini").read_text()
    ws = Workspace(project)
    try:
        tree = ws.add("cand")
        ws.apply(tree, THREADS)
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
        ws.apply(tree, THREADS)
        assert "threads = 8" in (tree / "config/server.ini").read_text()
        with pytest.raises(StageFailure) as info:
            ws.apply(ws.add("stale"), THREADS.replace("-threads = 1", "-threads = 4"))
        assert info.value.reason == "does not apply: patch failed: config/server.ini:1"
    finally:
        ws.close()


def test_a_diff_that_does_not_apply_is_a_stage_failure(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    ws = Workspace(project)
    try:
        tree = ws.add("cand")
        with pytest.raises(StageFailure) as info:
            ws.apply(tree, THREADS.replace("-threads = 1", "-threads = 4"))
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
        ws.apply(tree, THREADS)
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
