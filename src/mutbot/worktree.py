"""Git edge: worktrees of the base commit, applying diffs there, and dry-run branches.

The user's own working tree is never touched: every candidate lives in a detached worktree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import git

from mutbot.errors import GitError, StageFailure

BOT_IDENTITY = {
    "GIT_AUTHOR_NAME": "mutbot",
    "GIT_AUTHOR_EMAIL": "mutbot@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "mutbot",
    "GIT_COMMITTER_EMAIL": "mutbot@users.noreply.github.com",
}


class Workspace:
    """Worktrees of one base commit under a private temporary folder; `close` removes them all."""

    def __init__(self, project: Path, base: str | None = None) -> None:
        try:
            self.repo = git.Repo(project, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise GitError(
                f"{project}: not inside a git repository; run `git init` and commit"
            ) from exc
        top = Path(self.repo.working_tree_dir or project).resolve()
        self.prefix = project.resolve().relative_to(top).as_posix()
        if self.prefix == ".":
            self.prefix = ""
        try:
            self.base = self.repo.commit(base).hexsha if base else self.repo.head.commit.hexsha
        except ValueError as exc:
            raise GitError(f"{top}: the repository has no commits yet; commit first") from exc
        except git.BadName as exc:
            raise GitError(f"{top}: no commit {base}; fetch it first") from exc
        self._root = Path(tempfile.mkdtemp(prefix="mutbot-wt-"))
        self._trees: list[Path] = []

    def uncommitted(self) -> bool:
        """True when the project folder differs from the base commit (those edits are not used)."""
        return self.repo.is_dirty(untracked_files=True, path=self.prefix or None)

    def add(self, name: str) -> Path:
        """A fresh detached worktree of the base commit; returns the project folder inside it."""
        tree = self._root / name
        try:
            self.repo.git.worktree("add", "--detach", "--quiet", str(tree), self.base)
        except git.GitCommandError as exc:
            raise GitError(f"cannot create a worktree: {_first_line(exc.stderr)}") from exc
        self._trees.append(tree)
        return tree / self.prefix if self.prefix else tree

    def apply(self, project_dir: Path, diff: str) -> None:
        """Apply a diff whose paths are relative to the project folder, or StageFailure('apply')."""
        tree = self._tree_of(project_dir)
        patch = self._root / f"{tree.name}.patch"
        patch.write_text(diff if diff.endswith("\n") else diff + "\n", encoding="utf-8")
        args = ["apply", "--whitespace=nowarn"]
        if self.prefix:
            args.append(f"--directory={self.prefix}")
        try:
            git.Git(tree).execute(["git", *args, "--check", str(patch)])
            git.Git(tree).execute(["git", *args, str(patch)])
        except git.GitCommandError as exc:
            reason = _first_line(exc.stderr)
            if self.prefix:  # git names paths from the repository root, the diff from the project
                reason = reason.replace(f"{self.prefix}/", "")
            raise StageFailure("apply", f"does not apply: {reason}") from exc

    def commit(self, project_dir: Path, message: str) -> str:
        """Commit the worktree's changes as mutbot, on top of the base; returns the sha."""
        tree = git.Repo(self._tree_of(project_dir))
        env = {**os.environ, **BOT_IDENTITY}
        try:
            tree.git.add("--all", ".")
            tree.git.commit("--quiet", "--no-verify", "-m", message, env=env)
        except git.GitCommandError as exc:
            raise GitError(f"cannot commit: {_first_line(exc.stderr)}") from exc
        return str(tree.head.commit.hexsha)

    def commit_branch(self, project_dir: Path, branch: str, message: str) -> str:
        """Commit the worktree's changes and point `branch` at that commit (dry run)."""
        sha = self.commit(project_dir, message)
        try:
            self.repo.git.branch("--force", branch, sha)
        except git.GitCommandError as exc:
            raise GitError(f"cannot create branch {branch}: {_first_line(exc.stderr)}") from exc
        return sha

    def close(self) -> None:
        for tree in self._trees:
            # a tree git cannot remove is deleted below and forgotten by prune
            with contextlib.suppress(git.GitCommandError):
                self.repo.git.worktree("remove", "--force", str(tree))
        self._trees.clear()
        shutil.rmtree(self._root, ignore_errors=True)
        with contextlib.suppress(git.GitCommandError):
            self.repo.git.worktree("prune")

    def _tree_of(self, project_dir: Path) -> Path:
        for tree in self._trees:
            if project_dir == tree or tree in project_dir.parents:
                return tree
        raise GitError(f"{project_dir} is not a worktree of this run")


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        line = line.strip().removeprefix("stderr: ").strip("'").strip()
        if line:
            return line.removeprefix("error: ")
    return "git failed"
