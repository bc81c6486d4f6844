"""`mutbot explain`: recompute a verdict from results.json alone and show every step (pure)."""

from __future__ import annotations

import math

from mutbot.config import Judge
from mutbot.judge import (
    Settings,
    compare,
    deltas,
    judge,
    noise_spread,
    scored,
    settings_for,
)
from mutbot.metrics import METRICS
from mutbot.report import change, fmt, interval, p_text
from mutbot.results import CandidateResult, RunResult
from mutbot.risk import assess_complexity, assess_risk
from mutbot.stats import holm


def find(run: RunResult, name: str) -> CandidateResult | None:
    for cand in run.candidates:
        if name in (cand.slug, cand.title, cand.fingerprint):
            return cand
    return None


def _settings(run: RunResult) -> Settings:
    guardrails = run.objective.get("guardrails", {})
    assert isinstance(guardrails, dict)
    limits = {str(k): float(v) for k, v in guardrails.items()}
    return settings_for(str(run.objective["primary"]), Judge.model_validate(run.judge), limits)


def explain(run: RunResult, cand: CandidateResult) -> tuple[list[str], bool]:
    """The lines to print, and whether the recomputed verdict matches the recorded one."""
    rules = _settings(run)
    primary = rules.primary
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
    spread = None
    if run.noise:
        spread = noise_spread(run.noise.pairs, primary)
        lines.append(f"A/A spread (sd of d over {len(run.noise.pairs)} pairs): {spread:.3f}")
    risk, complexity = assess_risk(cand.diff, cand.risk), assess_complexity(cand.diff)
    outcome = judge(cand.pairs, rules, p_adj, spread, scored(risk), scored(complexity))
    j = outcome.judgement
    assert j is not None  # the judge always explains itself
    lines.append(f"minimum effect {j.min_effect:.1%} ({j.min_effect_source})")
    lines.append("guardrails: " + ("; ".join(j.vetoes) if j.vetoes else "none broken"))
    lines.append(
        "gates: "
        + ", ".join(f"{g.name} {g.value:.2f} {'ok' if g.ok else 'FAILED'}" for g in j.gates)
    )
    lines.append(f"recomputed: {outcome.verdict} — {outcome.reason}")
    same = (outcome.verdict, outcome.stage, outcome.reason) == (
        cand.verdict,
        cand.stage,
        cand.reason,
    )
    lines.append("matches the recorded verdict" if same else "DIFFERS from the recorded verdict")
    return lines, same
