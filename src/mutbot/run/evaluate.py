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
from mutbot.noise import NoiseSchedule
from mutbot.results import Noise, Selection, is_final
from mutbot.run.context import Context
from mutbot.run.measure import block
from mutbot.run.subject import Subject, recorded
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
    chosen = _screen(ctx, baseline, alive, rules, noise) if screened else alive
    return confirm(ctx, baseline, subjects, chosen, noise)


def confirm(
    ctx: Context,
    baseline: Subject,
    subjects: list[Subject],
    chosen: list[Subject],
    noise: NoiseSchedule,
) -> tuple[Noise | None, dict[str, Outcome]]:
    """A fresh confirmation block for each of `chosen` (whatever chose them: screening or the
    closed-loop search), the last A/A pairs, Holm across them, then a verdict for every
    subject (those not chosen carry the reason they were left out as their failure)."""
    rules = settings(ctx.config)
    judge_rules = ctx.config.judge
    for subject in chosen:
        with recorded(subject, "confirm", ctx.reporter):
            pairs = block(
                ctx, baseline, subject, judge_rules.pairs, "confirm", noise.rng, noise.tick
            )
            subject.confirmed_with(pairs, rules.alpha)
    if any(not s.failure for s in subjects) or chosen:
        noise.finish()
    measured = [s for s in chosen if not s.failure and s.compared is not None]
    p_values = [s.compared[rules.primary].p_value for s in measured if s.compared]
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
        subject.judged()
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
        subject.compared,
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
            pairs = block(
                ctx,
                baseline,
                subject,
                ctx.config.judge.screen_pairs,
                "screen",
                noise.rng,
                noise.tick,
            )
            subject.screened_with(pairs)
            try:
                estimates[subject.slug] = screen(subject.screening, own(rules, subject))
            except ValueError as exc:
                raise StageFailure("screen", str(exc)) from None
    ranked = sorted((s for s in alive if not s.failure), key=lambda s: -estimates[s.slug][0])
    for rank, subject in enumerate(ranked, 1):
        subject.selection = selection(subject, len(alive), rank, rules)
    for subject in ranked[top:]:
        reason = f"{estimates[subject.slug][1]}, not among the {top} best to confirm"
        subject.leave_out("screen", reason)
    return ranked[:top]


def selection(subject: Subject, tried: int, rank: int | None, rules: Settings) -> Selection:
    """What screening said of a subject, kept beside what its confirmation will say."""
    change = compare(subject.screening, rules.primary, rules.alpha).change
    return Selection(
        tried=tried,
        screen_pairs=len(subject.screening),
        screening_change=None if math.isnan(change) else change,
        rank=rank,
    )
