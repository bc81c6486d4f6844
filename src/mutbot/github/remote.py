"""Git edge for the bot: pushing branches through the checkout's remote (in Actions, `origin`
carries the workflow token that actions/checkout configured), and reading branch heads."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import git

from mutbot.errors import GitHubError

_CREDENTIALS = re.compile(r"//[^/@\s]+@")  # https://user:token@host: never in a message


class Remote:
    def __init__(self, repo_dir: Path, name: str = "origin") -> None:
        self.repo = git.Repo(repo_dir, search_parent_directories=True)
        self.name = name

    def head(self, branch: str) -> str | None:
        """The branch's commit on the remote, or None when it does not exist there."""
        out = self._git("ls-remote", self.name, f"refs/heads/{branch}")
        return out.split()[0] if out.strip() else None

    def push(self, sha: str, branch: str, expect: str | None) -> None:
        """Point the remote branch at `sha`, only if it is still at `expect` (None: absent), so
        two runs racing for one branch cannot overwrite each other's commit."""
        lease = f"--force-with-lease=refs/heads/{branch}:{expect or ''}"
        self._git("push", "--quiet", lease, self.name, f"{sha}:refs/heads/{branch}")

    def delete(self, branch: str) -> None:
        if self.head(branch) is not None:
            self._git("push", "--quiet", self.name, "--delete", f"refs/heads/{branch}")

    def commit_of(self, name: str) -> str:
        """The commit a name (FETCH_HEAD, a branch) points at here."""
        return self._git("rev-parse", "--verify", f"{name}^{{commit}}").strip()

    def fetch(self, ref: str) -> None:
        self._git("fetch", "--quiet", self.name, ref)

    def commit_time(self, sha: str, branch: str) -> str:
        """When a commit of the remote branch was made (a merge commit: when it was merged)."""
        try:
            stamp = int(self._git("log", "-1", "--format=%ct", sha).strip())
        except GitHubError:  # not here yet: fetch the branch it was merged into, once
            self.fetch(f"refs/heads/{branch}")
            stamp = int(self._git("log", "-1", "--format=%ct", sha).strip())
        return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")

    def _git(self, *args: str) -> str:
        try:
            return str(self.repo.git.execute(["git", *args]))
        except git.GitCommandError as exc:
            said = " ".join(str(exc.stderr or "").split()).removeprefix("stderr: ").strip("'")
            said = _CREDENTIALS.sub("//***@", said)
            raise GitHubError(f"git {args[0]} to {self.name} failed: {said[:300]}") from None
