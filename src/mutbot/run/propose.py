"""The propose step of a run (and of `mutbot propose`): read the targets, survey them with the
technology packs, ask the proposer, record what it cost and what went wrong. An outage of the
chosen proposer is recorded and the offline search proposer takes over, so the run goes on."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import ValidationError

from mutbot import proposers
from mutbot.config import Config
from mutbot.errors import ProposerError
from mutbot.metrics import medians
from mutbot.packs.survey import survey
from mutbot.packs.view import View, from_config
from mutbot.packs.view import build as build_view
from mutbot.policy import DiffRules
from mutbot.proposers.base import (
    Baseline,
    HistoryEntry,
    Proposal,
    ProposalRequest,
    Proposer,
    TargetFile,
)
from mutbot.repofiles import repo_at
from mutbot.results import Pair, ProposalRecord, RunResult
from mutbot.run.options import RunOptions, load_inputs, rules_for
from mutbot.targets import read_targets
from mutbot.worktree import Workspace


def propose_only(
    options: RunOptions, note: Callable[[str], None]
) -> tuple[ProposalRecord, Proposal]:
    """`mutbot propose`: the targets at the last commit, the last run's baseline, no sandbox."""
    config, config_path = load_inputs(options, note)
    proposer = proposers.create(
        proposers.choose(options.proposer_spec), config, options.project, note
    )
    workspace = Workspace(options.project)
    try:
        tree = workspace.add("propose")
        rules = rules_for(config, config_path, options.project, options.targets)
        files = read_targets(tree, rules)
        baseline = last_baseline(options.project) if proposer.needs_baseline else None
        if proposer.needs_baseline and baseline is None:
            note("no earlier results.json under .mutbot/runs: proposing without baseline figures")
        view = pack_view(tree, config, files, baseline)
        return propose(
            proposer, files, baseline, config, rules, options.seed, note, options.history, view
        )
    finally:
        workspace.close()


def propose(
    proposer: Proposer,
    files: tuple[TargetFile, ...],
    baseline: Baseline | None,
    config: Config,
    rules: DiffRules,
    seed: int,
    note: Callable[[str], None],
    history: tuple[HistoryEntry, ...] = (),
    view: View | None = None,
) -> tuple[ProposalRecord, Proposal]:
    """`view`: the checkout as the packs read it (None: the packs see nothing)."""
    started = time.monotonic()
    found_by_packs = survey(view) if view else None
    for line in found_by_packs.notes if found_by_packs else ():
        note(line)
    opportunities = found_by_packs.opportunities() if found_by_packs else []
    for found in opportunities:
        note(f"opportunity: {found.category} at {found.path}:{found.line}: {found.why}")
    request = ProposalRequest(
        files=files,
        opportunities=tuple(opportunities),
        baseline=baseline,
        config=config,
        rules=rules,
        history=history,
        count=config.propose.count,
        radical_share=config.propose.radical,
        seed=seed,
        survey=found_by_packs,
    )
    failure = None
    try:
        proposal = proposer.propose(request)
    except ProposerError as exc:
        if proposer.name == "search":
            raise
        failure = f"{proposer.name} proposer failed: {exc}"
        note(f"{failure}; the offline search proposer takes over")
        from mutbot.proposers import search

        proposal = search.create().propose(request)
    for line in proposal.notes:
        note(f"{proposal.proposer}: {line}")
    note(_summary(proposal))
    return ProposalRecord(
        proposer=proposal.proposer,
        requested=proposer.name,
        failure=failure,
        notes=proposal.notes,
        usage=proposal.usage,
        seconds=round(time.monotonic() - started, 3),
        baseline_source=baseline.source if baseline else None,
        opportunities=opportunities,
        candidates=len(proposal.candidates),
    ), proposal


def pack_view(
    project_dir: Path,
    config: Config,
    files: tuple[TargetFile, ...],
    baseline: Baseline | None,
    resolved: Mapping[str, str] | None = None,
) -> View:
    """The checkout as the packs see it: the sandbox the config describes, the target files
    as what a candidate may change."""
    return build_view(
        repo_at(project_dir),
        from_config(config.sandbox),
        frozenset(f.path for f in files),
        baseline.metrics if baseline else None,
        resolved,
    )


def _summary(proposal: Proposal) -> str:
    text = f"{proposal.proposer}: {len(proposal.candidates)} candidates"
    if proposal.usage:
        u = proposal.usage
        text += (
            f"; {u.requests} requests to {u.model}, {u.input_tokens} input and "
            f"{u.output_tokens} output tokens, ${u.usd:.4f}"
        )
    return text


def measured_baseline(pairs: list[Pair]) -> Baseline:
    """Medians of every baseline trial of an A/A block (both sides are the baseline)."""
    trials = [t for p in pairs for t in (p.baseline, p.candidate)]
    metrics = medians([t.metrics for t in trials])
    return Baseline(metrics, f"measured in this run ({len(trials)} baseline trials)")


def last_baseline(project: Path) -> Baseline | None:
    """The baseline summary of the newest results.json under .mutbot/runs, if there is one."""
    for path in sorted((project / ".mutbot" / "runs").glob("*/results.json"), reverse=True):
        try:
            run = RunResult.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):  # not UTF-8 or not a results.json: the next one
            continue
        if run.baseline.summary:
            return Baseline(
                run.baseline.summary, f"run {run.run_id} (commit {run.base_commit[:7]})"
            )
    return None
