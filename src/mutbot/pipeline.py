"""The spine: every candidate through policy, apply, build, tests and paired load trials."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mutbot import guarding
from mutbot.backends.base import Artifact, Backend, Limits
from mutbot.calm import NoQuiet, Quiet
from mutbot.candidates import Candidate, slugify
from mutbot.config import Config, Cost, check_paths, find_config, load_config
from mutbot.cost import monthly_cost
from mutbot.errors import StageFailure
from mutbot.judge import compare_all
from mutbot.packs.guard import Guarded
from mutbot.packs.view import View
from mutbot.policy import Change, DiffRules, DiffSummary, check_diff
from mutbot.proposers.base import HistoryEntry
from mutbot.results import (
    Build,
    CandidateResult,
    InvalidTrial,
    Judgement,
    Pair,
    ProposalRecord,
    SettingChange,
    StageRecord,
    Verdict,
)
from mutbot.risk import Assessment, assess_complexity, assess_risk
from mutbot.trial import TrialPlan, TrialRunner, run_trial
from mutbot.units import format_size
from mutbot.validate import check_project
from mutbot.worktree import Workspace


class Reporter(Protocol):
    def stage(self, slug: str, text: str) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass(frozen=True)
class RunOptions:
    project: Path
    mutations: Path | None = None  # same as proposer "file:PATH"
    out: Path | None = None
    dry_run: bool = False
    backend: str | None = None
    seed: int = 1
    proposer: str | None = None  # anthropic | search | file:PATH; None: choose from the env
    count: int | None = None  # overrides propose.count
    config: Path | None = None  # the config file; None: .mutbot.yml or .github/mutbot.yml
    targets: tuple[str, ...] = ()  # narrows the config's targets (a /mutate comment's globs)
    radical_share: float | None = None  # overrides propose.radical (0: incremental only)
    history: tuple[HistoryEntry, ...] = ()  # earlier candidates and their fate, from the ledger

    @property
    def proposer_spec(self) -> str | None:
        return f"file:{self.mutations}" if self.mutations else self.proposer


@dataclass
class Subject:
    """Working state of one side while the run goes on; frozen into a result at the end."""

    slug: str
    candidate: Candidate | None
    stages: list[StageRecord] = field(default_factory=list)
    failure: StageFailure | None = None
    summary: DiffSummary | None = None
    project_dir: Path | None = None
    artifact: Artifact | None = None
    screening: list[Pair] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    invalid: list[InvalidTrial] = field(default_factory=list)
    risk: Assessment | None = None
    complexity: Assessment | None = None
    guarded: Guarded | None = None  # what the packs say the change touches and reaches
    limits: Limits | None = None  # its own, from the measured service's; None: the config's


@dataclass
class Context:
    options: RunOptions
    config: Config
    config_path: Path
    run_id: str
    run_dir: Path
    workspace: Workspace
    backend: Backend
    plan: TrialPlan
    reporter: Reporter
    started_at: str
    seed: int
    proposal: ProposalRecord | None = None
    view: View | None = None  # the baseline as the packs see it; None: no guard (doctor)
    recent: list[float] = field(default_factory=list)  # baseline trials' primary, in order
    # runs one trial; scripted in tests (testing/scripted.py) so the judge's path needs no Docker
    trials: TrialRunner = run_trial
    # waits for a calm machine before each trial and a quiet disk after builds (calm.py)
    quiet: Quiet = field(default_factory=NoQuiet)
    settled: list[str] = field(default_factory=list)  # what settling after the builds saw


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def load_inputs(
    options: RunOptions, note: Callable[[str], None] = lambda _: None
) -> tuple[Config, Path]:
    """The config, checked against the files it names (validate.check_project), with the
    sandbox its compose file describes filled in; `note` hears what that left out."""
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
    update = {"propose": config.propose.model_copy(update=propose)}
    return config.model_copy(update=update), config_path


@contextmanager
def recorded(subject: Subject, stage: str, reporter: Reporter) -> Iterator[None]:
    """Time a stage and record it; a StageFailure marks the subject rejected, never escapes."""
    reporter.stage(subject.slug, stage)
    started = time.monotonic()
    try:
        yield
    except StageFailure as failure:
        subject.failure = failure
        subject.stages.append(
            StageRecord(
                name=failure.stage,
                ok=False,
                seconds=time.monotonic() - started,
                detail=failure.reason,
            )
        )
        reporter.stage(subject.slug, f"rejected at {failure.stage}: {failure.reason}")
    else:
        subject.stages.append(StageRecord(name=stage, ok=True, seconds=time.monotonic() - started))


def diff_rules(ctx: Context) -> DiffRules:
    return rules_for(ctx.config, ctx.config_path, ctx.options.project, ctx.options.targets)


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


def prepare(ctx: Context, subject: Subject) -> None:
    """Cheapest first: policy, apply in a worktree, build, tests. Stops at the first failure."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("apply", lambda: _apply(ctx, subject)),
        ("build", lambda: _build(ctx, subject)),
        ("tests", lambda: _tests(ctx, subject)),
    ]
    if subject.candidate is not None:
        candidate = subject.candidate
        steps.insert(0, ("policy", lambda: _policy(ctx, subject, candidate)))
    for name, step in steps:
        with recorded(subject, name, ctx.reporter):
            step()
        if subject.failure:
            return


def _policy(ctx: Context, subject: Subject, candidate: Candidate) -> None:
    subject.summary = check_diff(candidate.diff, diff_rules(ctx))
    subject.risk = assess_risk(candidate.diff, candidate.risk)
    subject.complexity = assess_complexity(candidate.diff)


def _apply(ctx: Context, subject: Subject) -> None:
    subject.project_dir = ctx.workspace.add(subject.slug)
    if subject.candidate is not None:
        ctx.workspace.apply(
            subject.project_dir,
            subject.candidate.diff,
            diff_rules(ctx),
            lambda changes: _guard(ctx, subject, changes),
        )


def _guard(ctx: Context, subject: Subject, changes: Sequence[Change]) -> None:
    """The packs' never-change and measurable rules, on the files as git will write them:
    a refusal is the policy's, with the setting or line named."""
    if ctx.view is None:
        return
    subject.guarded = guarding.guard(ctx.view, changes, ctx.workspace.prefix)
    if subject.guarded.problem:
        raise StageFailure("policy", subject.guarded.problem)
    subject.limits, note = guarding.own_limits(
        subject.guarded, ctx.config.sandbox, ctx.backend.refuses
    )
    if subject.limits is not None:
        own = subject.limits
        ctx.reporter.stage(
            subject.slug, f"runs with its own limits: {own.cpus:g} CPU, {format_size(own.memory)}"
        )
    if note:
        ctx.reporter.stage(subject.slug, note)


def _build(ctx: Context, subject: Subject) -> None:
    assert subject.project_dir is not None
    tag = f"mutbot-{ctx.run_id.lower()}:{subject.slug}"
    changed = subject.summary.files if subject.summary else ()
    try:  # builds, tests and services see the tracked files and the diff's: no .git
        source = ctx.workspace.export(subject.project_dir, changed)
    except OSError as exc:
        raise StageFailure("build", f"cannot copy the candidate's files: {exc}") from None
    artifact = ctx.backend.build(source, tag, _log(ctx, subject, "build"), changed)
    subject.artifact = replace(artifact, limits=subject.limits) if subject.limits else artifact


def _tests(ctx: Context, subject: Subject) -> None:
    command = ctx.config.tests.command
    if not command:
        return
    assert subject.artifact is not None
    ctx.backend.run_tests(
        subject.artifact, command, ctx.config.tests.timeout, _log(ctx, subject, "tests")
    )


def _log(ctx: Context, subject: Subject, name: str) -> Path:
    folder = ctx.run_dir / "logs" / subject.slug
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.log"


def freeze(
    subject: Subject,
    decision: tuple[Verdict, str | None, str, bool],
    judgement: Judgement | None,
    alpha: float,
    branch: str | None,
    prices: Cost | None = None,
) -> CandidateResult:
    """`prices`: to say what the candidate's own limits cost a month, when it has them."""
    candidate = subject.candidate
    assert candidate is not None
    artifact = subject.artifact
    verdict, stage, reason, final = decision
    guarded = subject.guarded
    return CandidateResult(
        slug=subject.slug,
        title=candidate.title,
        kind=candidate.kind,
        rationale=candidate.rationale,
        risk=candidate.risk,
        category=candidate.category,
        fingerprint=candidate.fingerprint,
        diff=candidate.diff,
        files=list(subject.summary.files) if subject.summary else [],
        verdict=verdict,
        stage=stage,
        reason=reason,
        final=final,
        stages=subject.stages,
        build=Build(image_size_mb=artifact.image_size_mb, build_seconds=artifact.build_seconds)
        if artifact
        else None,
        screening=subject.screening,
        pairs=subject.pairs,
        comparisons=compare_all(subject.pairs, alpha),
        judgement=judgement,
        invalid_trials=subject.invalid,
        branch=branch,
        reaches=list(guarded.reaches) if guarded else [],
        settings=[
            SettingChange(
                key=c.key,
                safety=c.safety,
                before=c.before,
                after=c.after,
                written=c.written,
                where=str(c.site) if c.site else None,
                reaches=c.reaches,
            )
            for c in (guarded.changed if guarded else ())
        ],
        limits=_limits(subject.limits, prices),
    )


def _limits(limits: Limits | None, prices: Cost | None) -> dict[str, str | float]:
    if limits is None:
        return {}
    out: dict[str, str | float] = {"cpus": limits.cpus, "memory": format_size(limits.memory)}
    if prices is not None:
        out["cost_month_usd"] = monthly_cost(limits.cpus, limits.memory, prices)
    return out


def make_subjects(candidates: list[Candidate]) -> list[Subject]:
    taken = {"baseline", "a-a-noise"}
    return [Subject(slugify(c.title, taken), c) for c in candidates]


def core_list() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
