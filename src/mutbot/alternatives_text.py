"""The other changes a pull request stands for, in words for its body (pure): candidates that
change the same setting or the same lines, so only one of them can be merged (mutbot.conflicts).
Each says what it was measured at and what it shares with the opened one."""

from __future__ import annotations

from collections.abc import Sequence

from mutbot.metrics import METRICS
from mutbot.results import CandidateResult, RunResult


def alternative_lines(
    alternatives: Sequence[tuple[CandidateResult, str]], run: RunResult
) -> list[str]:
    """One line per alternative, in the order given (best first)."""
    primary = str(run.objective["primary"])
    label = METRICS[primary].label if primary in METRICS else primary
    lines = []
    for candidate, why in alternatives:
        comp = candidate.comparisons.get(primary)
        if comp is not None:
            figure = (
                f"{label} {comp.change:+.1%} (CI {comp.ci_low:+.1%}…{comp.ci_high:+.1%}, "
                f"{comp.pairs} pairs), {candidate.verdict}"
            )
        elif candidate.selection and candidate.selection.screening_change is not None:
            figure = (
                f"screening estimate {label} {candidate.selection.screening_change:+.1%} "
                f"({candidate.selection.screen_pairs} pairs), not confirmed"
            )
        else:
            figure = candidate.verdict
        lines.append(f"{candidate.title}: {figure}; {why}")
    return lines
