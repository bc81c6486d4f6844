"""`mutbot run`: set up a run, push every candidate through the spine, write the outputs."""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from mutbot import backends, load, proposers, reaper, statedir
from mutbot.alternatives_text import alternative_lines
from mutbot.backends.base import Backend
from mutbot.calibrate import calibrate_run, calibration_record, load_record
from mutbot.calm import MachineQuiet, Quiet
from mutbot.calm_rules import Thresholds
from mutbot.config import Config
from mutbot.conflicts import sets_of, shared
from mutbot.cost import monthly_cost
from mutbot.errors import BaselineError, ConfigError, Interrupted
from mutbot.guarding import baseline_view
from mutbot.judge import Outcome
from mutbot.metric_math import to_d
from mutbot.metrics import PIPELINE_METRICS, medians
from mutbot.packs.survey import survey
from mutbot.proposers.base import Baseline, Proposer, TargetFile
from mutbot.report import render_pr
from mutbot.results import BaselineResult, CandidateResult, Noise, RunResult, is_final
from mutbot.run.context import Context, Reporter, setup
from mutbot.run.evaluate import confirm, evaluate, schedule
from mutbot.run.options import RunOptions, core_list, load_inputs, new_run_id
from mutbot.run.propose import last_baseline, measured_baseline, propose
from mutbot.run.stages import prepare
from mutbot.run.subject import Subject, build_record, freeze, make_subjects
from mutbot.run.subject import baseline as baseline_subject
from mutbot.stats import pareto_front
from mutbot.targets import read_targets
from mutbot.trial import TrialRunner, run_trial
from mutbot.tune.loop import closed_loop
from mutbot.tune.space import Memory, Space
from mutbot.tune.space import build as build_space
from mutbot.units import format_size
from mutbot.validate import committed
from mutbot.worktree import Workspace


@dataclass(frozen=True)
class Machinery:
    """What a run measures with. None: the real one (the chosen backend, Docker trials, a
    calm-machine wait); tests give a scripted backend and trials (testing/scripted_run.py)."""

    backend: Backend | None = None
    trials: TrialRunner = run_trial
    quiet: Quiet | None = None


def execute(
    options: RunOptions, reporter: Reporter, machinery: Machinery | None = None
) -> RunResult:
    machinery = machinery or Machinery()
    config, config_path = load_inputs(options, reporter.note)
    spec = proposers.choose(options.proposer_spec)
    proposer = proposers.create(spec, config, options.project, reporter.note)
    given = machinery.backend
    backend_name = given.name if given else backends.choose(options.backend)
    removed = reaper.reap(with_docker=backend_name == "docker" and given is None)
    if removed:
        reporter.note(f"removed what killed runs left behind: {', '.join(removed)}")
    run_id = new_run_id()
    run_dir = (options.out or options.project / statedir.NAME / "runs" / run_id).resolve()
    try:
        statedir.make_folder(run_dir)  # .mutbot/.gitignore first: `git status` stays as it was
    except OSError as exc:
        raise ConfigError(f"cannot create the output folder {run_dir}: {exc.strerror}") from None
    cores = backends.plan_cores(config.sandbox.cpus, core_list())
    with ExitStack() as resources:
        workspace = Workspace(options.project)
        resources.callback(_held, workspace.close)
        committed(workspace, config.load.locustfile)  # before anything is built
        backend = given or backends.create(backend_name, config.sandbox, run_id, cores)
        resources.callback(_held, backend.close)
        resources.callback(_held, load.close)  # the run's long-lived load generator
        if backend_name == "local":
            _say_local(options, backend, reporter)
            _pipeline_needs_images(config)
        if workspace.uncommitted():
            reporter.note("the project has uncommitted changes; mutbot measures the last commit")
        ctx = replace(
            setup(
                options,
                config,
                config_path,
                (run_id, run_dir),
                workspace,
                backend,
                reporter,
                cores.load,
            ),
            quiet=machinery.quiet or MachineQuiet(Thresholds(sample=0.3)),
            trials=machinery.trials,
        )
        reporter.note(
            f"run {run_id}: proposer {proposer.name}, backend {backend_name}, results in {run_dir}"
        )
        base, subjects, current = baseline_subject(), list[Subject](), Current(ctx)
        try:
            return _pipeline(current, proposer, base, subjects)
        except (KeyboardInterrupt, Interrupted) as exc:
            _held(_write_partial, current.ctx, base, subjects)
            reason = str(exc) if isinstance(exc, Interrupted) else "interrupted"
            raise Interrupted(
                f"{reason}; what was measured is in {run_dir}/results.json; every container, "
                "network and worktree of the run is removed"
            ) from None
    raise AssertionError("not reached: ExitStack re-raises")  # for mypy, which cannot tell


def _pipeline_needs_images(config: Config) -> None:
    named = sorted(config.objective.wanted() & set(PIPELINE_METRICS))
    if named:
        raise ConfigError(
            f"objective: {', '.join(named)} needs images, and the local backend builds none; "
            "run with --backend docker, or leave it out of objective"
        )


def _say_local(options: RunOptions, backend: backends.Backend, reporter: Reporter) -> None:
    """The weaker backend is never used silently: the log and every PR body say why it ran."""
    if options.backend:
        why = "asked for by name instead of Docker"
    else:
        why = "NOT Docker: no Docker engine answered, so mutbot fell back to it"
        reporter.note(
            "WARNING: no Docker engine answers; measuring with the LOCAL backend, which has no "
            "network isolation and no CPU quota (docs/sandbox.md). --backend docker insists on "
            "Docker; --backend local asks for this one by name"
        )
    backend.guarantees = f"{why}: {backend.guarantees}"


def _held(action: Callable[..., None], *args: object) -> None:
    """Run a clean-up step that a second Ctrl-C or SIGTERM must not cut short."""
    with _signals_held():
        action(*args)


@contextmanager
def _signals_held() -> Iterator[None]:
    """A second Ctrl-C must not cut the clean-up short."""
    held = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class Current:
    """The run's setup as far as it is known: each phase that learns more replaces it."""

    ctx: Context


def _pipeline(
    current: Current, proposer: Proposer, baseline: Subject, subjects: list[Subject]
) -> RunResult:
    """Fills `subjects` in place, so an interrupted run can still report each of them."""
    ctx = current.ctx
    prepare(ctx, baseline)
    if baseline.failure:
        raise BaselineError(
            f"the baseline (unchanged project) fails at "
            f"{baseline.failure.stage}: {baseline.failure.reason}"
        )
    assert baseline.project_dir is not None
    _settle(ctx, "after the baseline's build")
    plan = replace(ctx.plan, locustfile=baseline.project_dir / ctx.config.load.locustfile)
    ctx = current.ctx = replace(ctx, plan=plan)
    ctx = current.ctx = replace(ctx, plan=replace(plan, load=calibrate_run(ctx, baseline)))
    resolved = dict(baseline.artifact.env) if baseline.artifact else None
    # read once: the packs propose from it and the guard judges candidates against it
    view = baseline_view(baseline.project_dir, ctx.config, ctx.rules, resolved)
    ctx = current.ctx = replace(ctx, view=view)
    noise = schedule(ctx, baseline, random.Random(ctx.seed))
    measured = None
    if proposer.needs_baseline:
        if ctx.config.judge.aa_pairs:
            noise.measure("before proposing")
            measured = measured_baseline(noise.pairs)
        else:
            measured = last_baseline(ctx.options.project)
    files = read_targets(baseline.project_dir, ctx.rules)
    ctx.log.proposal, proposal = propose(
        proposer,
        files,
        measured,
        ctx.config,
        ctx.rules,
        ctx.seed,
        ctx.reporter.note,
        ctx.options.history,
        replace(view, baseline=measured.metrics if measured else None),
    )
    subjects.extend(make_subjects(proposal.candidates))
    for subject in subjects:
        prepare(ctx, subject)
    _settle(ctx, "after the candidates' builds")
    if getattr(proposer, "closed_loop", False):
        space = tune_space(ctx, measured)
        chosen, ctx.log.search = closed_loop(ctx, baseline, subjects, noise, space, _texts(files))
        result_noise, decisions = confirm(ctx, baseline, subjects, chosen, noise)
    else:
        result_noise, decisions = evaluate(ctx, baseline, subjects, noise)
    results = []
    for subject in subjects:
        decision = decisions[subject.slug]
        branch = None
        if decision.verdict == "propose" and ctx.options.dry_run:
            assert subject.project_dir is not None and subject.candidate is not None
            branch = f"mutbot/{subject.slug}"
            ctx.workspace.commit_branch(
                subject.project_dir, branch, f"{subject.candidate.title}\n\n{decision.reason}\n"
            )
        results.append(_freeze(ctx, subject, decision, branch))
    result = _result(ctx, baseline, subjects, results, result_noise)
    for problem in write_outputs(result, ctx.run_dir):
        ctx.reporter.note(problem)
    return result


def _texts(files: tuple[TargetFile, ...]) -> dict[str, str]:
    return {f.path: f.text for f in files}


def tune_space(ctx: Context, measured: Baseline | None) -> Space:
    """The space the packs define over the baseline the run measured (its memory caps the
    settings that multiply processes)."""
    assert ctx.view is not None
    metrics = measured.metrics if measured else {}
    view = replace(ctx.view, baseline=metrics or None)
    ceiling, limit = ctx.config.objective.memory_ceiling, ctx.config.sandbox.memory
    peak = metrics.get("memory_peak_mb")
    memory = Memory(peak, limit / 1024**2, ceiling) if peak and ceiling else None
    keys = [k.split(":", 1)[1] for k in ctx.config.propose.keep if ":" in k]
    return build_space(survey(view), memory, keys)


def _settle(ctx: Context, when: str) -> None:
    """The disk is still flushing image layers after a build: let it, before a measurement."""
    settled = ctx.quiet.settle()
    text = f"{when}: {settled.note} ({settled.waited:.1f} s)"
    ctx.log.settled.append(text)
    if not settled.quiet:
        ctx.reporter.note(f"the disk did not settle {text}")


def _freeze(
    ctx: Context, subject: Subject, decision: Outcome, branch: str | None
) -> CandidateResult:
    return freeze(
        subject,
        (decision.verdict, decision.stage, decision.reason, decision.final),
        decision.judgement,
        ctx.config.judge.alpha,
        branch,
        ctx.config.cost,
    )


def _write_partial(ctx: Context, baseline: Subject, subjects: list[Subject]) -> None:
    """An interrupted run still leaves every stage and trial it finished."""
    results = []
    for subject in subjects:
        failure = subject.failure
        decision = (
            Outcome(
                "reject", failure.stage, failure.reason, final=is_final("reject", failure.stage)
            )
            if failure
            else Outcome(
                "reject", "interrupted", "the run was interrupted before a verdict", final=False
            )
        )
        results.append(_freeze(ctx, subject, decision, None))
    result = _result(ctx, baseline, subjects, results, None)
    result = result.model_copy(update={"interrupted": True})
    (ctx.run_dir / "results.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")


def write_outputs(result: RunResult, run_dir: Path) -> list[str]:
    """results.json, a pull request preview per proposed candidate and the pictures; returns
    what could not be drawn (a picture never fails a run)."""
    (run_dir / "results.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    ranked = [c for slug in result.ranking for c in result.candidates if c.slug == slug]
    for group in sets_of(ranked):  # each preview lists what it is an alternative to
        for candidate in group:
            others = [
                (other, shared(other, candidate, group))
                for other in group
                if other is not candidate
            ]
            (run_dir / f"pr-{candidate.slug}.md").write_text(
                render_pr(candidate, result, alternatives=alternative_lines(others, result)),
                encoding="utf-8",
            )
    try:
        from mutbot.plots import write_pictures  # matplotlib: loaded only when a run has ended
    except ImportError as exc:
        return [f"pictures: not drawn: {exc}"]
    return write_pictures(result, run_dir)[1]


def _result(
    ctx: Context,
    baseline: Subject,
    subjects: list[Subject],
    results: list[CandidateResult],
    noise: Noise | None,
) -> RunResult:
    config: Config = ctx.config
    trials = [p.baseline for s in subjects for p in (*s.screening, *s.pairs)]
    summary = medians([t.metrics for t in trials])
    artifact = baseline.artifact
    objectives = [config.objective.primary, *config.objective.also]
    proposed = [r for r in results if r.verdict == "propose"]
    proposed.sort(
        key=lambda r: to_d(objectives[0], r.comparisons[objectives[0]].change), reverse=True
    )
    front = (
        pareto_front(
            {r.slug: [to_d(m, r.comparisons[m].change) for m in objectives] for r in proposed}
        )
        if len(objectives) > 1
        else []
    )
    sandbox = config.sandbox
    return RunResult(
        run_id=ctx.run_id,
        started_at=ctx.started_at,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        project=str(ctx.options.project.resolve()),
        output_dir=str(ctx.run_dir),
        base_commit=ctx.workspace.base,
        backend=ctx.backend.name,
        guarantees=ctx.backend.guarantees,
        seed=ctx.seed,
        limits={
            "cpus": sandbox.cpus,
            "memory": format_size(sandbox.memory),
            "network": sandbox.network,
        },
        load=load_record(ctx.plan.load, config.load, objectives[0]),
        calibration=calibration_record(ctx.plan.load),
        objective={
            "primary": objectives[0],
            "also": objectives[1:],
            "guardrails": config.objective.limits(),
            "memory_ceiling": config.objective.memory_ceiling,
        },
        judge=config.judge.model_dump(),
        noise=noise,
        cost_of_limits_month_usd=monthly_cost(sandbox.cpus, sandbox.memory, config.cost),
        baseline=BaselineResult(
            stages=baseline.stages,
            summary=summary,
            build=build_record(artifact) if artifact else None,
        ),
        candidates=results,
        ranking=[r.slug for r in proposed],
        pareto=front,
        proposal=ctx.log.proposal,
        settled=list(ctx.log.settled),
        search=ctx.log.search,
    )
