"""Minimal winners: a winner that changes several settings is reduced before it becomes a pull
request. Each setting in turn goes back to the baseline's value; the configuration without it
is measured in paired trials against the one with it, and the setting is dropped when its
removal costs less than judge.min_effect. The pull request then changes only what matters and
says what each setting contributes. The reduction happens before the confirmation block, so
that block still judges exactly what the pull request would merge."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mutbot.candidates import slugify
from mutbot.judge import compare
from mutbot.metric_math import to_d
from mutbot.results import Contribution, Pair
from mutbot.run.measure import block
from mutbot.run.stages import prepare
from mutbot.run.subject import Subject, recorded
from mutbot.tune import candidate as candidates

if TYPE_CHECKING:
    from mutbot.tune.loop import Loop


def threshold(primary: str, min_effect: float) -> float:
    """judge.min_effect as a d: the smaller of a gain and a loss of that size."""
    return min(abs(to_d(primary, min_effect)), abs(to_d(primary, -min_effect)))


def reduce(loop: Loop, winner: Subject) -> Subject:
    """The winner with every setting that carries no measured effect dropped (itself when it
    changes fewer than two settings of the space, or none can be dropped)."""
    ctx, space = loop.ctx, loop.space
    params = loop.params_of(winner)
    if params is None or len(space.changed(params)) < 2:
        return winner
    primary, judge = ctx.config.objective.primary, ctx.config.judge
    least = threshold(primary, judge.min_effect)
    current, kept_params = winner, dict(params)
    found: list[Contribution] = []
    dropped: list[Subject] = []
    for dim in [d for d in space.dims if d.key in space.changed(params)]:
        if len(space.changed(kept_params)) < 2:
            break  # the last setting is the change itself
        before, after = dim.current, kept_params[dim.key]
        without = {**kept_params, dim.key: before}
        rationale = f"{current.candidate.title if current.candidate else ''} without {dim.key}"
        built = candidates.build(space, without, loop.files, ctx.view, ctx.rules, rationale)
        if isinstance(built, str):
            found.append(_kept(dim.key, before, after, [], f"cannot be removed alone: {built}"))
            continue
        taken = {s.slug for s in loop.subjects} | {"baseline", "a-a-noise"}
        subject = Subject(slugify(built.title, taken), built)
        loop.subjects.append(subject)
        prepare(ctx, subject)
        pairs: list[Pair] = []
        if not subject.failure:
            with recorded(subject, "reduce", ctx.reporter):
                pairs = block(
                    ctx,
                    current,
                    subject,
                    judge.screen_pairs,
                    "reduce",
                    loop.noise.rng,
                    loop.noise.tick,
                    duel=True,
                )
        if subject.failure:
            reason = subject.failure.reason
            found.append(_kept(dim.key, before, after, pairs, f"without it: {reason}"))
            continue
        change = compare(pairs, primary, judge.alpha).change
        cost = -to_d(primary, change) if not math.isnan(change) else math.inf
        if cost >= least:
            note = f"removing it costs {change:+.1%} ({len(pairs)} pairs): kept"
            subject.leave_out("screen", f"{dim.key} matters: {note}")
            found.append(_kept(dim.key, before, after, pairs, note, change))
            continue
        note = f"removing it costs {change:+.1%} ({len(pairs)} pairs), under the minimum effect"
        found.append(
            Contribution(
                key=dim.key,
                before=before,
                after=after,
                cost=change,
                pairs=pairs,
                kept=False,
                note=note,
            )
        )
        dropped.append(current)
        current, kept_params = subject, without
        ctx.reporter.stage(winner.slug, f"reduced: {dim.key} dropped, {note}")
    if current is winner:
        if winner.selection is not None:
            winner.selection = winner.selection.model_copy(update={"contributions": found})
        return winner
    for earlier in dropped:
        earlier.leave_out(
            "screen", f"reduced to {current.slug}: it keeps only the settings that matter"
        )
    if winner.selection is not None:
        current.selection = winner.selection.model_copy(
            update={"reduced_from": winner.slug, "contributions": found}
        )
    return current


def _kept(
    key: str, before: object, after: object, pairs: list[Pair], note: str, cost: float | None = None
) -> Contribution:
    return Contribution.model_validate(
        {
            "key": key,
            "before": before,
            "after": after,
            "cost": cost,
            "pairs": pairs,
            "kept": True,
            "note": note,
        }
    )
