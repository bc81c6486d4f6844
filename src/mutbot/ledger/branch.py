"""The ledger on a dedicated branch of the repository (`mutbot/ledger`), so it survives
ephemeral runners and every append is a readable commit.

Appends are built with git plumbing (hash-object, mktree, commit-tree) on top of the fetched
head, never in the user's checkout or index, and pushed without force: when another run pushed
first, the push is refused as non-fast-forward and the append is rebuilt on the new head."""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import git

from mutbot.errors import GitError, GitHubError
from mutbot.ledger.model import Entry, dump, parse
from mutbot.worktree import BOT_IDENTITY

TRIES = 10
_CREDENTIALS = re.compile(r"//[^/@\s]+@")  # https://user:token@host: never in a message
_ABSENT = "couldn't find remote ref"
# another run won the race (or held the ref's lock): fetch again and rebuild
_RACE = re.compile(r"non-fast-forward|fetch first|cannot lock ref|failed to lock|failed to update")


class BranchLedger:
    def __init__(
        self,
        repo_dir: Path,
        remote: str = "origin",
        branch: str = "mutbot/ledger",
        path: str = "ledger.jsonl",
    ) -> None:
        if not path or "/" in path:
            raise GitError(f"ledger path must be a file name at the branch's root, got {path!r}")
        try:
            self.repo = git.Repo(repo_dir, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"{repo_dir} is not inside a git repository") from None
        self.remote, self.branch, self.path = remote, branch, path
        self.where = f"{remote}:{branch}:{path}"
        self.damaged = 0
        self.newer = 0

    def read(self) -> list[Entry]:
        head = self._fetch()
        parsed = parse(self._file(head) if head else b"")
        self.damaged, self.newer = parsed.damaged, parsed.newer
        return parsed.entries

    def append(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        payload = dump(entries)
        for attempt in range(TRIES):
            head = self._fetch()
            commit = self._commit(head, payload, len(entries))
            if self._push(commit):
                return
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # let the other run finish
        raise GitHubError(
            f"could not append to the ledger {self.where}: the branch kept moving "
            f"({TRIES} tries); run again"
        )

    def _fetch(self) -> str | None:
        """The remote branch's head, fetched, or None when the branch does not exist yet."""
        ref = f"refs/heads/{self.branch}"
        try:
            self.repo.git.execute(["git", "fetch", "--quiet", "--no-tags", self.remote, ref])
        except git.GitCommandError as exc:
            if _ABSENT in str(exc.stderr):
                return None
            raise GitHubError(f"git fetch of {self.where} failed: {_said(exc)}") from None
        return self._git("rev-parse", "--verify", "FETCH_HEAD^{commit}").strip()

    def _file(self, head: str) -> bytes:
        if not self._entry(head):
            return b""
        out = self.repo.git.execute(
            ["git", "cat-file", "blob", f"{head}:{self.path}"],
            stdout_as_string=False,
            strip_newline_in_stdout=False,
        )
        assert isinstance(out, bytes)
        return out

    def _entry(self, head: str) -> str:
        """The ledger file's line in the head's root tree ('' when absent)."""
        return self._git("ls-tree", head, "--", self.path).strip()

    def _commit(self, head: str | None, payload: bytes, count: int) -> str:
        old = self._file(head) if head else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"  # a hand-edited file without its last newline
        blob = self._git("hash-object", "-w", "--stdin", stdin=old + payload).strip()
        # keep whatever else lives on the branch; replace only the ledger file
        rows = self._git("ls-tree", head).splitlines() if head else []
        rows = [r for r in rows if r.split("\t", 1)[-1] != self.path]
        rows.append(f"100644 blob {blob}\t{self.path}")
        tree = self._git("mktree", stdin=("\n".join(rows) + "\n").encode()).strip()
        noun = "entry" if count == 1 else "entries"
        args = ["commit-tree", tree, "-m", f"mutbot ledger: {count} {noun}"]
        if head:
            args += ["-p", head]
        return self._git(*args, env={**os.environ, **BOT_IDENTITY}).strip()

    def _push(self, commit: str) -> bool:
        """True when pushed; False when another run moved the branch first."""
        refspec = f"{commit}:refs/heads/{self.branch}"
        try:
            self.repo.git.execute(["git", "push", "--quiet", "--porcelain", self.remote, refspec])
        except git.GitCommandError as exc:
            if _RACE.search(f"{exc.stdout} {exc.stderr}"):
                return False
            raise GitHubError(f"git push of {self.where} failed: {_said(exc)}") from None
        return True

    def _git(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> str:
        try:
            if stdin is None:
                return str(self.repo.git.execute(["git", *args], env=env))
            with tempfile.TemporaryFile() as f:
                f.write(stdin)
                f.seek(0)
                return str(self.repo.git.execute(["git", *args], istream=f, env=env))
        except git.GitCommandError as exc:
            raise GitError(f"git {args[0]} for the ledger failed: {_said(exc)}") from None


def _said(exc: git.GitCommandError) -> str:
    said = " ".join(str(exc.stderr or "").split()).removeprefix("stderr: ").strip("'")
    return _CREDENTIALS.sub("//***@", said)[:300]
