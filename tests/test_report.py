"""Tests for src/mutbot/report.py: the pull request body, the ranking rows and number formats."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from mutbot.ranking import ranking_rows
from mutbot.report import (
    change,
    code_span,
    defuse,
    fence,
    fmt,
    headline,
    memory_ceiling,
    memory_cost,
    render_pr,
)
from testing.defusing import hostile_candidate, hostile_text, live, outside_fences
from testing.records import DIFF, GUARANTEES, candidate, run


def pr(**overrides: Any) -> str:
    cand = candidate("use-4-workers", **overrides)
    return render_pr(cand, run([cand], [cand.slug]))


def test_pr_title_and_headline_carry_the_uncertainty() -> None:
    body = pr()
    assert body.startswith("# Use 4 workers\n\n")
    assert (
        "**p95 latency 100.5 ms → 81.4 ms (-19.0%, 99% CI -20.6%…-17.4%, 10 paired trials, "
        "p = 9.8e-04), under 20 concurrent users (closed loop).**" in body
    )


def test_pr_has_a_row_with_interval_for_every_metric_and_the_builds() -> None:
    lines = pr().splitlines()
    for row in [
        "| p95 latency | 100.5 ms | 81.4 ms | -19.0% | -20.6%…-17.4% | 9.8e-04 |",
        "| error rate | 0.00% | 0.00% | +0.00 pp | +0.00 pp…+0.00 pp | 1 |",
        "| throughput | 50 req/s | 50 req/s | +0.0% | +0.0%…+0.0% | 1 |",
        "| image size | 50.0 MiB | 52.0 MiB |  |  |  |",
        "| build time (this run, cache allowed) | 2.0 s | 3.0 s |  |  |  |",
    ]:
        assert row in lines


def test_pr_states_the_method_the_verdict_and_why() -> None:
    body = pr()
    assert "Hodges–Lehmann estimates over 10 paired trials of a fresh\nconfirmation block" in body
    assert "(seed 7)" in body
    assert "Load: 20 Locust users (closed loop),\n10s measured after 2s of warm-up" in body
    assert f"- **Sandbox:** docker backend: {GUARANTEES}." in body
    assert "## Verdict\n\nbetter: p95 latency -19.0% (CI -20.6%…-17.4%), p = 0.000977." in body
    assert "- **Confidence:** 0.999 (1 − adjusted p); alpha 0.01." in body
    assert "- **Minimum effect:** the CI had to clear 5.0% (judge.min_effect)." in body
    assert "risk 2.00 (< 5.0: ok)" in body and "complexity 1.00 (< 8.0: ok)" in body
    assert "  - cleared: throughput ±0.0%, at worst ±0.0% (90% bound; limit +10.0%)\n" in body
    assert "(1.0 vCPU, 256m) $32.50 a month on both sides" in body
    assert "the proposer's own risk estimate 2.0/10" in body
    assert "At commit `0123456789ab`:" in body
    assert "`mutbot explain results.json use-4-workers`" in body


def test_pr_reports_the_noise_block_when_there_was_one() -> None:
    from mutbot.results import Noise
    from testing.records import pairs

    cand = candidate("use-4-workers")
    noise = Noise(metric="latency_p95_ms", pairs=pairs(1.0, n=4), spread=0.0123)
    body = render_pr(cand, run([cand], [cand.slug], noise=noise))
    assert (
        "4 A/A pairs (the baseline against itself), spread through the run, disagreed by "
        "0.012 (robust sd of the ln ratio of latency_p95_ms)"
    ) in body


def test_pr_says_what_the_change_costs_in_memory_against_the_limit() -> None:
    cand = candidate("use-4-workers")
    heavier = []
    for i, pair in enumerate(cand.pairs):
        sides = {}
        for side, mb in (("baseline", 81.0), ("candidate", 140.0 - (i % 2))):
            trial = getattr(pair, side)
            metrics = {**trial.metrics, "memory_peak_mb": mb}
            sides[side] = trial.model_copy(update={"metrics": metrics})
        heavier.append(pair.model_copy(update=sides))
    cand = cand.model_copy(update={"pairs": heavier})
    result = run([cand], [cand.slug])
    assert memory_cost(cand, result) == "peak 81 → 140 MiB (+59 MiB), 55% of the 256 MiB limit"
    body = render_pr(cand, result)
    assert "- **Memory:** peak 81 → 140 MiB (+59 MiB), 55% of the 256 MiB limit.\n" in body
    assert "peak memory above" not in body  # a run from before the ceiling
    capped = result.model_copy(update={"objective": {**result.objective, "memory_ceiling": 0.8}})
    assert memory_ceiling(capped) == "80%"
    assert "  - peak memory above 80% of the memory limit vetoes\n" in render_pr(cand, capped)
    assert "- **Memory:**" not in pr()  # not measured: nothing to say
    assert memory_cost(cand, result.model_copy(update={"limits": {}})) == (
        "peak 81 → 140 MiB (+59 MiB)"
    )


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


def test_pr_change_section_has_the_diff_stat_files_and_fingerprint() -> None:
    body = pr()
    assert "1 file changed, +1 −1 lines · fingerprint `0123456789ab`\n" in body
    assert "\n- `config/server.ini` +1 −1\n" in body


def test_pr_how_to_revert() -> None:
    body = pr()
    assert "## How to revert" in body
    assert "`git revert -m 1 <merge commit sha>`" in body


def test_pr_per_trial_table_has_one_row_per_trial() -> None:
    body = pr()
    table = body.split("<summary>Per-trial data (confirmation block)</summary>")[1]
    columns = "throughput | error rate | p95 latency | cost per million requests (measured use)"
    assert f"| pair | order | side | {columns} |" in table
    rows = [line.strip() for line in table.splitlines() if line.startswith("| ") and "→" in line]
    assert len(rows) == 20
    assert rows[:2] == [
        "| 1 | baseline → candidate | baseline | 50 req/s | 0.00% | 100.0 ms | $0.0200 |",
        "| 1 | baseline → candidate | candidate | 50 req/s | 0.00% | 81.0 ms | $0.0200 |",
    ]
    assert rows[2].startswith("| 2 | candidate → baseline | candidate |")


def test_ranking_rows_proposed_by_rank_then_review_then_rejected() -> None:
    first = candidate("a", title="Alpha")
    rejected = candidate("b", title="Beta", factor=0.99)
    best = candidate("c", title="Gamma", factor=0.5)
    blocked = candidate("d", title="Delta", rejected_at=("policy", "app.py is protected"))
    risky = candidate(
        "e",
        title="Epsilon",
        proposer_risk=6.0,
    )
    left = candidate("f", title="Zeta", rejected_at=("screen", "not among the 1 best"))
    left = left.model_copy(update={"final": False})  # undecided: measured again next run
    result = run([first, rejected, best, blocked, risky, left], ranking=["c", "a"])
    rows = ranking_rows(result)
    assert [row[:3] for row in rows] == [
        ("1", "Gamma", "propose"),
        ("2", "Alpha", "propose"),
        ("?", "Epsilon", "needs review"),
        ("~", "Zeta", "left out (screen)"),
        ("-", "Beta", "reject (decide)"),
        ("-", "Delta", "reject (policy)"),
    ]
    assert rows[0][3] == headline(best, result)
    assert rows[4][3].startswith("not better by the minimum effect: p95 latency")
    assert rows[2][3].endswith("needs review: risk 6.00 (limit 5)")


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


# the sanitiser


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_defused_text_never_acts_on_github(text: str) -> None:
    assert live(defuse(text)) == []
    assert live(defuse(text, markdown=False), markdown=False) == []


@pytest.mark.parametrize(
    ("text", "markdown", "plain"),
    [
        ("[x](//evil.example)", "[x]\u200b(/\u200b/evil.example)", "[x](/\u200b/evil.example)"),
        ("![](//e.x/p.png)", "![]\u200b(/\u200b/e.x/p.png)", "![](/\u200b/e.x/p.png)"),
        ("<https://e.x>", "&lt;hxxps://e.x&gt;", "<hxxps://e.x>"),
        ("[r]: //e.x", "[r]\u200b: /\u200b/e.x", "[r]: /\u200b/e.x"),
        ("fixes owner/repo#1", "fixes owner/repo#\u200b1", "fixes owner/repo#\u200b1"),
        ("@org/team", "@\u200borg/team", "@\u200borg/team"),
        ("_www.e.x _https://e.x", "_www[.]e.x _hxxps://e.x", "_www[.]e.x _hxxps://e.x"),
    ],
)
def test_defuse_examples(text: str, markdown: str, plain: str) -> None:
    assert defuse(text) == markdown
    assert defuse(text, markdown=False) == plain


@settings(max_examples=150, deadline=None)
@given(
    title=hostile_text,
    rationale=hostile_text,
    category=hostile_text,
    kind=hostile_text,
    reason=hostile_text,
    where=hostile_text,
    file=hostile_text,
)
def test_a_whole_pr_body_from_a_hostile_candidate_is_inert(
    title: str, rationale: str, category: str, kind: str, reason: str, where: str, file: str
) -> None:
    """Every field a candidate controls, rendered: outside the code fences nothing acts."""
    hostile, result = hostile_candidate(title, rationale, category, kind, reason, where, file)
    text = outside_fences(render_pr(hostile, result))
    # the file name is in inline code, where nothing acts: one line, no backtick inside
    [name] = hostile.files
    span = code_span(name)
    assert "`" not in span[1:-1] and "\n" not in span
    assert f"\n- {span} +1 −1\n" in text
    text = text.replace(span, "")
    # the template's own command, HTML and inline code (`git revert -m 1 <merge commit sha>`)
    own = ["/mutate revert", "<details>", "<summary>", "</summary>", "</details>"]
    own += ["<merge commit sha>", "<commit sha>", "(< "]
    for mine in own:
        text = text.replace(mine, "")
    assert live(text) == []


def test_a_cut_never_splits_what_defusing_wrote() -> None:
    """Found by the summary's property test: cut after defusing, `&amp;` became a bare `&am`."""
    from mutbot.report import neutralise

    text = neutralise("x" * 298 + "&<>", 300)
    assert text == "x" * 298 + "&amp;&lt; …(cut)"
