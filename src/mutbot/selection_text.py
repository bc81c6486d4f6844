"""How a candidate was chosen, in words for its pull request and `mutbot explain` (pure): how
many configurations were screened, the screening estimate beside the confirmed one (the
winner's curse made visible) and, for a reduced winner, what each setting contributes."""

from __future__ import annotations

import math

from mutbot.results import CandidateResult, Contribution, RunResult


def chosen_lines(candidate: CandidateResult, run: RunResult) -> list[str]:
    """One line each; empty when the candidate was confirmed without being screened."""
    chosen = candidate.selection
    if chosen is None:
        return []
    primary = str(run.objective["primary"])
    lines = []
    search = run.search
    if search is not None:
        failed = sum(1 for s in search.steps if s.status == "failed")
        warm = ""
        if search.warm:
            warm = f"; the model also learnt from {search.warm} measured in earlier runs"
        lines.append(
            f"Chosen by a closed-loop search ({search.sampler.upper()}) among {chosen.tried} "
            f"configurations screened with {chosen.screen_pairs} pairs each ({failed} more "
            f"failed; it stopped as {search.stopped}{warm})."
        )
    else:
        lines.append(
            f"Chosen among {chosen.tried} candidates screened with {chosen.screen_pairs} pairs "
            "each."
        )
    confirmed = candidate.comparisons.get(primary)
    whose = f"of {chosen.reduced_from}, which it was reduced from, " if chosen.reduced_from else ""
    screened = _pct(chosen.screening_change)
    if confirmed is not None:
        lines.append(
            f"Screening estimate {whose}{screened} (rank {chosen.rank}); confirmed "
            f"{_pct(confirmed.change)} over {len(candidate.pairs)} fresh pairs that took no "
            "part in choosing it. The best of many screening estimates is biased toward luck "
            "(the winner's curse): only the confirmed figure counts."
        )
    else:
        lines.append(f"Screening estimate {whose}{screened} (rank {chosen.rank}).")
    return lines


def contribution_lines(candidate: CandidateResult) -> list[str]:
    chosen = candidate.selection
    return [_contribution(c) for c in chosen.contributions] if chosen else []


def _contribution(c: Contribution) -> str:
    fate = "kept" if c.kept else "dropped"
    cost = f"removing it changed the primary by {_pct(c.cost)}" if c.cost is not None else ""
    what = f"{c.key} {_value(c.before)} → {_value(c.after)}"
    detail = c.note if not cost else f"{cost} over {len(c.pairs)} pairs"
    return f"{what}: {fate} ({detail})"


def _value(value: object) -> str:
    return "not set" if value is None else str(value)


def _pct(change: float | None) -> str:
    if change is None or math.isnan(change):
        return "not measured"
    return f"{change:+.1%}"
