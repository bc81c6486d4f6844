"""Git edge: worktrees of the base commit, applying diffs there, and dry-run branches.

The user's own working tree is never touched: every candidate lives in a detached worktree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import git

from mutbot import gitapply
from mutbot.errors import GitError, StageFailure
from mutbot.policy import Change, DiffRules, check_applied, check_changes, check_diff
from mutbot.reaper import owned_folder

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
        # both folders name this process as their owner, so the reaper can remove them (and
        # prune the worktrees) should the run be killed; the copies must be reachable by the
        # unprivileged user the local backend runs services as, the worktrees must not
        self._root = owned_folder("mutbot-wt-", repo=Path(self.repo.common_dir).resolve())
        self._copies = owned_folder("mutbot-copy-", mode=0o711)
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

    def apply(
        self,
        project_dir: Path,
        diff: str,
        rules: DiffRules,
        guard: Callable[[Sequence[Change]], None] | None = None,
    ) -> None:
        """Apply a diff whose paths are relative to the project folder, once the policy has
        judged both the diff and what git itself says applying it would change (and `guard`,
        if given, the files on both sides, as git will write them).

        StageFailure('policy') when the rules forbid it, StageFailure('apply') when it does not
        apply."""
        summary = check_diff(diff, rules)
        tree = self._tree_of(project_dir)
        patch = self._root / f"{tree.name}.patch"
        patch.write_text(diff if diff.endswith("\n") else diff + "\n", encoding="utf-8")
        scratch = self._root / f"{tree.name}.scratch"  # removed below, whatever happens
        scratch.mkdir()
        objects = Path(self.repo.common_dir) / "objects"
        try:
            changes = gitapply.predict(tree, patch, self.prefix, scratch, objects)
            check_changes(changes, rules, self.prefix, summary.files)
            if guard is not None:
                guard(changes)
            gitapply.apply(tree, patch, self.prefix)
            check_applied(changes, gitapply.found(tree), self.prefix)
        except gitapply.ApplyFailed as exc:
            reason = exc.reason
            if self.prefix:  # git names paths from the repository root, the diff from the project
                reason = reason.replace(f"{self.prefix}/", "")
            raise StageFailure("apply", f"does not apply: {reason}") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def commit(self, project_dir: Path, message: str) -> str:
        """Commit the worktree's changes as mutbot, on top of the base; returns the sha."""
        env = {**os.environ, **BOT_IDENTITY}
        # closed at once: reading the head starts a `git cat-file` that would outlive the call
        with git.Repo(self._tree_of(project_dir)) as tree:
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
        shutil.rmtree(self._copies, ignore_errors=True)
        with contextlib.suppress(git.GitCommandError):
            self.repo.git.worktree("prune")
        self.repo.close()  # its `git cat-file` helpers, started by reading commits

    def export(self, project_dir: Path, diff_files: tuple[str, ...] = ()) -> Path:
        """A copy of the candidate, outside any repository and without `.git`: what builds,
        tests and services see. It holds the tracked files and the files its diff names
        (`diff_files`, relative to the project folder: new files are not tracked), never any
        other untracked file. Returns the project folder inside the copy."""
        tree = self._tree_of(project_dir)
        within = ("--", self.prefix) if self.prefix else ()  # the config keeps builds inside
        listed = self._ls_files(tree, "--cached", *within)
        gone = set(self._ls_files(tree, "--deleted", *within))
        listed += [f"{self.prefix}/{name}" if self.prefix else name for name in diff_files]
        copy = self._copies / tree.name
        shutil.rmtree(copy, ignore_errors=True)
        copy.mkdir()
        for name in dict.fromkeys(listed):
            source, target = tree / name, copy / name
            if name in gone or {".git", ".."} & set(Path(name).parts):
                continue
            if source.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(os.readlink(source))
            elif source.is_file():  # a submodule is a folder: not copied, as with `git archive`
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target, follow_symlinks=False)
        return copy / self.prefix if self.prefix else copy

    def _ls_files(self, tree: Path, *args: str) -> list[str]:
        try:
            out = git.Git(tree).execute(
                ["git", "ls-files", "-z", *args], strip_newline_in_stdout=False
            )
        except git.GitCommandError as exc:
            raise GitError(f"cannot list the candidate's files: {_first_line(exc.stderr)}") from exc
        return [name for name in str(out).split("\0") if name]

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
