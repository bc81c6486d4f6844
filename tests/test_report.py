"""Tests for src/mutbot/report.py: the pull request body, the ranking rows and number formats."""

from __future__ import annotations

import pytest

from mutbot.report import change, fence, fmt, headline, ranking_rows, render_pr
from testing.records import DIFF, GUARANTEES, candidate, run


def pr(**overrides: str) -> str:
    cand = candidate("use-4-workers", **overrides)
    return render_pr(cand, run([cand], [cand.slug]))


def test_pr_title_and_headline() -> None:
    body = pr()
    assert body.startswith("# Use 4 workers\n\n")
    assert (
        "**p95 latency 100.0 ms → 81.0 ms (+19.0% better), better in 3 of 3 paired trials.**"
        in body
    )


def test_pr_has_a_row_for_every_metric_and_the_builds() -> None:
    lines = pr().splitlines()
    for row in [
        "| p95 latency | 100.0 ms | 81.0 ms | +19.0% | 3/3 |",
        "| error rate | 0.10% | 0.00% | +0.10 pp | 2/3 |",
        "| throughput | 50 req/s | 55 req/s | +10.0% | 3/3 |",
        "| cost at measured use | $30.00 | $27.50 | +8.3% | 3/3 |",
        "| image size | 50.0 MiB | 52.0 MiB |  |  |",
        "| build time | 2.0 s | 3.0 s |  |  |",
    ]:
        assert row in lines


def test_pr_states_trials_backend_and_decision() -> None:
    body = pr()
    assert "Values are medians over 3 paired trials." in body
    assert "(seed 7)" in body
    assert "Load: 20 Locust users, 10s measured\nafter 2s of warm-up" in body
    assert f"- **Sandbox:** docker backend: {GUARANTEES}." in body
    assert "- **Decision:** p95 latency better in all 3 pairs (median +19.0%)" in body
    assert "guardrails: error_rate ≤ 0.01)." in body
    assert "(1.0 vCPU, 256m) $32.50 on both sides." in body
    assert "proposer's risk estimate 2.0/10" in body
    assert "At commit `0123456789ab`:" in body


def test_pr_rationale_is_defused() -> None:
    body = pr()
    why = body.split("## Why\n\n")[1].split("\n")[0]
    assert why == "Ping @\u200bsomeone: &lt;script&gt;alert(1)&lt;/script&gt; more workers."
    assert "@someone" not in body
    assert "<script>" not in body


def test_pr_without_rationale() -> None:
    assert "## Why\n\n(no rationale given)\n" in pr(rationale="")


def test_pr_title_is_defused_too() -> None:
    body = pr(title="Ping @someone <img src=x onerror=alert(1)>")
    assert "@someone" not in body
    assert "<img" not in body


def test_pr_diff_fence_is_longer_than_any_backtick_run() -> None:
    body = pr()
    assert f"`````diff\n{DIFF.rstrip()}\n`````\n" in body
    plain = DIFF.replace("````", "")
    assert f"\n```diff\n{plain.rstrip()}\n```\n" in pr(diff=plain)


def test_pr_change_section_names_files_and_fingerprint() -> None:
    assert "config/server.ini · fingerprint `0123456789ab`" in pr()


def test_pr_how_to_revert() -> None:
    body = pr()
    assert "## How to revert" in body
    assert "`git revert -m 1 <merge commit sha>`" in body


def test_pr_per_trial_table_has_one_row_per_trial() -> None:
    body = pr()
    table = body.split("<summary>Per-trial data</summary>")[1]
    columns = "throughput | error rate | p95 latency | cost at measured use"
    assert f"| pair | order | side | {columns} |" in table
    rows = [line.strip() for line in table.splitlines() if line.startswith("| ") and "→" in line]
    assert rows == [
        "| 1 | baseline → candidate | baseline | 50 req/s | 0.00% | 100.0 ms | $30.00 |",
        "| 1 | baseline → candidate | candidate | 50 req/s | 0.00% | 80.0 ms | $30.00 |",
        "| 2 | candidate → baseline | candidate | 50 req/s | 0.00% | 81.0 ms | $30.00 |",
        "| 2 | candidate → baseline | baseline | 50 req/s | 0.00% | 100.0 ms | $30.00 |",
        "| 3 | baseline → candidate | baseline | 50 req/s | 0.00% | 100.0 ms | $30.00 |",
        "| 3 | baseline → candidate | candidate | 50 req/s | 0.00% | 82.0 ms | $30.00 |",
    ]


def test_ranking_rows_proposed_by_rank_then_rejected() -> None:
    first = candidate("a", title="Alpha")
    rejected = candidate(
        "b",
        title="Beta",
        verdict="reject",
        stage="decide",
        reason="p95 latency better in 2 of 3 pairs; the rule needs all",
    )
    best = candidate("c", title="Gamma")
    blocked = candidate(
        "d", title="Delta", verdict="reject", stage="policy", reason="app.py is protected"
    )
    result = run([first, rejected, best, blocked], ranking=["c", "a"])
    expected_headline = headline(best, "latency_p95_ms")
    assert ranking_rows(result) == [
        ("1", "Gamma", "propose", expected_headline),
        ("2", "Alpha", "propose", expected_headline),
        ("-", "Beta", "reject (decide)", "p95 latency better in 2 of 3 pairs; the rule needs all"),
        ("-", "Delta", "reject (policy)", "app.py is protected"),
    ]


def test_ranking_rows_of_an_empty_run() -> None:
    assert ranking_rows(run([], [])) == []


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [
        ("latency_p95_ms", 12.34, "12.3 ms"),
        ("latency_p50_ms", 999.9, "999.9 ms"),
        ("latency_p99_ms", 1000.0, "1.00 s"),
        ("latency_p95_ms", 1234.5, "1.23 s"),
        ("error_rate", 0.0123, "1.23%"),
        ("error_rate", 0.0, "0.00%"),
        ("error_rate", 1.0, "100.00%"),
        ("latency_p95_ms", float("nan"), "n/a"),
        ("error_rate", float("nan"), "n/a"),
        ("throughput_rps", None, "n/a"),
        ("throughput_rps", 123.456, "123 req/s"),
        ("requests", 1234.6, "1235"),
        ("cost_month_usd", 30.5, "$30.50"),
        ("cost_per_mreq_usd", 0.01234, "$0.0123"),
        ("healthy_seconds", 1.234, "1.23 s"),
        ("memory_peak_mb", 256.0, "256 MiB"),
        ("cpu_cores_mean", 0.5, "0.5 cores"),
        ("not_a_metric", 1.23456, "1.23"),
    ],
)
def test_fmt(metric: str, value: float | None, text: str) -> None:
    assert fmt(metric, value) == text


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [
        ("latency_p95_ms", 0.19, "+19.0%"),
        ("throughput_rps", -0.05, "-5.0%"),
        ("error_rate", 0.0123, "+1.23 pp"),
        ("error_rate", -0.001, "-0.10 pp"),
        ("latency_p95_ms", float("nan"), "n/a"),
    ],
)
def test_change(metric: str, value: float, text: str) -> None:
    assert change(metric, value) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("no ticks", "```"), ("`one`", "```"), ("```py", "````"), ("a ``````` b ``", "````````")],
)
def test_fence(text: str, expected: str) -> None:
    assert fence(text) == expected
