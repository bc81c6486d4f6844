"""Pictures GitHub draws itself (pure): a Mermaid chart of a candidate's confirmation pairs,
the baseline and the candidate side by side for the primary metric, so a reviewer sees at a
glance whether every pair agrees or one pair carries the verdict.

Only numbers and mutbot's own metric labels go into the chart: no text from a candidate, a
repository or a model ever does, so nothing in it can be markup or a command."""

from __future__ import annotations

import math

from mutbot.estimates import pair_points
from mutbot.metrics import METRICS, charted
from mutbot.results import CandidateResult, RunResult

MAX_PAIRS = 60  # beyond this a chart is a smear; the per-trial table has every figure


def pairs_chart(candidate: CandidateResult, run: RunResult) -> str | None:
    """A fenced Mermaid `xychart-beta` block (bars: the baseline, line: the candidate), or None
    when there is nothing finite to draw."""
    primary = charted(str(run.objective["primary"]))
    shown = pair_points(candidate, primary)[:MAX_PAIRS]  # what the drawn pictures show too
    base = [p.baseline for p in shown]
    cand = [p.candidate for p in shown]
    values = [v for v in base + cand if math.isfinite(v)]
    if len(shown) < 2 or len(values) < len(base) + len(cand):
        return None
    info = METRICS.get(primary)
    label = info.label if info else primary
    unit = info.unit if info and info.unit else ""
    top = _ceiling(max(values))
    axis = f"{label} ({unit})" if unit else label
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{label} per confirmation pair: bars baseline, line candidate"',
        f"    x-axis [{', '.join(str(p.number) for p in shown)}]",
        f'    y-axis "{axis}" 0 --> {_number(top)}',
        f"    bar [{', '.join(_number(v) for v in base)}]",
        f"    line [{', '.join(_number(v) for v in cand)}]",
        "```",
    ]
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def _ceiling(value: float) -> float:
    """A round axis top a little above the largest value (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)
