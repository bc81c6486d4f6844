"""Synthetic run records for tests of rendering, reporting and explaining: real pairs, judged by
the real judge, so the records are what a run would have written."""

from __future__ import annotations

from mutbot.config import Judge, Objective
from mutbot.judge import Settings, compare_all, judge, scored
from mutbot.results import (
    BaselineResult,
    Build,
    CandidateResult,
    Noise,
    Pair,
    RunResult,
    Side,
    Trial,
    Verdict,
)
from mutbot.risk import assess_complexity, assess_risk

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
# baseline p95 of each pair; the candidate's is `factor` times it, with a little jitter
BASE = [100.0, 104.0, 97.0, 110.0, 95.0, 101.0, 99.0, 108.0, 93.0, 102.0]
JITTER = [1.00, 1.02, 0.99, 1.01, 0.98, 1.03, 0.97, 1.00, 1.02, 0.99]
SETTINGS = Settings(
    primary="latency_p95_ms",
    alpha=0.01,
    min_effect=0.05,
    guardrails=Objective().limits(),
    gates={"confidence": 0.85, "risk": 5.0, "complexity": 8.0},
)


def trial(side: Side, latency: float, throughput: float = 50.0, errors: float = 0.0) -> Trial:
    metrics = {
        "throughput_rps": throughput,
        "error_rate": errors,
        "latency_p95_ms": latency,
        "cost_per_mreq_usd": 0.02 * 50.0 / throughput,
    }
    return Trial(
        side=side,
        started_at=0.0,
        healthy_seconds=1.0,
        metrics=metrics,
        loadgen_cpu_fraction=0.1,
        errors={},
        raw=f"raw/{side}.json",
    )


def pairs(factor: float, n: int = 10, throughput_factor: float = 1.0) -> list[Pair]:
    return [
        Pair(
            index=i,
            order=ORDERS[i % 2],
            baseline=trial("baseline", BASE[i]),
            candidate=trial(
                "candidate", BASE[i] * factor * JITTER[i], throughput=50.0 * throughput_factor
            ),
        )
        for i in range(n)
    ]


def candidate(
    slug: str,
    title: str = "Use 4 workers",
    factor: float = 0.81,
    rationale: str = "Ping @someone: <script>alert(1)</script> more workers.",
    diff: str = DIFF,
    rejected_at: tuple[str, str] | None = None,
    proposer_risk: float = 2.0,
) -> CandidateResult:
    """Judged from pairs whose candidate p95 is `factor` times the baseline's, or rejected at a
    stage before the judge (then no pairs)."""
    measured = pairs(factor) if rejected_at is None else []
    verdict: Verdict = "reject"
    stage, reason, judgement = (rejected_at or (None, ""))[0], (rejected_at or ("", ""))[1], None
    if rejected_at is None:
        outcome = judge(
            measured,
            SETTINGS,
            compare_all(measured, 0.01)["latency_p95_ms"].p_value,
            None,
            scored(assess_risk(diff, proposer_risk)),
            scored(assess_complexity(diff)),
        )
        verdict, stage, reason, judgement = (
            outcome.verdict,
            outcome.stage,
            outcome.reason,
            outcome.judgement,
        )
    return CandidateResult(
        slug=slug,
        title=title,
        kind="incremental",
        rationale=rationale,
        risk=proposer_risk,
        fingerprint="0123456789ab",
        diff=diff,
        files=["config/server.ini"],
        verdict=verdict,
        stage=stage,
        reason=reason,
        stages=[],
        build=Build(image_size_mb=52.0, build_seconds=3.0),
        screening=[],
        pairs=measured,
        comparisons=compare_all(measured, 0.01),
        judgement=judgement,
        invalid_trials=[],
    )


def run(
    candidates: list[CandidateResult], ranking: list[str], noise: Noise | None = None
) -> RunResult:
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
        load={
            "users": 20,
            "spawn_rate": 20.0,
            "duration": "10s",
            "warmup": "2s",
            "model": "closed",
        },
        objective={"primary": "latency_p95_ms", "also": [], "guardrails": SETTINGS.guardrails},
        judge=Judge().model_dump(),
        noise=noise,
        cost_of_limits_month_usd=32.5,
        baseline=BaselineResult(
            stages=[], build=Build(image_size_mb=50.0, build_seconds=2.0), summary={}
        ),
        candidates=candidates,
        ranking=ranking,
        pareto=[],
    )
