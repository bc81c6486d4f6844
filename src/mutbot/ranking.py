"""The terminal's closing table (pure): every candidate ranked with its verdict, and who
proposed them."""

from __future__ import annotations

from mutbot.report import headline
from mutbot.results import RunResult


def ranking_rows(run: RunResult) -> list[tuple[str, str, str, str]]:
    """(rank, candidate, verdict, detail) for the terminal table: proposed first, best first."""
    rows = []
    by_slug = {c.slug: c for c in run.candidates}
    for rank, slug in enumerate(run.ranking, start=1):
        cand = by_slug[slug]
        rows.append((str(rank), cand.title, "propose", headline(cand, run)))
    for cand in run.candidates:
        if cand.verdict == "needs-review":
            rows.append(("?", cand.title, "needs review", cand.reason))
    for cand in run.candidates:
        if cand.verdict == "inconclusive":
            rows.append(("~", cand.title, "inconclusive", cand.reason))
    for cand in run.candidates:  # left out by screening: undecided, measured again next run
        if cand.verdict == "reject" and not cand.final:
            rows.append(("~", cand.title, f"left out ({cand.stage})", cand.reason))
    for cand in run.candidates:
        if cand.verdict == "reject" and cand.final:
            rows.append(("-", cand.title, f"reject ({cand.stage})", cand.reason))
    return rows


def proposal_line(run: RunResult) -> str:
    """Who proposed, what the detectors found and what proposing cost, in one line."""
    record = run.proposal
    assert record is not None
    found = sorted({o.category for o in record.opportunities})
    text = (
        f"Proposed by {record.proposer}: {record.candidates} candidates; "
        f"{len(record.opportunities)} opportunities detected"
        + (f" ({', '.join(found)})" if found else "")
    )
    if record.failure:
        text += f"; {record.failure}"
    if record.usage:
        text += f"; LLM {record.usage.requests} requests, ${record.usage.usd:.4f}"
    return text
