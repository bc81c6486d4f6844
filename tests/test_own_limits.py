"""A candidate that ran with its own limits (a right-sized compose or Kubernetes limit) is
judged, explained and reported against them: the memory ceiling is a share of its own limit,
`mutbot explain` recomputes the same verdict from results.json, and the pull request says what
each side ran with and what the limits cost."""

from __future__ import annotations

from dataclasses import replace

from mutbot.explain import explain
from mutbot.judge import Headroom, compare_all, judge, memory_veto, scored
from mutbot.report import limits_cost, memory_cost, render_pr, resources
from mutbot.results import CandidateResult, Pair, RunResult, SettingChange
from mutbot.risk import assess_complexity, assess_risk
from testing.records import SETTINGS, candidate, pairs, run

CONFIGURED = Headroom(limit_mb=256.0, share=0.8)
LIMIT = "orchestration.memory_limit@docker-compose.yml:services.api.deploy.resources.limits.memory"
REQUEST = "orchestration.memory_request@docker-compose.yml:services.api.deploy.resources."


def peaking(measured: list[Pair], baseline_mb: float, candidate_mb: float) -> list[Pair]:
    out = []
    for pair in measured:
        sides = {}
        for side, mb in (("baseline", baseline_mb), ("candidate", candidate_mb)):
            trial = getattr(pair, side)
            sides[side] = trial.model_copy(
                update={"metrics": {**trial.metrics, "memory_peak_mb": mb}}
            )
        out.append(pair.model_copy(update=sides))
    return out


def test_the_ceiling_is_a_share_of_the_candidates_own_limit() -> None:
    assert CONFIGURED.own(None) is CONFIGURED and CONFIGURED.own(256.0) is CONFIGURED
    own = CONFIGURED.own(96.0)
    assert (own.limit_mb, own.baseline_mb, own.ceiling_mb) == (96.0, 256.0, 96.0 * 0.8)
    same = peaking(pairs(0.81), 81.0, 81.0)
    assert memory_veto(same, CONFIGURED) is None
    # the same peak is 84% of a 96 MiB limit: its own peak is no excuse for the smaller limit
    assert (
        memory_veto(same, own) == "peak memory 81 MiB, above 80% of its own 96 MiB limit (77 MiB)"
    )
    assert memory_veto(same, CONFIGURED.own(128.0)) is None  # 63% of it


SETTING = SettingChange(
    key=LIMIT,
    safety="tune",
    before="1g",
    after="128m",
    written=(True, True),
    where="docker-compose.yml:14",
    reaches="resources",
)


def right_sized(own_mb: float) -> tuple[CandidateResult, RunResult]:
    """Judged as a run judges it: against its own memory limit of `own_mb`."""
    measured = peaking(pairs(0.81), 41.0, 41.0)
    base = candidate("right-size", title="Lower the memory limit 1g → 128m")
    rules = replace(SETTINGS, headroom=CONFIGURED.own(own_mb))
    outcome = judge(
        measured,
        rules,
        compare_all(measured, 0.01)["latency_p95_ms"].p_value,
        None,
        scored(assess_risk(base.diff, base.risk)),
        scored(assess_complexity(base.diff)),
    )
    cand = base.model_copy(
        update={
            "pairs": measured,
            "comparisons": compare_all(measured, 0.01),
            "verdict": outcome.verdict,
            "stage": outcome.stage,
            "reason": outcome.reason,
            "judgement": outcome.judgement,
            "settings": [SETTING],
            "limits": {"cpus": 1.0, "memory": f"{own_mb:g}m", "cost_month_usd": 29.6},
        }
    )
    result = run([cand], [cand.slug] if outcome.verdict == "propose" else [])
    objective = {**result.objective, "memory_ceiling": 0.8}
    return cand, result.model_copy(update={"objective": objective})


def test_explain_recomputes_the_verdict_against_the_candidates_own_limit() -> None:
    fits, result = right_sized(128.0)
    assert fits.verdict == "propose"
    assert explain(result, fits)[1]
    tight, result = right_sized(48.0)  # 41 MiB is 85% of it
    assert (tight.verdict, tight.reason) == (
        "reject",
        "peak memory 41 MiB, above 80% of its own 48 MiB limit (38 MiB)",
    )
    assert explain(result, tight)[1]
    forgotten = tight.model_copy(update={"limits": {}})  # judged at 256 MiB it would pass
    assert not explain(result, forgotten)[1]


def test_the_pull_request_says_what_each_side_ran_with_and_what_it_costs() -> None:
    cand, result = right_sized(128.0)
    assert resources(cand, result) == (
        "memory limit 1g → 128m (docker-compose.yml:14): the candidate ran with its own 1.0 "
        "vCPU, 128m, the baseline with the configured 1.0 vCPU, 256m; peak 41 MiB, 32% of the "
        "new limit"
    )
    assert memory_cost(cand, result) == (
        "peak 41 → 41 MiB (+0 MiB), 32% of its own 128 MiB limit (the baseline's 16% of 256 MiB)"
    )
    assert limits_cost(cand, result) == (
        "the baseline at the configured limits (1.0 vCPU, 256m) $32.50 a month, the candidate "
        "at its own (1.0 vCPU, 128m) $29.60 (-8.9%)"
    )
    body = render_pr(cand, result)
    assert "each in a fresh instance with its own limits (see Resources)" in body
    assert f"- **Resources:** {resources(cand, result)}.\n" in body
    assert f"- **Cost:** {limits_cost(cand, result)}; per million requests" in body


def test_requests_alone_are_said_to_change_nothing_the_sandbox_enforces() -> None:
    cand, result = right_sized(128.0)
    request = SETTING.model_copy(
        update={"key": REQUEST + "reservations.memory", "before": "512m", "after": "128m"}
    )
    only = cand.model_copy(update={"settings": [request], "limits": {}})
    assert resources(only, result) == (
        "memory request 512m → 128m (docker-compose.yml:14): requests and other resource bounds "
        "do not change the sandbox, so both sides ran with the configured 1.0 vCPU, 256m"
    )
    assert limits_cost(only, result).endswith("$32.50 a month on both sides")
    assert "with identical limits" in render_pr(only, result)
    configured = cand.model_copy(update={"limits": {}})  # a new limit equal to the config's
    assert resources(configured, result) == (
        "memory limit 1g → 128m (docker-compose.yml:14): the new limits are the configured "
        "ones, so both sides ran with the configured 1.0 vCPU, 256m"
    )
    other = cand.model_copy(update={"settings": [], "limits": {}})
    assert resources(other, result) is None and "**Resources:**" not in render_pr(other, result)
