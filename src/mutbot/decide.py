"""The spine's decision rule (pure): better on the primary metric in every pair, no guardrail
broken. The statistical judge replaces this rule."""

from __future__ import annotations

from dataclasses import dataclass

from mutbot.metrics import METRICS, median, relative_change
from mutbot.results import Comparison, Pair, Verdict


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    stage: str | None
    reason: str


def compare(pairs: list[Pair], metric: str) -> Comparison:
    base = [p.baseline.metrics[metric] for p in pairs]
    cand = [p.candidate.metrics[metric] for p in pairs]
    better = sum(1 for b, c in zip(base, cand, strict=True) if relative_change(metric, b, c) > 0)
    b, c = median(base), median(cand)
    return Comparison(
        metric=metric,
        baseline=b,
        candidate=c,
        change=relative_change(metric, b, c),
        pairs_better=better,
        pairs=len(pairs),
    )


def compare_all(pairs: list[Pair]) -> dict[str, Comparison]:
    names = pairs[0].baseline.metrics.keys() if pairs else ()
    return {name: compare(pairs, name) for name in names if name in METRICS}


def _breaks(metric: str, value: float, limit: float) -> bool:
    return value > limit if METRICS[metric].better == "lower" else value < limit


def decide(pairs: list[Pair], primary: str, guardrails: dict[str, float]) -> Decision:
    if not pairs:
        return Decision("reject", "decide", "no paired trial was measured")
    for pair in pairs:
        for metric, limit in guardrails.items():
            value = pair.candidate.metrics[metric]
            if _breaks(metric, value, limit):
                label = METRICS[metric].label
                return Decision(
                    "reject",
                    "guardrail",
                    f"{label} {value:.4g} beyond the guardrail {limit:g} (pair {pair.index + 1})",
                )
    result = compare(pairs, primary)
    label = METRICS[primary].label
    if result.pairs_better < result.pairs:
        return Decision(
            "reject",
            "decide",
            f"{label} better in {result.pairs_better} of {result.pairs} pairs; the rule needs all",
        )
    return Decision(
        "propose", None, f"{label} better in all {result.pairs} pairs (median {result.change:+.1%})"
    )
