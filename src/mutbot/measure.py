"""Blocks of paired trials: the A/A noise block, screening and confirmation.

Inside a pair the baseline and the subject run back to back, in a random (seeded, recorded)
order, each in a fresh instance; an invalid trial makes the whole pair run again."""

from __future__ import annotations

import random

from mutbot.errors import BaselineError, StageFailure, TrialInvalid
from mutbot.pipeline import Context, Subject
from mutbot.results import InvalidTrial, Pair, Side, Trial
from mutbot.trial import run_trial

ORDERS: list[tuple[Side, Side]] = [("baseline", "candidate"), ("candidate", "baseline")]


def block(
    ctx: Context, baseline: Subject, subject: Subject, count: int, label: str, rng: random.Random
) -> list[Pair]:
    """`count` pairs; StageFailure when the subject fails, BaselineError when the baseline does."""
    return [_pair(ctx, baseline, subject, index, count, label, rng) for index in range(count)]


def _pair(
    ctx: Context,
    baseline: Subject,
    subject: Subject,
    index: int,
    count: int,
    label: str,
    rng: random.Random,
) -> Pair:
    reasons = []
    for attempt in range(ctx.config.judge.max_reruns + 1):
        order = rng.choice(ORDERS)
        try:
            done = {
                side: _trial(ctx, baseline, subject, side, f"{label}-{index + 1}", attempt, count)
                for side in order
            }
        except TrialInvalid as invalid:
            side, reason = invalid.args
            subject.invalid.append(InvalidTrial(pair=index, side=side, reason=reason))
            reasons.append(reason)
            continue
        return Pair(
            index=index, order=order, baseline=done["baseline"], candidate=done["candidate"]
        )
    message = f"{label} pair {index + 1} invalid {len(reasons)} times: {reasons[-1]}"
    if subject.candidate is None:
        raise BaselineError(f"cannot measure the baseline: {message}")
    raise StageFailure("load", message)


def _trial(
    ctx: Context,
    baseline: Subject,
    subject: Subject,
    side: Side,
    name: str,
    attempt: int,
    count: int,
) -> Trial:
    ctx.reporter.stage(subject.slug, f"{name.replace('-', ' ', 1)}/{count}: {side}")
    artifact = baseline.artifact if side == "baseline" else subject.artifact
    assert artifact is not None
    retry = f"-retry{attempt}" if attempt else ""
    try:
        return run_trial(
            ctx.backend, artifact, side, f"{subject.slug}/{name}{retry}-{side}", ctx.plan
        )
    except TrialInvalid as invalid:
        raise TrialInvalid(side, str(invalid)) from invalid
    except StageFailure as failure:
        if side == "baseline" or subject.candidate is None:
            raise BaselineError(f"the baseline failed a trial: {failure}") from failure
        raise StageFailure(failure.stage, f"{name}: {failure.reason}") from failure
