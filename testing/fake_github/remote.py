"""The git side of the fake: a bare repository standing for the GitHub remote, a clone
pushing branches to it, and the questions the fake asks it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from testing.repos import git


def make_remote(root: Path, default_branch: str = "main") -> tuple[Path, Path]:
    """A bare repository standing for the GitHub remote, and a clone to push from, with one
    commit on the default branch. Returns (remote, clone)."""
    remote, clone = root / "remote.git", root / "clone"
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(remote))
    git(root, "clone", "--quiet", str(remote), str(clone))
    git(clone, "checkout", "--quiet", "-b", default_branch)
    (clone / "README.md").write_text("hello\n")
    git(clone, "add", "README.md")
    git(clone, "commit", "--quiet", "-m", "initial")
    git(clone, "push", "--quiet", "origin", default_branch)
    return remote, clone


def push_branch(clone: Path, branch: str, *, base: str = "main", change: str = "") -> str:
    """Commits a change on `branch` (made from `base`) and pushes it; returns its sha."""
    git(clone, "fetch", "--quiet", "origin")
    git(clone, "checkout", "--quiet", "-B", branch, f"origin/{base}")
    (clone / f"{branch.replace('/', '-')}.txt").write_text(change or branch)
    git(clone, "add", "--all")
    git(clone, "commit", "--quiet", "-m", f"change on {branch}")
    git(clone, "push", "--quiet", "--force", "origin", branch)
    return git(clone, "rev-parse", "HEAD").strip()


def branch_sha(git_dir: Path, branch: str) -> str:
    """The commit `branch` points at, "" when there is no such branch."""
    ref = f"refs/heads/{branch}^{{commit}}"
    command = ["git", "--git-dir", str(git_dir), "rev-parse", "--verify", "--quiet", ref]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def is_ancestor(git_dir: Path, commit: str, of: str) -> bool:
    command = ["git", "--git-dir", str(git_dir), "merge-base", "--is-ancestor", commit, of]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0
