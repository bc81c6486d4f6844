"""`mutbot action` end to end: real webhook payloads, the real GitHub client against the fake
GitHub, a bare git remote, and (for the runs) the local sandbox backend with real Locust."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mutbot.github.action import REFUSAL, ActionEnv, read_env, run_action
from mutbot.github.body import read_marker
from mutbot.github.publish import Target, publish
from mutbot.github.remote import Remote
from mutbot.ledger.branch import BranchLedger
from mutbot.ledger.model import evaluated
from mutbot.ledger.views import fold
from testing.fake_github import TOKEN
from testing.github_world import REPO, World, github_world, proposed, results
from testing.repos import QUICK_LOAD, edit_config, git, write_candidates
from testing.webhooks import payload


def hook(name: str) -> dict[str, Any]:
    data = payload(name)
    data["repository"]["full_name"] = REPO
    data["repository"]["default_branch"] = "main"
    return data


def push(ref: str = "refs/heads/main") -> dict[str, Any]:
    data = hook("push_with-new-branch")
    data["ref"] = ref
    return data


def comment(
    world: World, body: str, author: str = "maintainer", action: str = "created", issue: int = 1
) -> dict[str, Any]:
    """The real payload, about a comment that exists on the fake GitHub."""
    data = hook("issue_comment_created")
    data["action"] = action
    data["issue"]["number"] = issue
    data["comment"]["id"] = world.fake.add_comment(issue, body, author=author)
    data["comment"]["body"] = body
    data["comment"]["user"]["login"] = author
    data["sender"]["login"] = author
    return data


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path / "w") as w:
        w.fake.add_issue("Slow prices", author="maintainer")  # issue #1, the comments' target
        yield w


def act(world: World, tmp_path: Path, event: str, payload: dict[str, Any], **env: str) -> ActionEnv:
    action_env = read_env(world.variables(tmp_path, event, payload, **env))
    with world.client() as gh:
        assert run_action(action_env, backend="local", client=gh) == 0
    return action_env


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "output").read_text().splitlines()
    found, i = {}, 0
    while i < len(lines):
        name, delimiter = lines[i].split("<<")
        end = lines.index(delimiter, i + 1)
        found[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return found


def test_a_tag_push_does_nothing(world: World, tmp_path: Path) -> None:
    act(world, tmp_path, "push", push("refs/tags/v1.0"))
    assert not world.fake.calls("POST", ".*")
    assert outputs(tmp_path) == {"pull-requests": "[]", "results": "", "best-improvement": ""}
    assert "Nothing ran" in (tmp_path / "summary.md").read_text()


def test_an_outsiders_mutate_is_refused_politely(world: World, tmp_path: Path) -> None:
    act(world, tmp_path, "issue_comment", comment(world, "/mutate n=2", author="reader"))
    assert world.fake.comments_on(1) == ["/mutate n=2", REFUSAL]
    assert world.branches() == ["main"] and not world.fake.calls("POST", r".*/pulls")


def test_an_edited_comment_does_nothing(world: World, tmp_path: Path) -> None:
    act(world, tmp_path, "issue_comment", comment(world, "/mutate", action="edited"))
    assert not world.fake.calls("POST", ".*")


def test_help_is_answered_with_a_reaction(world: World, tmp_path: Path, capsys: Any) -> None:
    act(world, tmp_path, "issue_comment", comment(world, "/mutate help"))
    [_, reply] = world.fake.comments_on(1)
    assert "/mutate" in reply and "n=N" in reply
    out = capsys.readouterr().out
    assert f"::add-mask::{TOKEN}" in out.splitlines()[0]


def test_revert_of_a_merged_mutbot_pr_opens_a_revert_pr(world: World, tmp_path: Path) -> None:
    branch = "mutbot/threads-abc1234"
    git(world.checkout, "checkout", "--quiet", "-b", branch)
    (world.checkout / "config" / "server.ini").write_text("[server]\nthreads = 8\n")
    git(world.checkout, "commit", "--quiet", "-am", "threads")
    git(world.checkout, "push", "--quiet", "origin", branch)
    number = world.fake.add_pull(branch, title="mutbot: threads")
    git(world.checkout, "checkout", "--quiet", "main")
    git(
        world.checkout, "merge", "--quiet", "--no-ff", "-m", f"Merge pull request #{number}", branch
    )
    git(world.checkout, "push", "--quiet", "origin", "main")
    merge = world.head()
    world.fake.merge_pull(number, merge)
    payload = comment(world, "/mutate revert", issue=number)
    payload["issue"]["pull_request"] = {"url": "x", "merged_at": "2026-11-20T00:00:00Z"}

    act(world, tmp_path, "issue_comment", payload)

    revert = world.fake.pull(number + 1)
    assert revert["head"]["ref"] == f"mutbot/revert-{number}"
    sha = revert["head"]["sha"]
    assert git(world.remote, "rev-parse", f"{sha}^").strip() == merge
    assert "threads = 1" in git(world.remote, "show", f"{sha}:config/server.ini")
    assert world.fake.reactions_on(payload["comment"]["id"]) == ["eyes", "rocket"]


@pytest.mark.slow
def test_a_push_measures_and_opens_then_a_second_run_updates(
    world: World, tmp_path: Path, capsys: Any
) -> None:
    edit_config(world.checkout, QUICK_LOAD)
    git(world.checkout, "push", "--quiet", "origin", "main")
    candidates = write_candidates(tmp_path / "c.json", ["Serve requests from 8 worker threads"])
    env = {"MUTBOT_PROPOSER": f"file:{candidates}"}

    act(world, tmp_path, "push", push(), **env)

    found = outputs(tmp_path)
    [url] = json.loads(found["pull-requests"])
    assert url.endswith("/pull/2")
    assert found["best-improvement"].startswith("p95 latency")
    assert found["results"].endswith("results.json") and Path(found["results"]).is_file()
    pull = world.fake.pull(2)
    assert read_marker(pull["body"]) is not None
    out = capsys.readouterr().out
    start = next(line for line in out.splitlines() if line.startswith("::stop-commands::"))
    token = start.removeprefix("::stop-commands::")
    assert f"::{token}::" in out.splitlines()
    assert "Serve requests from 8 worker threads" in (tmp_path / "summary.md").read_text()

    act(world, tmp_path, "push", copy.deepcopy(push()), **env)
    assert len(world.fake.calls("POST", r".*/pulls")) == 1, "no duplicate pull request"
    assert world.fake.pull(2)["state"] == "open"
    assert len(world.fake.calls("PATCH", r".*/pulls/2")) == 1, "the open PR got the new figures"
    # the ledger branch holds both runs, and the PR link recorded before and after opening
    ledger = git(world.remote, "show", "mutbot/ledger:ledger.jsonl").splitlines()
    events = [json.loads(line)["event"] for line in ledger]
    assert events == ["evaluated", "pr-intent", "pr-opened", "evaluated"]
    assert "mutbot/ledger" in world.branches()


def test_a_closed_mutbot_pr_is_recorded_in_the_ledger_branch(world: World, tmp_path: Path) -> None:
    run = results(world.head(), proposed("Serve requests from 8 worker threads", 0.3))
    ledger = BranchLedger(world.checkout)
    ledger.append(evaluated(run))
    target = Target(world.checkout, "main", 3, record=lambda e: ledger.append([e]))
    with world.client() as gh:
        publish(run, gh, Remote(world.checkout), target, print)
    world.fake.close_pull(2)  # #1 is the fixture's issue
    payload = hook("pull_request_closed")
    payload["pull_request"]["head"]["ref"] = world.fake.pull(2)["head"]["ref"]

    act(world, tmp_path, "pull_request", payload)

    record = fold(ledger.read())[run.candidates[0].fingerprint]
    assert (record.outcome, record.pr_number) == ("closed", 2)
    assert "outcomes synced" in (tmp_path / "summary.md").read_text()


def test_a_failed_reaction_never_fails_the_run(world: World, tmp_path: Path, capsys: Any) -> None:
    world.fake.fail("POST", r"/reactions$", 500, times=4)  # the first try and 3 retries
    act(world, tmp_path, "issue_comment", comment(world, "/mutate help"))
    assert world.fake.pending_faults == 0
    [_, reply] = world.fake.comments_on(1)
    assert "/mutate" in reply and "n=N" in reply  # the reply still went out
    assert "mutbot: no eyes reaction: GitHub API: POST " in capsys.readouterr().out
