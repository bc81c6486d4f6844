"""The dashboard issue on the fake GitHub: created once, edited in place run after run, found
by label and marker; its ticked boxes act for people with write access, once per box, and for
nobody else. `mutbot action` end to end, runs measured by a scripted backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mutbot.github import board
from mutbot.github.dashboard import LABEL, boxes, setting_id
from mutbot.ledger.branch import BranchLedger
from mutbot.ledger.views import fold, forgiven
from testing.github_events import THREADS, act, comment, edited, hook, opened, scripted
from testing.github_world import World, github_world, proposed, results
from testing.repos import write_candidates

THREADS_8 = "Serve requests from 8 worker threads"
CACHE = "Enable a 1024-entry price cache"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path / "w") as w:
        yield w


def push_run(world: World, folder: Path, titles: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    listed = write_candidates(folder / "candidates.json", titles)
    data = hook("push_with-new-branch")
    data["ref"] = "refs/heads/main"
    from mutbot.github.action import read_env, run_action

    env = read_env(world.variables(folder, "push", data, MUTBOT_PROPOSER=f"file:{listed}"))
    with world.client() as gh:
        assert run_action(env, backend="local", client=gh, machinery=scripted(world.checkout)) == 0


def dashboards(world: World) -> list[dict[str, object]]:
    return [
        i
        for i in world.fake.issues.values()
        if "pull" not in i and any(name.lower() == LABEL for name in i["labels"])
    ]


def refreshed(world: World) -> tuple[int, str]:
    with world.client() as gh:
        issue = board.refresh(gh, BranchLedger(world.checkout).read(), lambda _: None)
    assert issue is not None
    return issue.number, issue.body


def tick(body: str, action: str, target: str) -> str:
    box = f"- [ ] <!-- mutbot-tick: {action} {target} -->"
    assert box in body
    return body.replace(box, box.replace("[ ]", "[x]"))


def test_created_once_and_updated_in_place_across_runs(world: World, tmp_path: Path) -> None:
    push_run(world, tmp_path / "one", [THREADS_8])
    [issue] = dashboards(world)
    first = str(issue["body"])
    number = issue["number"]
    assert "- [ ] <!-- mutbot-tick: rebench 1 --> #1 Serve requests from 8 worker threads" in first

    push_run(world, tmp_path / "two", [CACHE])

    [again] = dashboards(world)
    assert again["number"] == number, "the same issue, edited"
    assert len(world.fake.calls("POST", r".*/issues$")) == 1
    assert world.fake.calls("PATCH", rf".*/issues/{number}$")
    assert again["body"] != first and "2 candidates evaluated" in str(again["body"])
    assert not world.fake.calls("GET", r"/search/.*"), "found by label, never by search"


def test_a_dashboard_is_found_by_label_and_marker_not_title(world: World) -> None:
    world.fake.add_issue("mutbot dashboard", author="octocat", body="a look-alike, no marker")
    number, _ = refreshed(world)
    again, _ = refreshed(world)
    assert again == number and len(dashboards(world)) == 1
    assert world.fake.issue(1)["body"] == "a look-alike, no marker"


def test_a_writers_tick_measures_the_pull_request_again_once(world: World, tmp_path: Path) -> None:
    run = results(world.head(), proposed(THREADS_8, 0.5))
    [number] = opened(world, run)
    issue, body = refreshed(world)
    ledger = BranchLedger(world.checkout)
    runs_before = sum(e.event == "evaluated" for e in ledger.read())

    payload = edited(world, issue, body, tick(body, "rebench", str(number)), "maintainer")
    act(world, tmp_path, "issues", payload, scripted(world.checkout))

    assert sum(e.event == "evaluated" for e in ledger.read()) == runs_before + 1
    [reply] = world.fake.comments_on(number)
    assert reply.startswith("Asked by maintainer on the dashboard: measured again at")
    assert len(world.fake.calls("POST", r".*/pulls$")) == 1, "no second pull request"
    after = str(world.fake.issue(issue)["body"])
    assert boxes(after)[("rebench", str(number))] is False, "unticked once done"


@pytest.mark.parametrize("sender", ["reader", "github-actions[bot]", ""])
def test_a_tick_by_an_outsider_or_by_the_bot_does_nothing(
    world: World, tmp_path: Path, sender: str
) -> None:
    run = results(world.head(), proposed(THREADS_8, 0.5))
    [number] = opened(world, run)
    issue, body = refreshed(world)
    before = BranchLedger(world.checkout).read()
    writes = len(world.fake.calls("PATCH", ".*")) + len(world.fake.calls("POST", ".*"))

    payload = edited(world, issue, body, tick(body, "rebench", str(number)), sender)
    act(world, tmp_path, "issues", payload, scripted(world.checkout))

    assert BranchLedger(world.checkout).read() == before
    assert world.fake.comments_on(number) == [] and world.fake.comments_on(issue) == []
    assert len(world.fake.calls("PATCH", ".*")) + len(world.fake.calls("POST", ".*")) == writes


def test_forgetting_an_ignore_lets_the_change_be_proposed_again(
    world: World, tmp_path: Path
) -> None:
    run = results(world.head(), proposed(THREADS_8, 0.5))
    fp = run.candidates[0].fingerprint
    [number] = opened(world, run)
    act(world, tmp_path / "a", "issue_comment", comment(world, "/mutate ignore", number))
    act(
        world,
        tmp_path / "b",
        "issue_comment",
        comment(world, f"/mutate ignore setting {THREADS}", number),
    )
    issue, body = refreshed(world)
    ticked = tick(tick(body, "forget", fp), "forget", f"setting:{setting_id(THREADS)}")

    act(world, tmp_path / "c", "issues", edited(world, issue, body, ticked, "maintainer"))

    entries = BranchLedger(world.checkout).read()
    assert fold(entries)[fp].outcome is None and fp in forgiven(entries)
    push_run(world, tmp_path / "d", [THREADS_8])
    assert len(world.fake.calls("POST", r".*/pulls$")) == 2, "proposed again, in a new PR"
    assert world.fake.pull(number)["state"] == "closed"
