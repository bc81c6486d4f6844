"""The packs' guard at a run's policy stage (mutbot.packs.guard), for every proposer's
candidates: the baseline as the measured sandbox sees it, read from its worktree once, and each
candidate's files on both sides exactly as git will apply its diff; and the limits a candidate
runs with when its change sets the measured service's (mutbot.packs.limits)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mutbot.backends.base import Limits
from mutbot.config import Config
from mutbot.config_sandbox import DOCKER_MINIMUM, Sandbox
from mutbot.errors import StageFailure
from mutbot.globs import matches
from mutbot.packs.guard import Guarded, check
from mutbot.packs.limits import asked
from mutbot.packs.view import View, build, from_config
from mutbot.policy import ALWAYS_PROTECTED, Change, DiffRules
from mutbot.repofiles import repo_at
from mutbot.units import format_size

MIN_CPUS = 0.01  # Docker's smallest CPU quota


def baseline_view(
    project_dir: Path, config: Config, rules: DiffRules, resolved: Mapping[str, str] | None = None
) -> View:
    """`project_dir`: the baseline's worktree, which no diff ever changes; `resolved`: the
    built baseline image's environment."""
    repo = repo_at(project_dir)
    targets = frozenset(path for path in repo.files if _target(path, rules))
    return build(repo, from_config(config.sandbox), targets, resolved=resolved)


def guard(view: View, changes: Sequence[Change], prefix: str) -> Guarded:
    """`changes`: what git says the diff does, repository-relative (`prefix`: the project's
    folder in the repository); a rename is a deleted and a created file."""
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for change in changes:
        path = change.path.removeprefix(f"{prefix}/") if prefix else change.path
        before[path], after[path] = change.old_text, change.new_text
    return check(view, before, after)


def own_limits(
    guarded: Guarded, sandbox: Sandbox, refuses: Callable[[Limits], str | None]
) -> tuple[Limits | None, str]:
    """The limits the candidate side runs with when the change sets the measured service's CPU
        or memory limit (None: the config's, as the baseline's), and a note on what else it changes
        of the resources ("" when nothing). StageFailure('policy') when they cannot be measured:
    unreadable, below the sandbox's smallest, or what the backend `refuses` to run with."""
    found = asked(guarded.changed)
    if found.problem:
        raise StageFailure("policy", found.problem)
    if found.memory is not None and found.memory < DOCKER_MINIMUM:
        raise StageFailure(
            "policy",
            f"a memory limit of {format_size(found.memory)} is below the sandbox's smallest "
            f"({format_size(DOCKER_MINIMUM)})",
        )
    if found.cpus is not None and found.cpus < MIN_CPUS:
        raise StageFailure(
            "policy", f"a CPU limit of {found.cpus:g} is below the sandbox's smallest ({MIN_CPUS})"
        )
    limits = Limits(found.cpus or sandbox.cpus, found.memory or sandbox.memory)
    if limits == Limits(sandbox.cpus, sandbox.memory):
        return None, found.note or ""
    refused = refuses(limits)
    if refused:
        raise StageFailure("policy", refused)
    return limits, found.note or ""


def _target(path: str, rules: DiffRules) -> bool:
    """A file a candidate may change (as mutbot.targets reads them)."""
    return (
        matches(path, rules.targets)
        and (not rules.narrow or matches(path, rules.narrow))
        and not matches(path, rules.protected)
        and not matches(path, ALWAYS_PROTECTED)
    )
