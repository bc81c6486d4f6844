"""Blocks of paired trials: A/A pairs, screening and confirmation.

Inside a pair the baseline and the subject run back to back, in a random (seeded, recorded)
order, each in a fresh instance. An invalid trial makes the whole pair run again; so does a
transient (a baseline-side trial far off the run's recent baseline trials: the machine, not the
service), within judge.max_reruns, with the reason recorded on the pair."""

from __future__ import annotations

import random
from collections.abc import Callable

from mutbot.backends.base import Artifact
from mutbot.errors import BaselineError, StageFailure, TrialInvalid
from mutbot.metrics import BUILD_METRIC, GUARDING, IMAGE_METRICS, METRICS, PIPELINE_METRICS
from mutbot.noise_rules import transient
from mutbot.results import InvalidTrial, Pair, Side, Trial
from mutbot.run.context import Context
from mutbot.run.subject import Subject

ORDERS: list[tuple[Side, Side]] = [("baseline", "candidate"), ("candidate", "baseline")]


def block(
    ctx: Context,
    baseline: Subject,
    subject: Subject,
    count: int,
    label: str,
    rng: random.Random,
    between: Callable[[], None] = lambda: None,
    duel: bool = False,
) -> list[Pair]:
    """`count` pairs; StageFailure when the subject fails, BaselineError when the baseline does.
    `between` runs before each pair (A/A pairs spread through the run). `duel`: `baseline` is
    another candidate (a winner against its reduction): no transient test against the run's
    baseline trials, and a failure of either side is the subject's."""
    out = []
    for index in range(count):
        between()
        out.append(pair(ctx, baseline, subject, index, count, label, rng, duel))
    return out


def pair(
    ctx: Context,
    baseline: Subject,
    subject: Subject,
    index: int,
    count: int,
    label: str,
    rng: random.Random,
    duel: bool = False,
) -> Pair:
    reasons: list[str] = []  # invalid trials
    set_aside: list[str] = []  # transients
    attempts = ctx.config.judge.max_reruns + 1
    for attempt in range(attempts):
        order = rng.choice(ORDERS)
        try:
            done = {
                side: _trial(
                    ctx, baseline, subject, side, f"{label}-{index + 1}", attempt, count, duel
                )
                for side in order
            }
        except TrialInvalid as invalid:
            side, reason = invalid.args
            subject.invalid.append(InvalidTrial(pair=index, side=side, reason=reason))
            reasons.append(reason)
            continue
        measured = Pair(
            index=index, order=order, baseline=done["baseline"], candidate=done["candidate"]
        )
        why = None if duel else disturbed(ctx, measured, aa=subject.candidate is None)
        if why and attempt + 1 < attempts:
            set_aside.append(f"measurement {attempt + 1} set aside: {why}")
            ctx.reporter.stage(subject.slug, f"{label} pair {index + 1}: {why}; measured again")
            continue
        if why:
            set_aside.append(f"kept after {attempt + 1} measurements, still off: {why}")
        if not duel:
            _remember(ctx, measured, aa=subject.candidate is None)
        return measured.model_copy(update={"remeasured": set_aside})
    message = f"{label} pair {index + 1} invalid {len(reasons)} times: {reasons[-1]}"
    if subject.candidate is None and not duel:
        raise BaselineError(f"cannot measure the baseline: {message}")
    raise StageFailure("load", message)


def _sides(measured: Pair, aa: bool) -> list[Trial]:
    """The trials that are the baseline: in an A/A pair both."""
    return [measured.baseline, measured.candidate] if aa else [measured.baseline]


def disturbed(ctx: Context, measured: Pair, aa: bool) -> str | None:
    """Why the pair looks hit by a transient (None: it does not): a baseline-side trial far off
    the run's recent baseline trials. The candidate side is never the test: that would bias it."""
    primary = watched(ctx.config.objective.primary)
    for trial in _sides(measured, aa):
        found = transient(trial.metrics.get(primary, float("nan")), ctx.log.recent)
        if found is not None:
            info = METRICS[primary]
            unit = f" {info.unit}" if info.unit else ""
            return (
                f"a baseline trial's {info.label} {found.value:.4g}{unit} was "
                f"{found.ratio:.2g}x the run's recent median {found.reference:.4g}{unit}: "
                "a transient"
            )
    return None


def watched(primary: str) -> str:
    """The figure transients are told by: the primary, unless it is the pipeline's (an image
    size is the same in every trial; a build time is not the service's): then p95 latency."""
    return GUARDING if primary in PIPELINE_METRICS else primary


def _remember(ctx: Context, measured: Pair, aa: bool) -> None:
    primary = watched(ctx.config.objective.primary)
    ctx.log.recent.extend(t.metrics.get(primary, float("nan")) for t in _sides(measured, aa))


def _trial(
    ctx: Context,
    baseline: Subject,
    subject: Subject,
    side: Side,
    name: str,
    attempt: int,
    count: int,
    duel: bool = False,
) -> Trial:
    ctx.reporter.stage(subject.slug, f"{name.replace('-', ' ', 1)}/{count}: {side}")
    artifact = baseline.artifact if side == "baseline" else subject.artifact
    assert artifact is not None
    retry = f"-retry{attempt}" if attempt else ""
    label = f"{subject.slug}/{name}{retry}-{side}"
    try:
        built = _cold_build(ctx, artifact, label)  # before the calm wait: it settles after it
        calm = ctx.quiet.wait()  # the previous trial's teardown, someone else's job: wait it out
        if not calm.calm:
            ctx.reporter.stage(subject.slug, calm.note)
        trial = ctx.trials(ctx.backend, artifact, side, label, ctx.plan)
        busy = None if calm.calm else calm.note
        metrics = {**trial.metrics, **_pipeline(ctx, artifact), **built}
        return trial.model_copy(
            update={"calm_wait": round(calm.waited, 3), "started_busy": busy, "metrics": metrics}
        )
    except TrialInvalid as invalid:
        raise TrialInvalid(side, str(invalid)) from invalid
    except StageFailure as failure:
        if not duel and (side == "baseline" or subject.candidate is None):
            raise BaselineError(f"the baseline failed a trial: {failure}") from failure
        raise StageFailure(failure.stage, f"{name}: {failure.reason}") from failure


def _cold_build(ctx: Context, artifact: Artifact, label: str) -> dict[str, float]:
    """With build_seconds among the objectives or guardrails, each trial's side is first built
    again without any cache: build times come in pairs, in the pair's random order, like every
    other figure (the calm wait after it lets the machine settle before the trial)."""
    if BUILD_METRIC not in ctx.config.objective.wanted():
        return {}
    log = ctx.run_dir / "logs" / f"{label}.cold-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return {BUILD_METRIC: ctx.backend.cold_build(artifact, log)}


def _pipeline(ctx: Context, artifact: Artifact) -> dict[str, float]:
    """The image's sizes, the same for every trial of a side (exact metrics), when wanted."""
    if not set(IMAGE_METRICS) & ctx.config.objective.wanted():
        return {}
    sizes = {
        "image_size_mb": artifact.image_size_mb,
        "image_compressed_mb": artifact.image_compressed_mb,
    }
    return {name: value for name, value in sizes.items() if value is not None}
