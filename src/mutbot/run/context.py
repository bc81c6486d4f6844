"""A run's setup, fixed once made: the config and the rules it implies, where the run writes,
the worktrees, the backend, the trial plan, how trials run and wait for a calm machine. What
the run learns as it goes (the baseline's recent figures, what settling saw) is kept apart in
`RunLog`, the one mutable part. A later phase that knows more (the calibrated load, the packs'
view of the baseline) makes a new setup with `dataclasses.replace`, never edits this one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mutbot.backends.base import Backend
from mutbot.calm import NoQuiet, Quiet
from mutbot.config import Config
from mutbot.packs.view import View
from mutbot.policy import DiffRules
from mutbot.results import ProposalRecord, SearchRecord
from mutbot.run.options import RunOptions, rules_for
from mutbot.trial import TrialPlan, TrialRunner, run_trial
from mutbot.worktree import Workspace


class Reporter(Protocol):
    def stage(self, slug: str, text: str) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass
class RunLog:
    """What the run saw so far that later steps read."""

    recent: list[float] = field(default_factory=list)  # baseline trials' primary, in order
    settled: list[str] = field(default_factory=list)  # what settling after the builds saw
    proposal: ProposalRecord | None = None  # where the candidates came from
    search: SearchRecord | None = None  # the closed-loop search's record, when it ran


@dataclass(frozen=True)
class Context:
    options: RunOptions
    config: Config
    config_path: Path
    rules: DiffRules  # what a candidate may touch (targets, protected, size limits)
    run_id: str
    run_dir: Path
    workspace: Workspace
    backend: Backend
    plan: TrialPlan
    reporter: Reporter
    started_at: str
    seed: int
    view: View | None = None  # the baseline as the packs see it; None: no guard (doctor)
    # runs one trial; scripted in tests (testing/scripted.py) so the judge's path needs no Docker
    trials: TrialRunner = run_trial
    # waits for a calm machine before each trial and a quiet disk after builds (calm.py)
    quiet: Quiet = field(default_factory=NoQuiet)
    log: RunLog = field(default_factory=RunLog)


def setup(
    options: RunOptions,
    config: Config,
    config_path: Path,
    where: tuple[str, Path],
    workspace: Workspace,
    backend: Backend,
    reporter: Reporter,
    load_cores: tuple[int, ...] | None,
) -> Context:
    """A run's first setup (`mutbot run`, `mutbot doctor`): `where` is the run id and folder.
    The trial plan's locustfile is the config's path until the baseline's worktree exists."""
    run_id, run_dir = where
    return Context(
        options=options,
        config=config,
        config_path=config_path,
        rules=rules_for(config, config_path, options.project, options.targets),
        run_id=run_id,
        run_dir=run_dir,
        workspace=workspace,
        backend=backend,
        reporter=reporter,
        plan=TrialPlan(config, Path(config.load.locustfile), run_dir, load_cores),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=options.seed,
    )
