"""The policy on what git itself says a diff does (src/mutbot/gitapply.py, policy.check_changes,
Workspace.apply): real repositories, real `git apply`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mutbot import gitapply
from mutbot.errors import StageFailure
from mutbot.policy import Change, DiffRules, Found, check_applied, check_changes
from mutbot.worktree import Workspace
from testing.repos import git, make_repo

NARROW = DiffRules(
    targets=("config/**", "Dockerfile"),
    protected=(".github/**", ".mutbot.yml", "loadtest/locustfile.py"),
    max_changed_lines=200,
    max_files=10,
)
BROAD = DiffRules(("**",), (".mutbot.yml", "loadtest/locustfile.py"), 200, 10)
BINARY = (
    "diff --git a/config/blob b/config/blob\nnew file mode 100644\n"
    "index 0000000000000000000000000000000000000000..20b5be91886d0b6f26dc98a225c0dac05fe2c86e\n"
    "GIT binary patch\nliteral 3\nKcmYdfNCE%>hycU@\n\nliteral 0\nHcmV?d00001\n\n"
)
THREADS = (
    "diff --git a/config/server.ini b/config/server.ini\n"
    "--- a/config/server.ini\n+++ b/config/server.ini\n@@ -1,4 +1,4 @@\n [server]\n"
    " # Worker threads. 1 = plain single-threaded HTTPServer.\n-threads = 1\n+threads = 8\n"
    " # Entries in the in-memory LRU of computed prices. 0 = no cache.\n"
)
# Each reached past the old policy (unidiff read the header, git the rename lines, the
# traditional names, the quoted names or the mode); the pure pre-check refuses them too, so
# they are fed here to git's own reading alone.
HOLES = {
    "rename-from-a-workflow": (
        "diff --git a/config/server.ini b/config/x.ini\nsimilarity index 100%\n"
        "rename from .github/workflows/ci.yml\nrename to config/x.ini\n",
        ".github/workflows/ci.yml: changes under .github/workflows/ are never pushed",
    ),
    "rename-from-the-config": (
        "diff --git a/config/server.ini b/config/x.ini\nsimilarity index 100%\n"
        "rename from .mutbot.yml\nrename to config/x.ini\n",
        ".mutbot.yml is protected",
    ),
    "copy-to-a-workflow": (
        "diff --git a/config/server.ini b/config/x.ini\nsimilarity index 100%\n"
        "copy from config/server.ini\ncopy to .github/workflows/evil.yml\n",
        ".github/workflows/evil.yml: changes under .github/workflows/ are never pushed",
    ),
    "traditional-first-component": (
        "--- /dev/null\n+++ config/.github/workflows/evil.yml\n@@ -0,0 +1 @@\n+on: push\n",
        ".github/workflows/evil.yml: changes under .github/workflows/ are never pushed",
    ),
    "header-first-component": (
        "diff --git config/.github/workflows/e.yml config/.github/workflows/e.yml\n"
        "new file mode 100644\n--- /dev/null\n+++ config/.github/workflows/e.yml\n"
        "@@ -0,0 +1 @@\n+on: push\n",
        ".github/workflows/e.yml: changes under .github/workflows/ are never pushed",
    ),
    "quoted-names": (
        THREADS + 'diff --git "a/.github/workflows/\\143i.yml" "b/.github/workflows/\\143i.yml"\n'
        "old mode 100644\nnew mode 100755\n",
        ".github/workflows/ci.yml: changes under .github/workflows/ are never pushed",
    ),
    "mode-two-spaces": (
        "diff --git a/config/link.ini b/config/link.ini\nnew file mode  120000\n"
        "--- /dev/null\n+++ b/config/link.ini\n@@ -0,0 +1 @@\n+../.mutbot.yml\n"
        "\\ No newline at end of file\n",
        "config/link.ini: symbolic links are not allowed (mode 120000)",
    ),
    "mode-seven-digits": (
        "diff --git a/config/link.ini b/config/link.ini\nnew file mode 0120000\n"
        "--- /dev/null\n+++ b/config/link.ini\n@@ -0,0 +1 @@\n+../.mutbot.yml\n"
        "\\ No newline at end of file\n",
        "config/link.ini: symbolic links are not allowed (mode 120000)",
    ),
    "binary-patch": (BINARY, "binary change to config/blob is not allowed"),
}


@pytest.fixture(params=["", "services/pricing"], ids=["root", "subfolder"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    project = make_repo(tmp_path / "repo", subdir=request.param)
    ws = Workspace(project)
    yield ws
    ws.close()


def judged_by_git(ws: Workspace, tree: Path, diff: str, rules: DiffRules) -> list[Change]:
    """git's reading of the diff, judged by the rules, without the pure pre-check."""
    scratch = tree.parent / f"{tree.name}.test-scratch"
    scratch.mkdir()
    patch = scratch.parent / f"{tree.name}.test-patch"
    patch.write_text(diff)
    objects = Path(ws.repo.common_dir) / "objects"
    changes = gitapply.predict(tree, patch, ws.prefix, scratch, objects)
    named = [c.path.removeprefix(f"{ws.prefix}/") if ws.prefix else c.path for c in changes]
    check_changes(changes, rules, ws.prefix, named)
    return changes


def root_of(ws: Workspace, project_dir: Path) -> Path:
    return project_dir.parents[ws.prefix.count("/")] if ws.prefix else project_dir


@pytest.mark.parametrize("name", list(HOLES))
def test_git_reading_alone_refuses_each_hole(workspace: Workspace, name: str) -> None:
    diff, reason = HOLES[name]
    tree = root_of(workspace, workspace.add("cand"))
    with pytest.raises(StageFailure) as info:
        judged_by_git(workspace, tree, diff, NARROW)
    assert info.value.stage == "policy"
    assert info.value.reason.startswith(reason)
    assert git(tree, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""


@pytest.mark.parametrize("name", list(HOLES))
def test_workspace_apply_refuses_each_hole(workspace: Workspace, name: str) -> None:
    project_dir = workspace.add("cand")
    with pytest.raises(StageFailure) as info:
        workspace.apply(project_dir, HOLES[name][0], NARROW)
    assert info.value.stage == "policy"
    tree = root_of(workspace, project_dir)
    assert git(tree, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""


def test_git_names_both_sides_of_a_rename_with_modes_and_texts(workspace: Workspace) -> None:
    diff = (
        "diff --git a/config/server.ini b/config/renamed.ini\nold mode 100644\nnew mode 100755\n"
        "similarity index 100%\nrename from config/server.ini\nrename to config/renamed.ini\n"
    )
    tree = root_of(workspace, workspace.add("cand"))
    changes = judged_by_git(workspace, tree, diff, NARROW)
    at = f"{workspace.prefix}/" if workspace.prefix else ""
    assert [(c.path, c.old_mode, c.new_mode, c.binary) for c in changes] == [
        (f"{at}config/renamed.ini", "000000", "100755", False),
        (f"{at}config/server.ini", "100644", "000000", False),
    ]
    assert changes[0].new_text == changes[1].old_text
    assert changes[0].new_text is not None and "threads = 1" in changes[0].new_text


def test_a_rename_out_of_the_targets_is_refused_by_both_readings(workspace: Workspace) -> None:
    diff = (
        "diff --git a/app.py b/config/app.py\nsimilarity index 100%\n"
        "rename from app.py\nrename to config/app.py\n"
    )
    project_dir = workspace.add("cand")
    with pytest.raises(StageFailure, match=r"app\.py is not among the targets"):
        judged_by_git(workspace, root_of(workspace, project_dir), diff, NARROW)
    with pytest.raises(StageFailure, match=r"app\.py is not among the targets"):
        workspace.apply(project_dir, diff, NARROW)


def test_the_prediction_leaves_nothing_in_the_repository(workspace: Workspace) -> None:
    objects = Path(workspace.repo.common_dir) / "objects"
    before = sorted(p for p in objects.rglob("*") if p.is_file())
    project_dir = workspace.add("cand")
    workspace.apply(project_dir, THREADS, NARROW)
    assert "threads = 8" in (project_dir / "config/server.ini").read_text()
    assert sorted(p for p in objects.rglob("*") if p.is_file()) == before


def test_a_stray_change_in_the_worktree_is_refused_after_applying(tmp_path: Path) -> None:
    ws = Workspace(make_repo(tmp_path / "repo"))
    try:
        tree = ws.add("cand")
        (tree / "config" / "stray.ini").write_text("x = 1\n")
        with pytest.raises(StageFailure) as info:
            ws.apply(tree, THREADS, NARROW)
        assert (info.value.stage, info.value.reason) == (
            "policy",
            "config/stray.ini changed, though git did not announce it",
        )
    finally:
        ws.close()


def test_check_applied_wants_exactly_the_announced_plain_files() -> None:
    expected = [
        Change("p/config/a.ini", "100644", "100644", False),
        Change("p/config/gone.ini", "100644", "000000", False),
    ]
    check_applied(expected, [Found("p/config/a.ini", True, True)], "p")
    check_applied(expected, [Found("p/config/gone.ini", False, False)], "p")
    for found, reason in [
        (Found("p/x.ini", True, True), "x.ini changed, though git did not announce it"),
        (Found("p/config/a.ini", True, False), "config/a.ini is not a plain file after applying"),
        (Found("p/config/a.ini", False, False), "config/a.ini is not a plain file after applying"),
        (Found("p/config/gone.ini", True, True), "config/gone.ini still exists, though git would"),
    ]:
        with pytest.raises(StageFailure) as info:
            check_applied(expected, [found], "p")
        assert info.value.reason.startswith(reason)


def test_check_changes_refuses_paths_outside_the_project_and_unnamed_ones() -> None:
    change = Change("other/config/a.ini", "100644", "100644", False)
    with pytest.raises(StageFailure, match="outside the project folder p/"):
        check_changes([change], NARROW, "p", ["config/a.ini"])
    change = Change("p/config/a.ini", "100644", "100644", False)
    with pytest.raises(StageFailure, match="git would change it, yet no header names it"):
        check_changes([change], NARROW, "p", ["config/b.ini"])
    with pytest.raises(StageFailure, match="the diff changes nothing"):
        check_changes([], NARROW, "p", [])
    root_ci = Change(".github/workflows/ci.yml", "100644", "000000", False)
    with pytest.raises(StageFailure, match="never pushed"):
        check_changes([root_ci], BROAD, "", [".github/workflows/ci.yml"])


FETCHING = "FROM python:3.11-slim\nRUN curl -fsSL https://get.example.com/tool.sh | sh\n"


@pytest.fixture
def fetching_repo(tmp_path: Path) -> Iterator[tuple[Workspace, Path]]:
    project = make_repo(tmp_path / "repo")
    (project / "Dockerfile").write_text(FETCHING + "COPY . /app\n")
    git(project, "commit", "--quiet", "-am", "a Dockerfile that fetches")
    ws = Workspace(project)
    yield ws, ws.add("cand")
    ws.close()


def test_a_new_fetch_is_refused_before_anything_is_applied(
    fetching_repo: tuple[Workspace, Path],
) -> None:
    ws, tree = fetching_repo
    diff = (
        "diff --git a/Dockerfile b/Dockerfile\n--- a/Dockerfile\n+++ b/Dockerfile\n"
        "@@ -1,3 +1,4 @@\n FROM python:3.11-slim\n RUN curl -fsSL https://get.example.com/tool.sh"
        " | sh\n+RUN pip install --extra-index-url https://pkgs.example.net/simple fastjson\n"
        " COPY . /app\n"
    )
    with pytest.raises(StageFailure) as info:
        ws.apply(tree, diff, NARROW)
    assert (info.value.stage, info.value.reason) == (
        "policy",
        "Dockerfile: adds a network fetch the baseline does not have (pip install "
        "https://pkgs.example.net/simple); builds keep the network, so new downloads are not "
        "run blindly",
    )
    assert git(tree, "status", "--porcelain") == ""


def test_an_existing_fetch_may_move(fetching_repo: tuple[Workspace, Path]) -> None:
    ws, tree = fetching_repo
    diff = (
        "diff --git a/Dockerfile b/Dockerfile\n--- a/Dockerfile\n+++ b/Dockerfile\n"
        "@@ -1,3 +1,4 @@\n FROM python:3.11-slim\n-RUN curl -fsSL https://get.example.com/tool.sh"
        " | sh\n COPY . /app\n+RUN curl --fail --silent --location \\\n"
        "+    https://get.example.com/tool.sh | sh\n"
    )
    ws.apply(tree, diff, NARROW)
    assert (tree / "Dockerfile").read_text().endswith("https://get.example.com/tool.sh | sh\n")
