"""The pipeline's own objectives (issue 15): the image's size is exact (the same image in every
trial of a side: no statistics), a cold build time is paired like any trial figure, and either
may be the primary, in `objective.also` or a guardrail, with runtime metrics guarding it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mutbot.config import Objective
from mutbot.errors import ConfigError
from mutbot.guardrails import check
from mutbot.judge import compare, compare_all, judge
from mutbot.metrics import OBJECTIVES
from mutbot.report import headline, interval
from mutbot.results import CandidateResult, Pair, RunResult
from mutbot.run.execute import execute
from mutbot.run.measure import watched
from mutbot.run.options import RunOptions
from testing.records import SETTINGS, candidate, pairs, run
from testing.reporters import RecordingReporter
from testing.repos import ROOT, git, make_repo

IMAGE = "image_size_mb"


def sized(measured: list[Pair], base_mb: float, cand_mb: float) -> list[Pair]:
    """The pairs with the image's sizes as the run attaches them: one figure per side."""
    return [
        p.model_copy(
            update={
                "baseline": p.baseline.model_copy(
                    update={"metrics": {**p.baseline.metrics, IMAGE: base_mb}}
                ),
                "candidate": p.candidate.model_copy(
                    update={"metrics": {**p.candidate.metrics, IMAGE: cand_mb}}
                ),
            }
        )
        for p in measured
    ]


def slim_run() -> tuple[CandidateResult, RunResult]:
    """A run judged on the image's size: one candidate whose image is a quarter of the
    baseline's, its runtime figures unchanged."""
    measured = sized(pairs(1.0, n=8), 400.0, 100.0)
    slim = candidate("slim").model_copy(
        update={"pairs": measured, "comparisons": compare_all(measured, 0.01)}
    )
    result = run([slim], ["slim"])
    return slim, result.model_copy(update={"objective": {**result.objective, "primary": IMAGE}})


def verdict(measured: list[Pair], **overrides: object) -> tuple[str, str | None, str]:
    limits = Objective(primary=IMAGE).limits()  # every runtime default guards it
    settings = replace(SETTINGS, primary=IMAGE, guardrails=limits, **overrides)  # type: ignore[arg-type]
    p = compare(measured, settings.primary, settings.alpha).p_value
    outcome = judge(measured, settings, p, 0.02, (1.0, []), (1.0, []))
    return outcome.verdict, outcome.stage, outcome.reason


def test_an_image_size_is_compared_exactly() -> None:
    comp = compare(sized(pairs(1.0, n=6), 400.0, 100.0), IMAGE, 0.01)
    assert comp.change == pytest.approx(-0.75)
    assert comp.ci_low == comp.ci_high == comp.change
    assert comp.p_value == 0.0 and comp.pairs_better == 6
    grown = compare(sized(pairs(1.0, n=6), 100.0, 120.0), IMAGE, 0.01)
    assert grown.change == pytest.approx(0.2) and grown.p_value == 1.0
    assert grown.pairs_better == 0


def test_a_smaller_image_is_proposed_while_the_runtime_guardrails_hold() -> None:
    # latency unchanged within the jitter of testing.records: every guardrail holds
    found = verdict(sized(pairs(1.0, n=8), 400.0, 100.0))
    assert found == ("propose", None, "better: image size -75.0% (exact)"), found


def test_a_smaller_image_that_makes_requests_slower_is_rejected_by_a_guardrail() -> None:
    found = verdict(sized(pairs(1.6, n=8), 400.0, 100.0))
    assert found[:2] == ("reject", "guardrail"), found
    assert "p95 latency" in found[2]


def test_a_larger_image_or_one_smaller_by_less_than_the_minimum_is_rejected() -> None:
    assert verdict(sized(pairs(1.0, n=8), 100.0, 130.0))[:2] == ("reject", "decide")
    # 2% smaller, judge.min_effect 5%: a confident no, never "inconclusive"
    small = verdict(sized(pairs(1.0, n=8), 100.0, 98.0))
    assert small[:2] == ("reject", "decide"), small
    assert "minimum effect" in small[2]


def test_the_image_size_as_a_guardrail_is_over_its_limit_or_not() -> None:
    grown = check(sized(pairs(0.7, n=6), 100.0, 150.0), IMAGE, 0.2, 0.01, 0.1)
    assert grown is not None and grown.status == "convicted"
    assert grown.estimate == pytest.approx(0.5)
    assert "(exact)" in grown.text and "beyond the limit of +20.0%" in grown.text
    held = check(sized(pairs(0.7, n=6), 100.0, 110.0), IMAGE, 0.2, 0.01, 0.1)
    assert held is not None and held.status == "cleared"


def test_the_pipeline_metrics_are_objectives_the_config_accepts() -> None:
    assert {"image_size_mb", "image_compressed_mb", "build_seconds"} <= set(OBJECTIVES)
    objective = Objective(
        primary="image_size_mb",
        also=["build_seconds"],
        guardrails={"healthy_seconds": 0.2, "image_compressed_mb": None},
    )
    assert objective.wanted() == {"image_size_mb", "build_seconds", "healthy_seconds"}
    assert "image_size_mb" not in objective.limits()  # never a guardrail on the primary
    assert objective.limits()["latency_p95_ms"] == 0.1  # runtime defaults guard it


def test_transients_are_told_by_latency_when_the_primary_is_the_image() -> None:
    assert watched("image_size_mb") == "latency_p95_ms"
    assert watched("build_seconds") == "latency_p95_ms"
    assert watched("cpu_ms_per_request") == "cpu_ms_per_request"


def test_the_headline_of_an_exact_primary_claims_no_interval() -> None:
    slim, result = slim_run()
    text = headline(slim, result)
    assert text.startswith("image size 400.0 MiB → 100.0 MiB (-75.0%, exact"), text
    assert "CI" not in text and "p =" not in text
    assert interval(IMAGE, slim.comparisons[IMAGE]) == "exact"


def test_the_local_backend_refuses_an_image_objective_before_measuring(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo", ROOT / "examples" / "pricing")
    config = project / ".mutbot.yml"
    text = config.read_text()
    config.write_text(text.replace("primary: latency_p95_ms", "primary: image_size_mb"))
    git(project, "commit", "--quiet", "-am", "the image's size")
    with pytest.raises(ConfigError, match=r"image_size_mb needs images.*--backend docker"):
        execute(
            RunOptions(project, None, out=tmp_path / "out", backend="local"), RecordingReporter()
        )


def test_the_pr_body_of_an_exact_primary_charts_the_guardrail_and_claims_no_test() -> None:
    from mutbot.report import render_pr

    slim, result = slim_run()
    body = render_pr(slim, result)
    assert "| image size | 400.0 MiB | 100.0 MiB | -75.0% | exact |  |" in body.splitlines()
    assert "Holm-adjusted" not in body
    assert "The image size is exact, the same image in every trial of a side" in body
    assert 'title "p95 latency per confirmation pair' in body  # not a flat line of 400s
    rows = [line for line in body.splitlines() if line.startswith("| image size |")]
    assert len(rows) == 1  # the build record's row is not repeated


def test_the_run_summarys_chart_says_exact_for_the_image() -> None:
    from mutbot.estimates import forest
    from mutbot.forest_text import forest_block

    _, result = slim_run()
    numbers = forest(result)
    assert numbers is not None
    assert "confirmed -75.0% (exact)" in (forest_block(numbers) or "")
