"""Tests for src/mutbot/github/summary.py: the run summary written to $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from markdown_it import MarkdownIt

from mutbot.estimates import forest
from mutbot.forest_text import forest_block
from mutbot.github.summary import Published, cell, step_summary
from mutbot.proposers.base import Opportunity, Usage
from mutbot.report import headline
from mutbot.results import CandidateResult, ProposalRecord, RunResult
from testing.defusing import hostile_candidate, hostile_text, live, outside_fences
from testing.records import candidate, run

REASON = "push to refs/heads/main, the default branch"
URL = "https://github.com/o/r/pull/{}"


def proposal(**changes: object) -> ProposalRecord:
    values: dict[str, object] = {
        "proposer": "anthropic",
        "requested": "anthropic",
        "failure": None,
        "notes": [],
        "usage": Usage(
            model="claude-x", requests=3, input_tokens=12_345, output_tokens=678, usd=0.0421
        ),
        "seconds": 12.0,
        "baseline_source": None,
        "opportunities": [
            Opportunity(category="concurrency", path="config/server.ini", line=3, why="1 worker"),
            Opportunity(
                category="image-size", path="Dockerfile", line=1, why="full image | see @bob"
            ),
        ],
        "candidates": 5,
    }
    values.update(changes)
    return ProposalRecord.model_validate(values)


def mixed_run(**proposal_changes: object) -> tuple[RunResult, list[CandidateResult]]:
    best = candidate("best", title="Use 4 workers", factor=0.5)
    second = candidate("second", title="Keep-alive on", factor=0.8)
    third = candidate("third", title="Smaller image", factor=0.85)
    risky = candidate("risky", title="Radical rewrite", proposer_risk=6.0)
    flat = candidate("flat", title="No effect", factor=0.99)
    blocked = candidate(
        "blocked", title="Edit CI", rejected_at=("policy", ".github/workflows/ci.yml: never pushed")
    )
    cands = [flat, blocked, risky, third, second, best]
    result = run(cands, ranking=["best", "second", "third"]).model_copy(
        update={"proposal": proposal(**proposal_changes)}
    )
    return result, cands


def published() -> list[Published]:
    return [
        Published("best", "opened", URL.format(7), ""),
        Published("second", "updated", URL.format(5), "the base moved: rebased"),
        Published("third", "skipped", None, "3 mutbot pull requests are open (max-prs 3)"),
    ]


def table(summary: str) -> list[str]:
    part = summary.split("### Candidates\n")[1].split("\n### ")[0]
    return [line for line in part.splitlines() if line.startswith("| ")][2:]


def test_every_candidate_in_one_table_proposed_first() -> None:
    result, _ = mixed_run()
    rows = table(step_summary(result, published(), decision_reason=REASON))
    titles = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert titles == [
        "Use 4 workers",
        "Keep-alive on",
        "Smaller image",
        "Radical rewrite",
        "No effect",
        "Edit CI",
    ]
    verdicts = [row.split(" | ")[2] for row in rows]
    assert verdicts == ["proposed"] * 3 + ["needs review", "rejected", "rejected"]


def test_proposed_rows_have_the_headline_and_the_pull_request() -> None:
    result, cands = mixed_run()
    rows = table(step_summary(result, published(), decision_reason=REASON))
    best = next(c for c in cands if c.slug == "best")
    assert rows[0] == (
        f"| Use 4 workers | incremental | proposed | {headline(best, result)} | "
        f"[opened]({URL.format(7)}) |"
    )
    assert rows[1].endswith(f"| [updated]({URL.format(5)}) (the base moved: rebased) |")
    assert rows[2].endswith("| no PR: 3 mutbot pull requests are open (max-prs 3) |")


def test_rejected_rows_give_stage_and_reason() -> None:
    result, _ = mixed_run()
    rows = table(step_summary(result, published(), decision_reason=REASON))
    assert rows[5] == (
        "| Edit CI | incremental | rejected | policy: .github/workflows/ci.yml: never pushed | "
        "no PR: rejected |"
    )
    assert "| decide: not better by the minimum effect: p95 latency" in rows[4]
    assert rows[3].endswith("needs review: risk 6.00 (limit 5) | no PR: needs review |")


def test_proposed_without_a_pull_request_are_listed_with_why() -> None:
    result, _ = mixed_run()
    only_best = [p for p in published() if p.slug != "second"]
    summary = step_summary(result, only_best, decision_reason=REASON)
    waiting = summary.split("### Proposed, without a pull request of their own\n")[1]
    waiting = waiting.split("\n###")[0]
    lines = [line for line in waiting.splitlines() if line.startswith("- ")]
    assert len(lines) == 2
    assert lines[0].startswith("- Keep-alive on: p95 latency") and lines[0].endswith(
        "(not published)"
    )
    assert lines[1].endswith("(3 mutbot pull requests are open (max-prs 3))")


def test_no_waiting_section_when_every_proposed_candidate_has_a_pr() -> None:
    result, _ = mixed_run()
    done = [dataclasses.replace(p, action="opened", url=URL.format(9)) for p in published()]
    assert "waiting" not in step_summary(result, done, decision_reason=REASON)


def test_a_failed_publication_says_why() -> None:
    result, _ = mixed_run()
    failed = [Published("best", "failed", None, "GitHub answered 500")]
    rows = table(step_summary(result, failed, decision_reason=REASON))
    assert rows[0].endswith("| failed: GitHub answered 500 |")


def test_heading_has_the_decision_and_the_counts() -> None:
    result, _ = mixed_run()
    summary = step_summary(result, published(), decision_reason=REASON)
    assert summary.startswith("## mutbot run `20240101-000000-abcd`\n\n" + REASON + "\n")
    assert (
        "6 candidates, 3 proposed, 1 need review, 0 inconclusive (measured again next run), "
        "2 rejected."
    ) in summary


def test_opportunities_are_listed_and_escaped() -> None:
    result, _ = mixed_run()
    summary = step_summary(result, [], decision_reason=REASON)
    part = summary.split("### Detected opportunities\n")[1].split("\n###")[0]
    assert "| concurrency | config/server.ini:3 | 1 worker |" in part
    assert "| image-size | Dockerfile:1 | full image \\| see @\u200bbob |" in part


def test_no_opportunities_and_no_proposal_record() -> None:
    cand = candidate("a")
    summary = step_summary(run([cand], ["a"]), [], decision_reason=REASON)
    assert "### Detected opportunities\n\nNone detected.\n" in summary
    assert "No proposal record." in summary


def test_proposer_and_llm_cost_from_usage() -> None:
    result, _ = mixed_run()
    summary = step_summary(result, [], decision_reason=REASON)
    assert "- **Proposer:** anthropic\n" in summary
    assert (
        "- **LLM cost:** $0.0421 (3 requests, 12,345 input and 678 output tokens, claude-x)"
        in summary
    )


def test_llm_cost_text_given_wins() -> None:
    result, _ = mixed_run()
    summary = step_summary(result, [], decision_reason=REASON, llm_cost="$0.05 (2 calls)")
    assert "- **LLM cost:** $0.05 (2 calls)\n" in summary


def test_a_fallback_proposer_and_no_llm() -> None:
    result, _ = mixed_run(
        proposer="search",
        failure="anthropic: 529 overloaded",
        usage=None,
        notes=["kept 5 of 8"],
    )
    summary = step_summary(result, [], decision_reason=REASON)
    assert "- **Proposer:** search\n" in summary
    assert "- **Asked first:** anthropic: anthropic: 529 overloaded\n" in summary
    assert "- **LLM cost:** none (no LLM was used)\n" in summary
    assert "- kept 5 of 8\n" in summary


def test_an_empty_run() -> None:
    summary = step_summary(run([], []), [], decision_reason=REASON)
    assert "No candidate was evaluated." in summary
    assert "0 candidates, 0 proposed" in summary


def test_outcomes_for_no_candidate_such_as_a_revert() -> None:
    result, _ = mixed_run()
    revert = Published("revert-12", "opened", URL.format(13), "")
    summary = step_summary(result, [*published(), revert], decision_reason=REASON)
    assert f"### Other actions\n\n- revert-12 opened [{URL.format(13)}]({URL.format(13)})" in (
        summary
    )


def test_hostile_titles_cannot_break_the_table_or_ping() -> None:
    hostile = candidate("h", title="a | b\n| c | @bob https://x.y #5 <b>", factor=0.5)
    result = run([hostile], ["h"])
    rows = table(step_summary(result, [], decision_reason=REASON))
    assert len(rows) == 1
    assert rows[0].startswith(
        "| a \\| b \\| c \\| @\u200bbob hxxps://x.y #\u200b5 &lt;b&gt; | incremental | proposed |"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", "a\\|b"),
        ("a\\|b", "a\\\\\\|b"),  # a backslash cannot un-escape the pipe
        ("line\nbreak\r\n  here", "line break here"),
        ("x" * 400, "x" * 300 + " …(cut)"),
    ],
)
def test_cell(text: str, expected: str) -> None:
    assert cell(text) == expected


@settings(max_examples=100, deadline=None)
@given(
    title=hostile_text,
    category=hostile_text,
    kind=hostile_text,
    reason=hostile_text,
    where=hostile_text,
    file=hostile_text,
)
def test_a_summary_of_hostile_candidates_is_inert(
    title: str, category: str, kind: str, reason: str, where: str, file: str
) -> None:
    """Only mutbot's own links to its pull requests are live; nothing a candidate says is."""
    hostile, result = hostile_candidate(title, "", category, kind, reason, where, file)
    opportunity = Opportunity(category=category, path=file, line=1, why=reason)
    record = result.proposal
    assert record is not None
    result = result.model_copy(
        update={"proposal": record.model_copy(update={"opportunities": [opportunity]})}
    )
    done = [
        Published(hostile.slug, "opened", URL.format(7), reason),
        Published(f"revert-{where}", "failed", None, reason),
    ]
    summary = step_summary(result, done, decision_reason=reason, llm_cost=reason)
    assert summary.count(f"[opened]({URL.format(7)})") == 1
    text = summary.replace(f"[opened]({URL.format(7)})", "")
    assert live(outside_fences(text)) == []
    # inside a fence nothing acts; the only fence is the estimates chart, whole
    fences = [t for t in MarkdownIt("commonmark").enable("table").parse(text) if t.type == "fence"]
    numbers = forest(result)
    chart = forest_block(numbers) if numbers else None
    assert [(t.info, "```text\n" + t.content + "```") for t in fences] == (
        [("text", chart)] if chart else []
    )
