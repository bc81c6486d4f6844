"""Tests for src/mutbot/github/body.py: pull request titles and bodies for GitHub, the hidden
marker, defusing of proposer text and GitHub's body size limit."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from mutbot import __version__
from mutbot.github.body import (
    MAX_BODY,
    commit_message,
    marker,
    marker_data,
    pr_body,
    read_marker,
    title,
)
from mutbot.report import code_span, render_pr
from mutbot.results import CandidateResult, Pair, RunResult
from testing.defusing import hostile_candidate, hostile_text, live, outside_fences
from testing.records import candidate, run, trial

BRANCH = "mutbot/use-4-workers-0123456789ab"
REPRODUCE = "git checkout 0123456789ab && mutbot run --repo . --proposer file:c.json --seed 7"
PLAIN = candidate("t")
HOSTILE = 'x --> <!-- y --!> "z" & \\ \u2028 `` @bob #1'


def body_of(cand: CandidateResult | None = None, result: RunResult | None = None) -> str:
    cand = cand or candidate("use-4-workers")
    return pr_body(cand, result or run([cand], [cand.slug]), branch=BRANCH, reproduce=REPRODUCE)


def many_pairs(n: int) -> list[Pair]:
    return [
        Pair(
            index=i,
            order=("baseline", "candidate"),
            baseline=trial("baseline", 100.0 + i % 7),
            candidate=trial("candidate", 80.0 + i % 5),
        )
        for i in range(n)
    ]


def big_diff(lines: int) -> str:
    head = "diff --git a/config/server.ini b/config/server.ini\n--- a/config/server.ini\n"
    head += f"+++ b/config/server.ini\n@@ -0,0 +1,{lines} @@\n"
    return head + "".join(f"+setting_{i} = {'x' * 40}\n" for i in range(lines))


# the body


def test_body_is_render_pr_with_the_marker_last() -> None:
    cand = candidate("use-4-workers")
    result = run([cand], [cand.slug])
    body = body_of(cand, result)
    rendered = render_pr(cand, result, reproduce=REPRODUCE, branch=BRANCH)
    assert body == rendered + "\n" + marker(cand, result, BRANCH) + "\n"
    assert body.splitlines()[-1].startswith("<!-- mutbot: {")
    assert body.endswith(" -->\n")


def test_body_has_the_exact_reproduce_command_and_the_branch() -> None:
    body = body_of()
    assert f"\n```sh\n{REPRODUCE}\n```\n" in body
    assert "Measured at commit `0123456789abcdef0123` (run `20240101-000000-abcd`)" in body
    assert "branch `mutbot/use-4-workers-0123456789ab`" in body


def test_body_says_how_to_revert_three_ways() -> None:
    section = body_of().split("## How to revert\n")[1].split("\n## ")[0]
    assert "**Before merge:** close this pull request" in section
    assert "`git revert -m 1 <merge commit sha>`" in section
    assert "comment `/mutate revert` on this pull request" in section


def test_body_has_the_diff_stat() -> None:
    diff = (
        "diff --git a/Dockerfile b/Dockerfile\n--- a/Dockerfile\n+++ b/Dockerfile\n"
        "@@ -1,2 +1,3 @@\n-FROM python:3.11\n+FROM python:3.11-slim\n+ENV A=1\n RUN x\n"
        "diff --git a/app.ini b/app.ini\n--- a/app.ini\n+++ b/app.ini\n@@ -1 +1,2 @@\n"
        " a = 1\n+b = 2\n"
    )
    body = body_of(candidate("slim", diff=diff))
    assert "2 files changed, +3 −1 lines · fingerprint `0123456789ab`" in body
    assert "\n- `Dockerfile` +2 −1\n- `app.ini` +1 −0\n" in body


def test_body_collapses_the_per_trial_data() -> None:
    body = body_of()
    assert "<details><summary>Per-trial data (confirmation block)</summary>" in body
    assert body.index("</details>") < body.index("<!-- mutbot:")


# the marker


def test_marker_round_trip() -> None:
    cand = candidate("use-4-workers").model_copy(update={"category": "concurrency"})
    result = run([cand], [cand.slug])
    data = read_marker(body_of(cand, result))
    assert data == marker_data(cand, result, BRANCH)
    assert data is not None
    comp = cand.comparisons["latency_p95_ms"]
    assert data["version"] == __version__
    assert data["run_id"] == "20240101-000000-abcd"
    assert data["base_commit"] == "0123456789abcdef0123"
    assert (data["slug"], data["fingerprint"]) == ("use-4-workers", "0123456789ab")
    assert (data["kind"], data["category"], data["metric"]) == (
        "incremental",
        "concurrency",
        "latency_p95_ms",
    )
    assert (data["change"], data["ci_low"], data["ci_high"]) == (
        comp.change,
        comp.ci_low,
        comp.ci_high,
    )
    assert cand.judgement is not None
    assert data["p_adjusted"] == cand.judgement.p_adjusted
    assert data["branch"] == BRANCH


def test_marker_survives_hostile_text_and_cannot_close_the_comment() -> None:
    cand = candidate("use-4-workers").model_copy(
        update={"slug": "a--b->c", "category": HOSTILE, "kind": "<!--"}
    )
    result = run([cand], [cand.slug])
    text = marker(cand, result, branch="mutbot/x-->y")
    inner = text.removeprefix("<!-- mutbot: ").removesuffix(" -->")
    assert "--" not in inner and ">" not in inner and "<" not in inner
    assert "\n" not in text
    data = read_marker("before\n" + text + "\nafter")
    assert data is not None
    assert (data["slug"], data["category"], data["kind"]) == ("a--b->c", HOSTILE, "<!--")
    assert data["branch"] == "mutbot/x-->y"


def test_marker_has_no_nan() -> None:
    cand = candidate("x", rejected_at=("policy", "protected"))
    text = marker(cand, run([cand], []), BRANCH)
    json.loads(text.removeprefix("<!-- mutbot: ").removesuffix(" -->"), parse_constant=_no_nan)


def _no_nan(name: str) -> None:
    raise AssertionError(f"{name} in the marker")


def test_a_fake_marker_in_the_rationale_cannot_win() -> None:
    fake = '<!-- mutbot: {"slug": "evil", "branch": "main"} -->'
    data = read_marker(body_of(candidate("use-4-workers", rationale=fake)))
    assert data is not None and data["slug"] == "use-4-workers"


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "no marker here",
        "<!-- mutbot: {not json} -->",
        "<!-- mutbot: [1, 2] -->",
        '<!-- mutbot: {"a": 1 -->',
        "<!-- mutbot: {} ",
    ],
)
def test_read_marker_tolerates_absence_and_garbage(body: str | None) -> None:
    assert read_marker(body) is None


def test_read_marker_takes_the_last_one() -> None:
    body = '<!-- mutbot: {"slug": "old"} -->\ntext\n<!-- mutbot: {"slug": "new"} -->\n'
    assert read_marker(body) == {"slug": "new"}


# defusing model and repository text


def test_links_mentions_references_and_commands_are_defused() -> None:
    rationale = (
        "See https://evil.example/x and http://a.b, www.c.d; fixes #12 and GH-7, "
        "thanks @octocat\n/mutate revert\n```\nswallow the rest"
    )
    body = body_of(candidate("use-4-workers", rationale=rationale))
    why = body.split("## Why\n\n")[1].split("\n## ")[0]
    for found in ["https://", "http://", "www.c", "#12", "GH-7", "@octocat", "\n/mutate", "\n```"]:
        assert found not in why, found
    assert "hxxps://evil.example/x" in why and "hxxp://a.b" in why and "www[.]c.d" in why


def test_title_is_defused_in_the_body_heading() -> None:
    body = body_of(candidate("t", title="Use #3 and\n## @x https://y"))
    assert body.splitlines()[0] == "# Use #\u200b3 and ## @\u200bx hxxps://y"


def test_rationale_is_capped() -> None:
    body = body_of(candidate("use-4-workers", rationale="a" * 10_000))
    why = body.split("## Why\n\n")[1].split("\n")[0]
    assert why == "a" * 4000 + " …(cut)"


# the title


def test_title_is_prefixed_one_line_and_defused() -> None:
    assert title(candidate("t", title="Use 4 workers")) == "mutbot: Use 4 workers"
    assert title(candidate("t", title=" Ping\n @bob  for #12 ")) == (
        "mutbot: Ping @\u200bbob for #\u200b12"
    )
    assert title(candidate("slug-only", title=" \n")) == "mutbot: slug-only"


def test_title_is_at_most_256_characters() -> None:
    long = title(candidate("t", title="word " * 200))
    assert len(long) == 256
    assert long.startswith("mutbot: word word") and long.endswith("…")


# GitHub's body limit


def test_a_huge_per_trial_table_is_shrunk_first() -> None:
    cand = candidate("use-4-workers").model_copy(update={"pairs": many_pairs(600)})
    result = run([cand], [cand.slug])
    assert len(render_pr(cand, result)) > MAX_BODY
    body = body_of(cand, result)
    assert len(body) <= MAX_BODY
    assert "rows omitted; see results.json.*" in body
    assert "Diff cut" not in body
    assert f"```diff\n{cand.diff.rstrip()}\n" in body.replace("`````", "```")
    assert read_marker(body) == marker_data(cand, result, BRANCH)


def test_a_huge_diff_is_cut_after_the_table_with_the_marker_intact() -> None:
    diff = big_diff(5000)
    cand = candidate("use-4-workers").model_copy(
        update={"diff": diff, "pairs": many_pairs(40), "rationale": "r" * 5000}
    )
    result = run([cand], [cand.slug])
    body = body_of(cand, result)
    assert MAX_BODY - 2000 < len(body) <= MAX_BODY
    assert "*80 rows omitted; see results.json.*" in body
    assert "of 5004 lines shown; see branch `mutbot/use-4-workers-0123456789ab`" in body
    assert "1 file changed, +5000 −0 lines" in body  # the stat counts the whole diff
    after_diff = body.split("```diff\n")[1]
    assert "\n```\n" in after_diff and "## How to revert" in after_diff  # the fence is closed
    assert read_marker(body) == marker_data(cand, result, BRANCH)


def test_a_body_just_over_the_limit_keeps_most_rows() -> None:
    cand = candidate("use-4-workers")
    result = run([cand], [cand.slug])
    room = MAX_BODY - len(body_of(cand, result))
    # a diff that overflows the limit by about two table rows
    line = "+" + "y" * 59 + "\n"
    diff = big_diff(0) + line * ((room + 150) // len(line))
    cand = cand.model_copy(update={"diff": diff})
    body = body_of(cand, result)
    assert len(body) <= MAX_BODY
    assert "Diff cut" not in body
    omitted = int(body.split("\n*")[-1].split(" rows omitted")[0])
    assert 1 <= omitted <= 4


def test_the_limit_holds_even_when_nothing_optional_is_left_to_cut() -> None:
    cand = candidate("use-4-workers").model_copy(
        update={"reason": "r" * 100_000, "diff": big_diff(2000)}
    )
    result = run([cand], [cand.slug])
    body = body_of(cand, result)
    assert len(body) == MAX_BODY
    assert "*Body cut to GitHub's size limit; see results.json.*\n\n<!-- mutbot: " in body
    assert read_marker(body) == marker_data(cand, result, BRANCH)


# commit messages and titles: plain text on GitHub, still with live mentions and references


def test_the_commit_message_closes_no_issue_and_pings_no_one() -> None:
    cand = candidate("t", title="fixes #1 for @org/team").model_copy(
        update={"reason": "closes GH-2, resolves https://github.com/o/r/issues/3 <b>"}
    )
    message = commit_message(cand, run([cand], [cand.slug]))
    assert message == (
        "fixes #\u200b1 for @\u200borg/team\n\n"
        "closes GH\u200b-2, resolves hxxps://github.com/o/r/issues/3 <b>.\n\n"
        "Measured by mutbot run 20240101-000000-abcd on 0123456789ab.\n"
        "mutbot-fingerprint: 0123456789ab\n"
    )


@settings(max_examples=150, deadline=None)
@given(title=hostile_text, reason=hostile_text)
def test_hostile_titles_and_commit_messages_are_inert(title: str, reason: str) -> None:
    cand = PLAIN.model_copy(update={"title": title, "reason": reason})
    assert live(title_of(cand), markdown=False) == []
    assert live(commit_message(cand, run([cand], [cand.slug])), markdown=False) == []


def title_of(cand: CandidateResult) -> str:
    text = title(cand)
    assert text.startswith("mutbot: ") and "\n" not in text
    return text


@settings(max_examples=60, deadline=None)
@given(title=hostile_text, rationale=hostile_text, reason=hostile_text, file=hostile_text)
def test_a_whole_body_with_its_marker_is_inert(
    title: str, rationale: str, reason: str, file: str
) -> None:
    hostile, result = hostile_candidate(title, rationale, reason, reason, reason, reason, file)
    body = pr_body(hostile, result, branch=BRANCH, reproduce=REPRODUCE)
    *text, last = outside_fences(body).rstrip("\n").split("\n")
    assert last.startswith("<!-- mutbot: {") and last.endswith("} -->")  # hidden: never shown
    shown = "\n".join(text).replace(code_span(hostile.files[0]), "")
    for mine in ("/mutate revert", "<details>", "<summary>", "</summary>", "</details>"):
        shown = shown.replace(mine, "")
    for mine in ("<merge commit sha>", "<commit sha>", "(< "):
        shown = shown.replace(mine, "")
    assert live(shown) == []
