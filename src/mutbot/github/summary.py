"""The run summary for `$GITHUB_STEP_SUMMARY` (pure): every candidate in one table and its
estimate on one chart, what the detectors found, who proposed and what it cost, and what waits
for a free pull request slot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mutbot.estimates import forest, ordered
from mutbot.forest_text import forest_block
from mutbot.report import headline, neutralise
from mutbot.results import CandidateResult, RunResult

MAX_OPPORTUNITIES = 50
_CELL_LIMIT = 300
_VERDICTS = {
    "propose": "proposed",
    "needs-review": "needs review",
    "inconclusive": "inconclusive",
    "reject": "rejected",
}
Action = Literal["opened", "updated", "unchanged", "skipped", "failed"]


@dataclass(frozen=True)
class Published:
    """What happened on GitHub for one candidate (or a revert)."""

    slug: str
    action: Action
    url: str | None
    reason: str


def cell(text: str, limit: int = _CELL_LIMIT) -> str:
    """Safe inside a markdown table cell: defused like PR text, one line, pipes escaped."""
    text = " ".join(neutralise(text, limit).split())
    return text.replace("\\", "\\\\").replace("|", "\\|")


def step_summary(
    run: RunResult,
    published: list[Published],
    *,
    decision_reason: str,
    llm_cost: str | None = None,
) -> str:
    parts = [_heading(run, decision_reason), _candidates(run, published)]
    chart = _estimates(run)
    if chart:
        parts.append(chart)
    waiting = _waiting(run, published)
    if waiting:
        parts.append(waiting)
    others = _other_actions(run, published)
    if others:
        parts.append(others)
    parts += [_opportunities(run), _proposer(run, llm_cost)]
    return "\n".join(parts)


def _heading(run: RunResult, reason: str) -> str:
    counts = {v: sum(1 for c in run.candidates if c.verdict == v) for v in _VERDICTS}
    state = " (interrupted: partial results)" if run.interrupted else ""
    return (
        f"## mutbot run `{run.run_id}`{state}\n\n"
        f"{cell(reason)}\n\n"
        f"Commit `{run.base_commit[:12]}`, {run.backend} sandbox: {len(run.candidates)} "
        f"candidates, {counts['propose']} proposed, {counts['needs-review']} need review, "
        f"{counts['inconclusive']} inconclusive (measured again next run), "
        f"{counts['reject']} rejected.\n"
    )


def _estimates(run: RunResult) -> str:
    """Every candidate's estimate with its interval, in the table's order, as a text chart."""
    numbers = forest(run)
    block = forest_block(numbers) if numbers else None
    return f"### Estimates\n\n{block}\n" if block else ""


def _candidates(run: RunResult, published: list[Published]) -> str:
    if not run.candidates:
        return "### Candidates\n\nNo candidate was evaluated.\n"
    by_slug = {p.slug: p for p in published}
    lines = [
        "### Candidates\n",
        "| candidate | kind | verdict | result | pull request |",
        "| --- | --- | --- | --- | --- |",
    ]
    for cand in ordered(run):
        kind = cand.kind + (f" ({cand.category})" if cand.category else "")
        lines.append(
            f"| {cell(cand.title, 200)} | {cell(kind)} | {_VERDICTS[cand.verdict]} | "
            f"{_result(cand, run)} | {_pull(cand, by_slug.get(cand.slug))} |"
        )
    return "\n".join(lines) + "\n"


def _result(cand: CandidateResult, run: RunResult) -> str:
    if cand.verdict == "propose" and run.objective.get("primary") in cand.comparisons:
        return cell(headline(cand, run))
    stage = f"{cand.stage}: " if cand.stage else ""
    return cell(stage + (cand.reason or "no reason recorded"))


def _pull(cand: CandidateResult, outcome: Published | None) -> str:
    if cand.verdict != "propose":
        return f"no PR: {_VERDICTS[cand.verdict]}"
    if outcome is None:
        return "no PR: not published in this run"
    if outcome.action == "skipped":
        return "no PR: " + cell(outcome.reason or "skipped")
    if outcome.action == "failed":
        return "failed: " + cell(outcome.reason or "unknown error")
    link = f"[{outcome.action}]({outcome.url})" if outcome.url else outcome.action
    return link + (f" ({cell(outcome.reason)})" if outcome.reason else "")


def _waiting(run: RunResult, published: list[Published]) -> str:
    """Proposed candidates without a pull request: beyond the PR limit, listed in an
    alternative's pull request, waiting for an open one they conflict with, or never published."""
    done = {p.slug: p for p in published if p.action != "skipped"}
    skipped = {p.slug: p for p in published if p.action == "skipped"}
    rest = [c for c in ordered(run) if c.verdict == "propose" and c.slug not in done]
    if not rest:
        return ""
    lines = ["### Proposed, without a pull request of their own\n"]
    for cand in rest:
        why = skipped[cand.slug].reason if cand.slug in skipped else "not published"
        lines.append(f"- {cell(cand.title, 200)}: {_result(cand, run)} ({cell(why)})")
    return "\n".join(lines) + "\n"


def _other_actions(run: RunResult, published: Iterable[Published]) -> str:
    """Outcomes for no candidate of this run, such as a revert."""
    slugs = {c.slug for c in run.candidates}
    rest = [p for p in published if p.slug not in slugs]
    if not rest:
        return ""
    lines = ["### Other actions\n"]
    for p in rest:
        link = f" [{p.url}]({p.url})" if p.url else ""
        reason = f": {cell(p.reason)}" if p.reason else ""
        lines.append(f"- {cell(p.slug, 100)} {p.action}{link}{reason}")
    return "\n".join(lines) + "\n"


def _opportunities(run: RunResult) -> str:
    found = run.proposal.opportunities if run.proposal else []
    if not found:
        return "### Detected opportunities\n\nNone detected.\n"
    lines = [
        "### Detected opportunities\n",
        "| category | where | why |",
        "| --- | --- | --- |",
    ]
    for opp in found[:MAX_OPPORTUNITIES]:
        lines.append(
            f"| {cell(opp.category)} | {cell(f'{opp.path}:{opp.line}')} | {cell(opp.why)} |"
        )
    if len(found) > MAX_OPPORTUNITIES:
        lines.append(f"\n{len(found) - MAX_OPPORTUNITIES} more in results.json.")
    return "\n".join(lines) + "\n"


def _proposer(run: RunResult, llm_cost: str | None) -> str:
    record = run.proposal
    if record is None:
        return "### Proposer\n\nNo proposal record.\n"
    lines = [f"### Proposer\n\n- **Proposer:** {cell(record.proposer)}"]
    if record.requested != record.proposer:
        failure = f": {cell(record.failure)}" if record.failure else ""
        lines.append(f"- **Asked first:** {cell(record.requested)}{failure}")
    usage = record.usage
    if llm_cost is not None:
        cost = cell(llm_cost)
    elif usage is not None:
        cost = (
            f"${usage.usd:.4f} ({usage.requests} requests, {usage.input_tokens:,} input and "
            f"{usage.output_tokens:,} output tokens, {cell(usage.model)})"
        )
    else:
        cost = "none (no LLM was used)"
    lines.append(f"- **LLM cost:** {cost}")
    for note in record.notes[:10]:
        lines.append(f"- {cell(note)}")
    return "\n".join(lines) + "\n"
