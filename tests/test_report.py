"""Tests for src/mutbot/report.py: the pull request body, the ranking rows and number formats."""

from __future__ import annotations

import pytest

from mutbot.report import change, fence, fmt, headline, ranking_rows, render_pr
from mutbot.results import (
    BaselineResult,
    Build,
    CandidateResult,
    Comparison,
    Pair,
    RunResult,
    Side,
    Trial,
    Verdict,
)

DIFF = (
    "diff --git a/config/server.ini b/config/server.ini\n"
    "--- a/config/server.ini\n"
    "+++ b/config/server.ini\n"
    "@@ -1 +1 @@\n"
    "-workers = 1 ; see ```` above\n"
    "+workers = 4\n"
)
GUARANTEES = "Docker container, 1 CPU, 256m memory (no swap), an internal network with no route out"
ORDERS: tuple[tuple[Side, Side], ...] = (("baseline", "candidate"), ("candidate", "baseline"))

# metric: (baseline, candidate, change, pairs better), the medians over three pairs
COMPARISONS = {
    "latency_p95_ms": (100.0, 81.0, 0.19, 3),
    "error_rate": (0.001, 0.0, 0.001, 2),
    "throughput_rps": (50.0, 55.0, 0.1, 3),
    "cost_month_usd": (30.0, 27.5, 0.25 / 3, 3),
}


def trial(side: Side, latency: float) -> Trial:
    metrics = {
        "latency_p95_ms": latency,
        "error_rate": 0.0,
        "throughput_rps": 50.0,
        "cost_month_usd": 30.0,
    }
    return Trial(
        side=side,
        started_at=0.0,
        healthy_seconds=1.0,
        metrics=metrics,
        loadgen_cpu_fraction=0.1,
        errors={},
        raw=f"{side}.jsonl",
    )


def candidate(
    slug: str,
    title: str = "Use 4 workers",
    verdict: Verdict = "propose",
    stage: str | None = None,
    reason: str = "p95 latency better in all 3 pairs (median +19.0%)",
    rationale: str = "Ping @someone: <script>alert(1)</script> more workers.",
    diff: str = DIFF,
) -> CandidateResult:
    latencies = (80.0, 81.0, 82.0) if verdict == "propose" else ()
    return CandidateResult(
        slug=slug,
        title=title,
        kind="incremental",
        rationale=rationale,
        risk=2.0,
        fingerprint="0123456789ab",
        diff=diff,
        files=["config/server.ini"],
        verdict=verdict,
        stage=stage,
        reason=reason,
        stages=[],
        build=Build(image_size_mb=52.0, build_seconds=3.0),
        pairs=[
            Pair(
                index=i,
                order=ORDERS[i % 2],
                baseline=trial("baseline", 100.0),
                candidate=trial("candidate", latency),
            )
            for i, latency in enumerate(latencies)
        ],
        comparisons={
            name: Comparison(
                metric=name, baseline=b, candidate=c, change=d, pairs_better=n, pairs=3
            )
            for name, (b, c, d, n) in COMPARISONS.items()
        }
        if verdict == "propose"
        else {},
    )


def run(candidates: list[CandidateResult], ranking: list[str]) -> RunResult:
    return RunResult(
        run_id="20240101-000000-abcd",
        started_at="2024-01-01T00:00:00+00:00",
        finished_at="2024-01-01T00:10:00+00:00",
        project="/repo",
        output_dir="/repo/.mutbot/runs/x",
        base_commit="0123456789abcdef0123",
        backend="docker",
        guarantees=GUARANTEES,
        seed=7,
        limits={"cpus": 1.0, "memory": "256m", "network": "isolated"},
        load={"users": 20, "spawn_rate": 20.0, "duration": "10s", "warmup": "2s", "trials": 3},
        objective={
            "primary": "latency_p95_ms",
            "guardrails": {"error_rate": 0.01},
            "rule": "better on the primary metric in every pair, no guardrail broken",
        },
        cost_of_limits_month_usd=32.5,
        baseline=BaselineResult(
            stages=[], build=Build(image_size_mb=50.0, build_seconds=2.0), summary={}
        ),
        candidates=candidates,
        ranking=ranking,
    )


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
