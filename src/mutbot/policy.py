"""Diff policy, the cheapest stage: what a candidate may touch and how much (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from mutbot.errors import StageFailure
from mutbot.globs import matches

# Never changed, whatever the config says: the rules of the measurement itself.
ALWAYS_PROTECTED = (".git/**", ".mutbot/**", ".mutbot.yml", ".github/mutbot.yml")
# Never pushed: the default token cannot, and a bot that could would escalate privileges.
WORKFLOWS = (".github/workflows/**",)
_SYMLINK_MODE = re.compile(r"^(new file mode|new mode) 120000", re.MULTILINE)


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


def _clean_path(raw: str | None) -> str | None:
    if raw is None or raw == "/dev/null":
        return None
    path = raw[2:] if raw.startswith(("a/", "b/")) else raw
    if path.startswith("/") or ".." in path.split("/") or not path:
        raise StageFailure("policy", f"path {raw!r} leaves the repository")
    return path


def check_diff(diff: str, rules: DiffRules) -> DiffSummary:
    """Raise StageFailure('policy', reason) unless the diff is acceptable."""
    if not diff.strip():
        raise StageFailure("policy", "the diff is empty")
    try:
        patch = PatchSet(diff)
    except UnidiffParseError as exc:
        raise StageFailure("policy", f"the diff does not parse: {exc}") from exc
    if not patch:
        raise StageFailure("policy", "the diff names no file (expected a git-style unified diff)")
    if _SYMLINK_MODE.search(diff):
        raise StageFailure("policy", "the diff creates a symbolic link")
    files: list[str] = []
    for patched in patch:
        if patched.is_binary_file:
            raise StageFailure("policy", f"binary change to {patched.path} is not allowed")
        named = (_clean_path(patched.source_file), _clean_path(patched.target_file))
        for path in dict.fromkeys(p for p in named if p is not None):
            if matches(path, WORKFLOWS):
                raise StageFailure(
                    "policy",
                    f"{path}: changes under .github/workflows/ are never pushed (a token that "
                    "could push them could change what CI runs with its secrets)",
                )
            if matches(path, rules.protected) or matches(path, ALWAYS_PROTECTED):
                raise StageFailure("policy", f"{path} is protected")
            if not matches(path, rules.targets):
                raise StageFailure("policy", f"{path} is not among the targets")
            if rules.narrow and not matches(path, rules.narrow):
                globs = " ".join(rules.narrow)
                raise StageFailure("policy", f"{path} is outside this run's globs ({globs})")
            files.append(path)
    changed = patch.added + patch.removed
    if changed > rules.max_changed_lines:
        raise StageFailure(
            "policy", f"{changed} changed lines, above the limit of {rules.max_changed_lines}"
        )
    if len(set(files)) > rules.max_files:
        raise StageFailure(
            "policy", f"{len(set(files))} files changed, above the limit of {rules.max_files}"
        )
    return DiffSummary(
        files=tuple(dict.fromkeys(files)),
        added=patch.added,
        removed=patch.removed,
        hunks=sum(len(p) for p in patch),
    )
