"""Synthetic run records for tests of rendering and reporting (no run needed)."""

from __future__ import annotations

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
