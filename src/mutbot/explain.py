"""`mutbot explain`: recompute a verdict from results.json alone and show every step (pure)."""

from __future__ import annotations

import math
from dataclasses import replace

from pydantic import ValidationError

from mutbot.config import Judge
from mutbot.guardrails import Headroom
from mutbot.judge import Settings, compare, judge, noise_spread, scored, settings_for
from mutbot.metric_math import deltas
from mutbot.metrics import METRICS
from mutbot.noise_rules import plain_spread
from mutbot.report import change, fmt, interval, p_text
from mutbot.results import CandidateResult, RunResult
from mutbot.risk import assess_complexity, assess_risk
from mutbot.selection_text import chosen_lines
from mutbot.stats import holm
from mutbot.units import parse_size, shown

MAX_PAIRS = 200  # judge.pairs at most; the exact test takes seconds on a few hundred
MAX_CONFIRMED = 50  # judge.confirm_top at most


def find(run: RunResult, name: str) -> CandidateResult | None:
    for cand in run.candidates:
        if name in (cand.slug, cand.title, cand.fingerprint):
            return cand
    return None


class Unusable(ValueError):
    """A results.json that parses but cannot be recomputed (edited by hand, or not mutbot's)."""


def _settings(run: RunResult) -> Settings:
    primary = run.objective.get("primary")
    if not isinstance(primary, str) or primary not in METRICS:
        raise Unusable(f"objective.primary: expected a metric name, got {shown(primary)}")
    guardrails = run.objective.get("guardrails", {})
    if not isinstance(guardrails, dict):
        raise Unusable(f"objective.guardrails: expected a mapping, got {shown(guardrails)}")
    limits: dict[str, float] = {}
    for name, limit in guardrails.items():
        if name not in METRICS:
            raise Unusable(f"objective.guardrails: unknown metric {shown(name)}")
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 <= limit < 1e300:
            raise Unusable(f"objective.guardrails.{name}: expected a limit of zero or more")
        limits[name] = float(limit)
    try:
        rules = Judge.model_validate(run.judge)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(["judge", *(str(part) for part in first["loc"])])[:100]
        raise Unusable(f"{key}: {first['msg'].removeprefix('Value error, ')[:300]}") from None
    return settings_for(primary, rules, limits, _headroom(run))


def _headroom(run: RunResult) -> Headroom | None:
    """The memory ceiling the run judged by; none in results written before it had one."""
    share = run.objective.get("memory_ceiling")
    if share is None:
        return None
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
        raise Unusable(f"objective.memory_ceiling: expected a share below 1, got {shown(share)}")
    try:
        limit = parse_size(run.limits.get("memory"))
    except ValueError as exc:
        raise Unusable(f"limits.memory: {exc}") from None
    return Headroom(limit / 1024**2, float(share))


def _own(rules: Settings, cand: CandidateResult) -> Settings:
    """A candidate that ran with its own memory limit was judged against it."""
    if rules.headroom is None or "memory" not in cand.limits:
        return rules
    try:
        limit = parse_size(cand.limits["memory"])
    except ValueError as exc:
        raise Unusable(f"{cand.slug}: limits.memory: {exc}") from None
    return replace(rules, headroom=rules.headroom.own(limit / 1024**2))


def _check_blocks(run: RunResult, rules: Settings) -> None:
    """The pairs the judge reads, as a run writes them: few enough for the exact test, enough
    for a finite interval at alpha, the primary metric in every trial, every figure 0, NaN (not
    measured) or from 1e-6 to 1e9 (so no log ratio passes ±35, where expm1 rounds to -1 and its
    inverse fails)."""
    confirmed = [c for c in run.candidates if c.judgement is not None]
    if len(confirmed) > MAX_CONFIRMED:
        raise Unusable(
            f"{len(confirmed)} judged candidates; a run confirms at most {MAX_CONFIRMED}"
        )
    fewest = math.ceil(1 - math.log2(rules.alpha) - 1e-9)  # 1/2^n <= alpha/2
    blocks = [(f"candidate {shown(c.slug)}", c.pairs) for c in confirmed]
    for name, pairs in blocks:
        if not fewest <= len(pairs) <= MAX_PAIRS:
            raise Unusable(
                f"{name}: {len(pairs)} pairs; a judged candidate has from {fewest} (alpha "
                f"{rules.alpha:g}) to {MAX_PAIRS}"
            )
    if run.noise is not None:
        if len(run.noise.pairs) > MAX_PAIRS:
            raise Unusable(f"the A/A block: {len(run.noise.pairs)} pairs; at most {MAX_PAIRS}")
        blocks.append(("the A/A block", run.noise.pairs))
    for name, pairs in blocks:
        for pair in pairs:
            for trial in (pair.baseline, pair.candidate):
                where = f"{name}: pair {pair.index + 1} {trial.side}"
                if rules.primary not in trial.metrics:
                    raise Unusable(f"{where}: no {rules.primary}")
                for metric, value in trial.metrics.items():
                    if not (value == 0 or 1e-6 <= value <= 1e9 or math.isnan(value)):
                        raise Unusable(
                            f"{where}: {shown(metric)} is {shown(value)}, expected 0 or a "
                            "figure from 1e-6 to 1e9"
                        )


def explain(run: RunResult, cand: CandidateResult) -> tuple[list[str], bool]:
    """The lines to print, and whether the recomputed verdict matches the recorded one.
    Unusable when the file's settings or pairs cannot be what a run wrote."""
    rules = _settings(run)
    primary = rules.primary
    _check_blocks(run, rules)
    lines = [f"{cand.title} [{cand.slug}]", f"recorded: {cand.verdict} — {cand.reason}"]
    if cand.judgement is None:
        lines.append(f"rejected at stage {cand.stage} before the judge: nothing to recompute")
        return lines, True
    lines.append(f"\nconfirmation block, {METRICS[primary].label}, d = ln ratio (+ = better):")
    lines.append("  pair  order                  baseline   candidate        d")
    for pair, d in zip(cand.pairs, deltas(cand.pairs, primary), strict=True):
        lines.append(
            f"  {pair.index + 1:>4}  {' → '.join(pair.order):<21}"
            f"{fmt(primary, pair.baseline.metrics[primary]):>10}"
            f"{fmt(primary, pair.candidate.metrics[primary]):>12}{d:>+9.3f}"
        )
        lines += [f"        re-measured: {why}" for why in pair.remeasured]
        lines += [
            f"        {t.side} trial: {t.started_busy}"
            for t in (pair.baseline, pair.candidate)
            if t.started_busy
        ]
    comp = compare(cand.pairs, primary, rules.alpha)
    lines.append(
        f"Hodges–Lehmann {change(primary, comp.change)}, {1 - rules.alpha:.0%} CI "
        f"{interval(primary, comp)}, exact one-sided Wilcoxon p = {p_text(comp.p_value)}"
    )
    confirmed = [c for c in run.candidates if c.judgement is not None]
    raw = [compare(c.pairs, primary, rules.alpha).p_value for c in confirmed]
    adjusted = holm([p if not math.isnan(p) else 1.0 for p in raw])
    p_adj = adjusted[[c.slug for c in confirmed].index(cand.slug)]
    lines.append(f"Holm across {len(confirmed)} confirmed candidate(s): p = {p_text(p_adj)}")
    lines += _selection_lines(run, cand, rules)
    spread = None
    if run.noise:
        lines += _noise_lines(run, primary)
        spread = noise_spread(run.noise.pairs, primary)
    risk, complexity = assess_risk(cand.diff, cand.risk), assess_complexity(cand.diff)
    rules = _own(rules, cand)
    outcome = judge(cand.pairs, rules, p_adj, spread, scored(risk), scored(complexity))
    j = outcome.judgement
    assert j is not None  # the judge always explains itself
    lines.append(f"minimum effect {j.min_effect:.1%} ({j.min_effect_source})")
    if j.noise_floor is not None:
        lines.append(f"noise floor: {j.noise_floor:.1%} (the smallest effect this run resolves)")
    lines.append(
        f"guardrails (convicted at alpha {rules.alpha:g}, cleared at {rules.clear_alpha:g}):"
    )
    lines += [f"  {c.status:<9} {c.text}" for c in j.guardrails] or ["  none measured"]
    if j.vetoes:
        lines.append("vetoes: " + "; ".join(j.vetoes))
    lines.append(
        "gates: "
        + ", ".join(f"{g.name} {g.value:.2f} {'ok' if g.ok else 'FAILED'}" for g in j.gates)
    )
    if j.settle:
        lines.append(f"to settle it: {j.settle}")
    lines.append(f"recomputed: {outcome.verdict} — {outcome.reason}")
    same = (outcome.verdict, outcome.stage, outcome.reason) == (
        cand.verdict,
        cand.stage,
        cand.reason,
    )
    lines.append("matches the recorded verdict" if same else "DIFFERS from the recorded verdict")
    return lines, same


def _selection_lines(run: RunResult, cand: CandidateResult, rules: Settings) -> list[str]:
    """The screening estimate that chose it, recomputed from its screening pairs (a reduced
    winner's: from the configuration it was reduced from), beside the confirmed one; and what
    each setting of a reduced winner cost when removed, recomputed from its pairs."""
    chosen = cand.selection
    if chosen is None:
        return []
    source = find(run, chosen.reduced_from) if chosen.reduced_from else cand
    pairs = source.screening if source else []
    lines = [f"\nhow it was chosen: {' '.join(chosen_lines(cand, run))}"]
    if pairs:
        again = compare(pairs, rules.primary, rules.alpha).change
        lines.append(
            f"  screening estimate recomputed from {len(pairs)} pairs: "
            f"{change(rules.primary, again)} (recorded "
            f"{change(rules.primary, chosen.screening_change or math.nan)})"
        )
    for c in chosen.contributions:
        cost = compare(c.pairs, rules.primary, rules.alpha).change if c.pairs else math.nan
        lines.append(
            f"  {c.key}: {'kept' if c.kept else 'dropped'}, removing it "
            f"{change(rules.primary, cost)} over {len(c.pairs)} pairs (recomputed)"
        )
    return lines


def _noise_lines(run: RunResult, primary: str) -> list[str]:
    """The A/A pairs, when each was measured, and the spread the judge used."""
    assert run.noise is not None
    pairs = run.noise.pairs
    d = [float(x) for x in deltas(pairs, primary)]
    lines = [f"\nA/A pairs (the baseline against itself), {METRICS[primary].label}:"]
    for i, (pair, value) in enumerate(zip(pairs, d, strict=True)):
        where = run.noise.placed[i] if i < len(run.noise.placed) else ""
        lines.append(f"  {pair.index + 1:>4}  d {value:>+7.3f}  {where}")
        lines += [f"        re-measured: {why}" for why in pair.remeasured]
    lines.append(
        f"A/A spread: robust {noise_spread(pairs, primary):.3f} (1.4826 x MAD), "
        f"plain sd {plain_spread(d):.3f}, over {len(pairs)} pairs"
    )
    return lines
