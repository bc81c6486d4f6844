"""From prepared candidates to verdicts: screening ranks, a fresh confirmation block for the
most promising, A/A pairs spread through both, Holm's correction across the confirmed, then the
judge and its gates."""

from __future__ import annotations

import math
import random
from dataclasses import replace

from mutbot.config import Config
from mutbot.errors import StageFailure
from mutbot.guardrails import Headroom
from mutbot.judge import Outcome, Settings, compare, judge, scored, screen, settings_for
from mutbot.measure import block
from mutbot.noise import NoiseSchedule
from mutbot.pipeline import Context, Subject, recorded
from mutbot.results import Noise, is_final
from mutbot.stats import holm


def settings(config: Config) -> Settings:
    share = config.objective.memory_ceiling
    headroom = Headroom(config.sandbox.memory / 1024**2, share) if share is not None else None
    return settings_for(config.objective.primary, config.judge, config.objective.limits(), headroom)


def schedule(ctx: Context, baseline: Subject, rng: random.Random) -> NoiseSchedule:
    return NoiseSchedule(ctx, baseline, rng, ctx.config.judge.aa_pairs)


def evaluate(
    ctx: Context, baseline: Subject, subjects: list[Subject], noise: NoiseSchedule
) -> tuple[Noise | None, dict[str, Outcome]]:
    """`noise`: the run's A/A schedule (perhaps with a pair measured before proposing)."""
    rules = settings(ctx.config)
    judge_rules = ctx.config.judge
    alive = [s for s in subjects if not s.failure]
    screened = len(alive) > judge_rules.confirm_top
    confirmed_count = min(len(alive), judge_rules.confirm_top)
    noise.plan(
        (judge_rules.screen_pairs * len(alive) if screened else 0)
        + judge_rules.pairs * confirmed_count
    )
    if not noise.pairs and alive:
        noise.measure("before the first candidate pair")
    confirmed = _screen(ctx, baseline, alive, rules, noise) if screened else alive
    for subject in confirmed:
        with recorded(subject, "confirm", ctx.reporter):
            subject.pairs = block(
                ctx, baseline, subject, judge_rules.pairs, "confirm", noise.rng, noise.tick
            )
    if alive:
        noise.finish()
    measured = [s for s in confirmed if not s.failure]
    p_values = [compare(s.pairs, rules.primary, rules.alpha).p_value for s in measured]
    p_values = [1.0 if math.isnan(p) else p for p in p_values]  # unmeasurable: no evidence
    adjusted = dict(zip((s.slug for s in measured), holm(p_values), strict=True))
    result = noise.result()
    decisions = {}
    for subject in subjects:
        if subject.failure:
            failure = subject.failure
            final = is_final("reject", failure.stage)
            decisions[subject.slug] = Outcome("reject", failure.stage, failure.reason, final=final)
            continue
        outcome = decisions[subject.slug] = _judge(
            subject, own(rules, subject), adjusted[subject.slug], result
        )
        ctx.reporter.stage(subject.slug, f"{outcome.verdict}: {outcome.reason}")
    return result, decisions


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


def _screen(
    ctx: Context,
    baseline: Subject,
    alive: list[Subject],
    rules: Settings,
    noise: NoiseSchedule,
) -> list[Subject]:
    """With more candidates than confirmation slots, a short block ranks them; it never vetoes
    on a point estimate (only a measured failure, such as a crash, stops a candidate here)."""
    top = ctx.config.judge.confirm_top
    estimates = {}
    for subject in alive:
        with recorded(subject, "screen", ctx.reporter):
            subject.screening = block(
                ctx,
                baseline,
                subject,
                ctx.config.judge.screen_pairs,
                "screen",
                noise.rng,
                noise.tick,
            )
            try:
                estimates[subject.slug] = screen(subject.screening, own(rules, subject))
            except ValueError as exc:
                raise StageFailure("screen", str(exc)) from None
    ranked = sorted((s for s in alive if not s.failure), key=lambda s: -estimates[s.slug][0])
    for subject in ranked[top:]:
        reason = f"{estimates[subject.slug][1]}, not among the {top} best to confirm"
        subject.failure = StageFailure("screen", reason)
    return ranked[:top]
