"""Figures that read right (pure): the load in words; under a closed loop, per-request figures
first and a line on why the totals grew; under open-loop load, totals at equal load."""

from __future__ import annotations

from mutbot.figures_text import at_use_note, load_brief, table_label, table_order
from mutbot.report import render_pr, score_rows
from mutbot.results import CandidateResult, Comparison, RunResult
from testing.records import candidate, run


def comp(metric: str, baseline: float, change: float) -> Comparison:
    return Comparison(
        metric=metric,
        pairs=10,
        baseline=baseline,
        candidate=baseline * (1 + change),
        change=change,
        ci_low=change - 0.01,
        ci_high=change + 0.01,
        p_value=0.001,
        pairs_better=10,
    )


def served_more() -> CandidateResult:
    """The README's case: 15× the requests in a closed loop, totals up, per request down."""
    base = candidate("threads")
    return base.model_copy(
        update={
            "comparisons": {
                "throughput_rps": comp("throughput_rps", 20.0, 14.0),
                "cpu_cores_mean": comp("cpu_cores_mean", 0.1, 2.24),
                "cost_month_usd": comp("cost_month_usd", 10.0, 2.226),
                "latency_p95_ms": comp("latency_p95_ms", 580.0, -0.94),
                "cpu_ms_per_request": comp("cpu_ms_per_request", 5.0, -0.784),
                "cost_per_mreq_usd": comp("cost_per_mreq_usd", 0.2, -0.785),
            }
        }
    )


def open_run(cand: CandidateResult) -> RunResult:
    closed = run([cand], [cand.slug])
    return closed.model_copy(update={"load": {**closed.load, "model": "open, 40 req/s"}})


def test_a_closed_loop_leads_with_per_request_figures_and_says_why_totals_grew() -> None:
    cand = served_more()
    closed = run([cand], [cand.slug])
    assert load_brief(closed) == "20 concurrent users (closed loop)"
    assert table_order(list(cand.comparisons), closed) == [
        "latency_p95_ms",
        "cpu_ms_per_request",
        "cost_per_mreq_usd",
        "throughput_rps",
        "cpu_cores_mean",
        "cost_month_usd",
    ]
    assert at_use_note(cand, closed) == (
        "In a closed loop a faster service is sent more work: the candidate served 15.00× the "
        "baseline's requests, so CPU used and cost at measured use grow with that work; per "
        "request: CPU per request -78.4%, cost per million requests (measured use) -78.5%."
    )
    body = render_pr(cand, closed)
    assert "under 20 concurrent users (closed loop).**" in body
    table = [line for line in body.splitlines() if line.startswith("| ")]
    assert table[2].startswith("| p95 latency |") and table[5].startswith("| throughput |")
    assert "| CPU used |" in body and "served 15.00× the baseline's requests" in body


def test_an_open_loop_compares_totals_at_equal_load() -> None:
    cand = served_more()
    opened = open_run(cand)
    assert load_brief(opened) == "40 req/s arriving (open loop)"
    assert table_order(list(cand.comparisons), opened) == list(cand.comparisons)
    assert table_label("cpu_cores_mean", opened) == "CPU used (at equal load)"
    assert table_label("latency_p95_ms", opened) == "p95 latency"
    assert at_use_note(cand, opened) is None
    rows = [row[0] for row in score_rows(cand, opened)]
    assert "cost at measured use (at equal load)" in rows


def test_no_note_without_totals_or_throughput() -> None:
    plain = candidate("x")  # p95, throughput, errors and cost per request only
    assert at_use_note(plain, run([plain], [plain.slug])) is None
