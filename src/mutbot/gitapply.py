"""Git edge: what `git apply` will do with a diff, asked of git itself before applying, and what
changed in the worktree afterwards.

Before: the diff goes through `git apply --check --numstat` in the worktree (does it apply; which
patches are binary), then is applied to a scratch index of the worktree's commit, whose new blobs
go to a scratch object folder (the repository gains nothing). That index against the commit
lists every path git writes or removes, with its modes and contents, exactly as git read the
diff: both sides of a rename, whatever the headers claimed. (`--numstat -z` names only one side
of a rename and `--summary` is not machine-readable, so neither can serve for paths.)
After: `git status` with untracked and ignored files, and lstat, say what is really there.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from mutbot.errors import GitError
from mutbot.policy import REGULAR, Change, Found

# set by git hooks and the like; they would point these commands at another repository or index
_REPOSITORY_VARIABLES = {
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX",
}  # fmt: skip


class ApplyFailed(Exception):
    """`git apply` refuses the diff; the reason is git's first line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def apply_args(prefix: str) -> list[str]:
    return ["apply", "--whitespace=nowarn", *([f"--directory={prefix}"] if prefix else [])]


def predict(tree: Path, patch: Path, prefix: str, scratch: Path, objects: Path) -> list[Change]:
    """Every path the patch changes in `tree` (a clean worktree), as git reads it.

    `scratch` is an empty private folder; `objects` the repository's object folder."""
    args = apply_args(prefix)
    numstat = _run(tree, [*args, "--check", "--numstat", "-z", str(patch)], apply=True)
    binary = {
        os.fsdecode(entry.split(b"\t", 2)[2])
        for entry in numstat.split(b"\0")
        if entry.startswith(b"-\t-\t")
    }
    (scratch / "objects").mkdir()
    env = {
        "GIT_INDEX_FILE": str(scratch / "index"),
        "GIT_OBJECT_DIRECTORY": str(scratch / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(objects),
    }
    _run(tree, ["read-tree", "HEAD"], env=env)
    _run(tree, [*args, "--cached", str(patch)], env=env, apply=True)
    raw = _run(
        tree,
        ["diff-index", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "HEAD"],
        env=env,
    )
    fields = raw.split(b"\0")
    entries = []
    for meta, name in zip(fields[0:-1:2], fields[1::2], strict=True):
        old_mode, new_mode, old_sha, new_sha, _status = meta.decode().lstrip(":").split(" ")
        entries.append((os.fsdecode(name), old_mode, new_mode, old_sha, new_sha))
    wanted = [sha for e in entries for mode, sha in ((e[1], e[3]), (e[2], e[4])) if mode in REGULAR]
    blobs = _blobs(tree, wanted, env)
    changes = []
    for path, old_mode, new_mode, old_sha, new_sha in entries:
        old, new = blobs.get(old_sha), blobs.get(new_sha)
        changes.append(
            Change(
                path=path,
                old_mode=old_mode,
                new_mode=new_mode,
                binary=path in binary or (new is not None and b"\0" in new),
                old_text=_text(old) if old_mode in REGULAR else None,
                new_text=_text(new) if new_mode in REGULAR else None,
            )
        )
    return changes


def apply(tree: Path, patch: Path, prefix: str) -> None:
    _run(tree, [*apply_args(prefix), str(patch)], apply=True)


def found(tree: Path) -> list[Found]:
    """Every path that differs from the commit in the worktree, ignored files included."""
    out = _run(
        tree,
        ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored", "--no-renames"],
    )
    result = []
    for entry in filter(None, out.split(b"\0")):
        path = os.fsdecode(entry[3:])
        try:
            mode = (tree / path.rstrip("/")).lstat().st_mode
        except FileNotFoundError:
            result.append(Found(path, exists=False, regular=False))
            continue
        result.append(Found(path, exists=True, regular=stat.S_ISREG(mode) and path[-1:] != "/"))
    return result


def _blobs(tree: Path, shas: list[str], env: dict[str, str]) -> dict[str, bytes]:
    shas = [s for s in dict.fromkeys(shas) if s.strip("0")]
    if not shas:
        return {}
    out = _run(tree, ["cat-file", "--batch"], env=env, stdin="".join(f"{s}\n" for s in shas))
    blobs, at = {}, 0
    for sha in shas:
        end = out.index(b"\n", at)
        header = out[at:end].split(b" ")
        if len(header) != 3:
            raise GitError(f"cannot read blob {sha}: {out[at:end].decode(errors='replace')}")
        size = int(header[2])
        blobs[sha] = out[end + 1 : end + 1 + size]
        at = end + 1 + size + 1
    return blobs


def _text(blob: bytes | None) -> str | None:
    return None if blob is None else blob.decode("utf-8", errors="replace")


def _run(
    tree: Path,
    args: list[str],
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    apply: bool = False,
) -> bytes:
    inherited = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    result = subprocess.run(
        ["git", *args],
        cwd=tree,
        env={**inherited, **(env or {})},
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        reason = _first_line(result.stderr.decode(errors="replace"))
        if apply:
            raise ApplyFailed(reason)
        raise GitError(f"git {args[0]} failed: {reason}")
    return result.stdout


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip().removeprefix("error: ")
    return "git failed"
