"""The cheap stages of every subject, cheapest first: the diff policy (and the packs' guard),
apply in a worktree, build, tests. The first failure stops the subject with its reason."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from mutbot import guarding
from mutbot.candidates import Candidate
from mutbot.errors import StageFailure
from mutbot.metrics import IMAGE_METRICS
from mutbot.policy import Change, check_diff
from mutbot.risk import assess_complexity, assess_risk
from mutbot.run.context import Context
from mutbot.run.subject import Subject, recorded
from mutbot.units import format_size


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
    subject.summary = check_diff(candidate.diff, ctx.rules)
    subject.risk = assess_risk(candidate.diff, candidate.risk)
    subject.complexity = assess_complexity(candidate.diff)


def _apply(ctx: Context, subject: Subject) -> None:
    subject.project_dir = ctx.workspace.add(subject.slug)
    if subject.candidate is not None:
        ctx.workspace.apply(
            subject.project_dir,
            subject.candidate.diff,
            ctx.rules,
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
    ignored = sorted({c.key for c in subject.guarded.changed} & ctx.options.ignored)
    if ignored:
        raise StageFailure(
            "policy",
            f"changes {', '.join(ignored)}, which a maintainer asked mutbot never to change "
            "(`/mutate ignore setting`; the dashboard can forget it)",
        )
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
    if set(IMAGE_METRICS) & ctx.config.objective.wanted():
        artifact = replace(artifact, image_compressed_mb=ctx.backend.compressed_mb(artifact))
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
