"""From prepared candidates to verdicts: the A/A noise block, screening, a fresh confirmation
block for the most promising, Holm's correction across them, then the judge and its gates."""

from __future__ import annotations

import math
import random
from dataclasses import replace

from mutbot.config import Config
from mutbot.errors import StageFailure
from mutbot.judge import (
    Headroom,
    Outcome,
    Settings,
    compare,
    judge,
    noise_spread,
    scored,
    screen,
    settings_for,
)
from mutbot.measure import block
from mutbot.pipeline import Context, Subject, recorded
from mutbot.results import Noise
from mutbot.stats import holm


def settings(config: Config) -> Settings:
    share = config.objective.memory_ceiling
    headroom = Headroom(config.sandbox.memory / 1024**2, share) if share is not None else None
    return settings_for(config.objective.primary, config.judge, config.objective.limits(), headroom)


def evaluate(
    ctx: Context,
    baseline: Subject,
    subjects: list[Subject],
    rng: random.Random,
    noise: Noise | None = None,
) -> tuple[Noise | None, dict[str, Outcome]]:
    """`noise`: an A/A block already measured in this run (before proposing), if any."""
    rules = settings(ctx.config)
    alive = [s for s in subjects if not s.failure]
    if noise is None and alive and ctx.config.judge.aa_pairs:
        noise = measure_noise(ctx, baseline, rng)
    confirmed = _screen(ctx, baseline, alive, rules, rng)
    for subject in confirmed:
        with recorded(subject, "confirm", ctx.reporter):
            subject.pairs = block(ctx, baseline, subject, ctx.config.judge.pairs, "confirm", rng)
    measured = [s for s in confirmed if not s.failure]
    p_values = [compare(s.pairs, rules.primary, rules.alpha).p_value for s in measured]
    p_values = [1.0 if math.isnan(p) else p for p in p_values]  # unmeasurable: no evidence
    adjusted = dict(zip((s.slug for s in measured), holm(p_values), strict=True))
    decisions = {}
    for subject in subjects:
        if subject.failure:
            failure = subject.failure
            decisions[subject.slug] = Outcome("reject", failure.stage, failure.reason)
            continue
        outcome = decisions[subject.slug] = _judge(
            subject, own(rules, subject), adjusted[subject.slug], noise
        )
        ctx.reporter.stage(subject.slug, f"{outcome.verdict}: {outcome.reason}")
    return noise, decisions


def own(rules: Settings, subject: Subject) -> Settings:
    """A candidate whose trials ran with its own memory limit is judged against that limit."""
    limits = subject.artifact.limits if subject.artifact else None
    if rules.headroom is None or limits is None:
        return rules
    return replace(rules, headroom=rules.headroom.own(limits.memory / 1024**2))


def _judge(subject: Subject, rules: Settings, p_adjusted: float, noise: Noise | None) -> Outcome:
    spread = noise.spread if noise else None
    return judge(
        subject.pairs,
        rules,
        p_adjusted,
        spread,
        scored(subject.risk),
        scored(subject.complexity),
    )


def measure_noise(ctx: Context, baseline: Subject, rng: random.Random) -> Noise:
    """The baseline against itself: how far two identical sides of a pair disagree here."""
    twin = replace(baseline, slug="a-a-noise", stages=[], pairs=[], invalid=[])
    ctx.reporter.stage(twin.slug, "A/A block")
    pairs = block(ctx, baseline, twin, ctx.config.judge.aa_pairs, "aa", rng)
    primary = ctx.config.objective.primary
    spread = noise_spread(pairs, primary)
    ctx.reporter.stage(twin.slug, f"spread of ln ratio {spread:.3f}")
    return Noise(metric=primary, pairs=pairs, spread=spread)


def _screen(
    ctx: Context, baseline: Subject, alive: list[Subject], rules: Settings, rng: random.Random
) -> list[Subject]:
    """With more candidates than confirmation slots, a short block picks the most promising."""
    top = ctx.config.judge.confirm_top
    if len(alive) <= top:
        return alive
    estimates = {}
    for subject in alive:
        with recorded(subject, "screen", ctx.reporter):
            subject.screening = block(
                ctx, baseline, subject, ctx.config.judge.screen_pairs, "screen", rng
            )
            advance, reason, estimate = screen(subject.screening, own(rules, subject))
            if not advance:
                raise StageFailure("screen", reason)
            estimates[subject.slug] = (estimate, reason)
    ranked = sorted((s for s in alive if not s.failure), key=lambda s: -estimates[s.slug][0])
    for subject in ranked[top:]:
        reason = f"{estimates[subject.slug][1]}, not among the {top} best to confirm"
        subject.failure = StageFailure("screen", reason)
    return ranked[:top]
