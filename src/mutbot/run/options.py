"""What a run is asked to do (the command line's options) and the config it runs with: read,
checked against the files it names, command-line overrides validated like the file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mutbot.config import Config, check_paths, find_config, load_config, overridden
from mutbot.policy import DiffRules
from mutbot.proposers.base import HistoryEntry
from mutbot.validate import check_project


@dataclass(frozen=True)
class RunOptions:
    project: Path
    mutations: Path | None = None  # same as proposer "file:PATH"
    out: Path | None = None
    dry_run: bool = False
    backend: str | None = None
    seed: int = 1
    proposer: str | None = None  # anthropic | search | tune | file:PATH; None: from the env
    count: int | None = None  # overrides propose.count
    config: Path | None = None  # the config file; None: .mutbot.yml or .github/mutbot.yml
    targets: tuple[str, ...] = ()  # narrows the config's targets (a /mutate comment's globs)
    radical_share: float | None = None  # overrides propose.radical (0: incremental only)
    history: tuple[HistoryEntry, ...] = ()  # earlier candidates and their fate, from the ledger
    ignored: frozenset[str] = frozenset()  # settings never changed (`/mutate ignore setting`)

    @property
    def proposer_spec(self) -> str | None:
        return f"file:{self.mutations}" if self.mutations else self.proposer


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def load_inputs(
    options: RunOptions, note: Callable[[str], None] = lambda _: None
) -> tuple[Config, Path]:
    """The config, checked against the files it names (validate.check_project), with the
    sandbox its compose file describes filled in; `note` hears what that left out. Command-line
    overrides are validated again as if the file said them."""
    config_path = options.config or find_config(options.project)
    config = load_config(config_path)
    check_paths(config, options.project, config_path)
    checked = check_project(config, options.project, config_path, build_files=False)
    config = checked.config
    for line in checked.notes:
        note(line)
    propose: dict[str, object] = {}
    if options.count:
        propose["count"] = options.count
    if options.radical_share is not None:
        propose["radical"] = options.radical_share
    if not propose:
        return config, config_path
    return overridden(config, "command line", {"propose": propose}), config_path


def rules_for(
    config: Config, config_path: Path, project: Path, narrow: tuple[str, ...] = ()
) -> DiffRules:
    """The config's targets and protected globs, plus the files that define the measurement."""
    own = (config_path.resolve().relative_to(project.resolve()).as_posix(), config.load.locustfile)
    return DiffRules(
        targets=tuple(config.targets),
        protected=(*config.protected, *own),
        max_changed_lines=config.policy.max_changed_lines,
        max_files=config.policy.max_files,
        narrow=narrow,
    )


def core_list() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
