"""Diff policy, the cheapest stage: what a candidate may touch and how much (pure).

Two checks share the rules. `check_diff` reads the diff text strictly (mutbot.gitdiff): the
proposers pre-check their candidates with it and the pipeline runs it first. `check_changes`
judges what git itself says the diff does (every path, both sides of a rename, modes, binary
content, new network fetches), as mutbot.gitapply asks git in the worktree right before the
diff is applied; `check_applied` compares the worktree afterwards with that answer.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from mutbot import fetches
from mutbot.errors import StageFailure
from mutbot.gitdiff import DiffError, parse
from mutbot.globs import matches

# Never changed, whatever the config says: the rules of the measurement itself.
ALWAYS_PROTECTED = (".git/**", ".mutbot/**", ".mutbot.yml", ".github/mutbot.yml")
# Never pushed: the default token cannot, and a bot that could would escalate privileges.
WORKFLOWS = (".github/workflows/**",)
# Local actions run inside those workflows, with their secrets.
ACTIONS = (".github/actions/**",)
REGULAR = ("100644", "100755")  # the only modes a candidate may give or take
ABSENT = "000000"  # git's mode for "no file on this side"
_KINDS = {"120000": "symbolic links", "160000": "submodules"}


@dataclass(frozen=True)
class DiffRules:
    targets: tuple[str, ...]
    protected: tuple[str, ...]
    max_changed_lines: int
    max_files: int
    narrow: tuple[str, ...] = ()  # a run may narrow the targets (a /mutate comment's globs)


@dataclass(frozen=True)
class DiffSummary:
    files: tuple[str, ...]
    added: int
    removed: int
    hunks: int


@dataclass(frozen=True)
class Change:
    """One path git changes, as git says it (repository-relative; a rename is two changes)."""

    path: str
    old_mode: str  # ABSENT: created
    new_mode: str  # ABSENT: deleted
    binary: bool
    old_text: str | None = None  # the text on each side, for regular text files
    new_text: str | None = None


@dataclass(frozen=True)
class Found:
    """A path that differs in the worktree after applying (status, lstat)."""

    path: str
    exists: bool
    regular: bool  # a plain file: not a symbolic link, folder or anything else


def replay_rules(files: Sequence[str]) -> DiffRules:
    """For applying again a diff the policy accepted when it was measured: its files only."""
    return DiffRules(tuple(files), (), max_changed_lines=sys.maxsize, max_files=len(files))


def check_diff(diff: str, rules: DiffRules) -> DiffSummary:
    """Raise StageFailure('policy', reason) unless the diff is acceptable."""
    if not diff.strip():
        raise StageFailure("policy", "the diff is empty")
    try:
        diff.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, say, from a JSON file
        raise StageFailure("policy", f"the diff is not UTF-8 text ({exc.reason})") from exc
    try:
        parsed = parse(diff)
    except DiffError as exc:
        message = str(exc)
        if not message.startswith("line "):
            raise StageFailure("policy", message) from exc
        raise StageFailure("policy", f"the diff does not parse: {message}") from exc
    files: list[str] = []
    for patched in parsed:
        shown = patched.new or patched.old or ""
        if patched.binary:
            raise StageFailure("policy", f"binary change to {shown} is not allowed")
        for path in patched.paths:
            check_path(path, rules)
            if path not in files:
                files.append(path)
        for mode in patched.modes:
            _check_mode(shown, mode)
    added = sum(p.added for p in parsed)
    removed = sum(p.removed for p in parsed)
    if added + removed > rules.max_changed_lines:
        raise StageFailure(
            "policy",
            f"{added + removed} changed lines, above the limit of {rules.max_changed_lines}",
        )
    if len(files) > rules.max_files:
        raise StageFailure(
            "policy", f"{len(files)} files changed, above the limit of {rules.max_files}"
        )
    return DiffSummary(tuple(files), added, removed, sum(p.hunks for p in parsed))


def check_path(path: str, rules: DiffRules) -> None:
    """A project-relative path a diff reads or writes; StageFailure('policy') unless allowed."""
    problem = _plain_path_problem(path)
    if problem:
        raise StageFailure("policy", problem)
    if matches(path, WORKFLOWS):
        raise StageFailure(
            "policy",
            f"{path}: changes under .github/workflows/ are never pushed (a token that could push "
            "them could change what CI runs with its secrets)",
        )
    if matches(path, ACTIONS):
        raise StageFailure(
            "policy",
            f"{path}: changes under .github/actions/ are never pushed (workflows run these "
            "actions with their secrets)",
        )
    if matches(path, rules.protected) or matches(path, ALWAYS_PROTECTED):
        raise StageFailure("policy", f"{path} is protected")
    if any(part.lower() == ".git" for part in path.split("/")):
        raise StageFailure("policy", f"path {path!r} is inside a .git folder")
    if not matches(path, rules.targets):
        raise StageFailure("policy", f"{path} is not among the targets")
    if rules.narrow and not matches(path, rules.narrow):
        globs = " ".join(rules.narrow)
        raise StageFailure("policy", f"{path} is outside this run's globs ({globs})")


def _plain_path_problem(path: str) -> str | None:
    parts = path.split("/")
    if path.startswith("/") or ".." in parts:
        return f"path {path!r} leaves the repository"
    if "" in parts or "." in parts:
        return f"path {path!r} is not a plain relative path"
    if any(ord(c) < 32 or ord(c) == 127 for c in path) or "\\" in path:
        return f"path {path!r} holds a control character or a backslash"
    return None


def _check_mode(path: str, mode: str) -> None:
    if mode in REGULAR:
        return
    kind = _KINDS.get(mode)
    if kind:
        raise StageFailure("policy", f"{path}: {kind} are not allowed (mode {mode})")
    raise StageFailure("policy", f"{path}: mode {mode} is not allowed (only 100644 or 100755)")


def check_changes(
    changes: Sequence[Change], rules: DiffRules, prefix: str, named: Sequence[str]
) -> None:
    """What git says the diff does, judged by the rules; `prefix` is the project's folder in
    the repository, `named` the project-relative paths the diff's own headers name."""
    if not changes:
        raise StageFailure("policy", "the diff changes nothing")
    for change in changes:
        path = _in_project(change.path, prefix)
        if prefix:  # the repository's own CI and settings, whatever the project's rules say
            check_path(change.path, DiffRules(("**",), (), sys.maxsize, sys.maxsize))
        check_path(path, rules)
        if path not in named:
            raise StageFailure("policy", f"{path}: git would change it, yet no header names it")
        for mode in (change.old_mode, change.new_mode):
            if mode != ABSENT:
                _check_mode(path, mode)
        if change.binary:
            raise StageFailure("policy", f"binary change to {path} is not allowed")
    if len(changes) > rules.max_files:
        raise StageFailure(
            "policy", f"{len(changes)} files changed, above the limit of {rules.max_files}"
        )
    _check_fetches(changes, prefix)


def _check_fetches(changes: Sequence[Change], prefix: str) -> None:
    gone = [
        (c.path, c.old_text) for c in changes if c.new_mode == ABSENT and c.old_text is not None
    ]
    for change in changes:
        if change.new_text is None:
            continue
        new = fetches.added(change.path, change.old_text or "", change.new_text, gone)
        if new:
            raise StageFailure(
                "policy",
                f"{_in_project(change.path, prefix)}: adds a network fetch the baseline does not "
                f"have ({new[0]}); builds keep the network, so new downloads are not run blindly",
            )


def check_applied(expected: Sequence[Change], found: Sequence[Found], prefix: str) -> None:
    """The worktree after applying holds only the changes git announced, as plain files."""
    announced = {c.path: c for c in expected}
    for item in found:
        change = announced.get(item.path)
        shown = item.path.removeprefix(f"{prefix}/") if prefix else item.path
        if change is None:
            raise StageFailure("policy", f"{shown} changed, though git did not announce it")
        if change.new_mode == ABSENT and item.exists:
            raise StageFailure("policy", f"{shown} still exists, though git would delete it")
        if change.new_mode != ABSENT and not (item.exists and item.regular):
            raise StageFailure("policy", f"{shown} is not a plain file after applying")


def _in_project(path: str, prefix: str) -> str:
    if not prefix:
        return path
    if not path.startswith(f"{prefix}/"):
        raise StageFailure("policy", f"{path} is outside the project folder {prefix}/")
    return path[len(prefix) + 1 :]
