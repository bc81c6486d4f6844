"""`/mutate rebench`, `/mutate ignore` and `/mutate ignore setting NAME` on mutbot pull
requests, and what a merge does to the open alternatives: `mutbot action` end to end against
the fake GitHub, with the real client, a bare remote and the ledger branch; runs are measured
by a scripted backend (nothing built or started)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mutbot.github.action import REFUSAL
from mutbot.github.body import read_marker
from mutbot.ledger.branch import BranchLedger
from mutbot.ledger.views import Record, fold, history, ignored_settings
from mutbot.proposers.base import Deduper
from mutbot.proposers.learning import barred, failed, succeeded
from mutbot.results import SettingChange
from testing.github_events import (
    THREADS,
    act,
    closed,
    comment,
    hook,
    merge,
    open_by_hand,
    opened,
    scripted,
)
from testing.github_world import World, github_world, proposed, results
from testing.repos import git, write_candidates

THREADS_8 = "Serve requests from 8 worker threads"
BUNDLE = "Threads, cache and quiet logs together"
CACHE = "Enable a 1024-entry price cache"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path / "w") as w:
        w.fake.add_issue("Slow prices", author="maintainer")  # #1: not a pull request
        yield w


def one_pr(world: World, title: str = THREADS_8) -> tuple[int, str]:
    run = results(world.head(), proposed(title, 0.5))
    [number] = opened(world, run)
    return number, run.candidates[0].fingerprint


def record(world: World, fp: str) -> Record:
    return fold(BranchLedger(world.checkout).read())[fp]


def push_run(world: World, tmp_path: Path, titles: list[str]) -> None:
    """A push to main measuring these candidates of the example (file proposer, scripted)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    listed = write_candidates(tmp_path / "candidates.json", titles)
    data = hook("push_with-new-branch")
    data["ref"] = "refs/heads/main"
    folder = tmp_path / "push"
    folder.mkdir(exist_ok=True)
    from mutbot.github.action import read_env, run_action

    env = read_env(
        world.variables(folder, "push", data, MUTBOT_PROPOSER=f"file:{listed}", MUTBOT_MAX_PRS="5")
    )
    with world.client() as gh:
        assert run_action(env, backend="local", client=gh, machinery=scripted(world.checkout)) == 0


# -- who may ask ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", ["/mutate rebench", "/mutate ignore", f"/mutate ignore setting {THREADS}"]
)
def test_an_outsiders_command_is_refused_and_changes_nothing(
    world: World, tmp_path: Path, command: str
) -> None:
    number, _ = one_pr(world)
    before = BranchLedger(world.checkout).read()

    act(world, tmp_path, "issue_comment", comment(world, command, number, author="reader"))

    assert world.fake.comments_on(number) == [command, REFUSAL]
    assert world.fake.pull(number)["state"] == "open"
    assert BranchLedger(world.checkout).read() == before
    assert not world.fake.calls("PATCH", ".*")


@pytest.mark.parametrize("command", ["/mutate rebench", "/mutate ignore"])
def test_a_pull_request_command_on_an_issue_says_where_it_works(
    world: World, tmp_path: Path, command: str
) -> None:
    act(world, tmp_path, "issue_comment", comment(world, command, 1))
    [_, reply] = world.fake.comments_on(1)
    assert reply == f"`{command}` works only on an open mutbot pull request."


def test_a_command_on_someone_elses_pull_request_says_so(world: World, tmp_path: Path) -> None:
    git(world.checkout, "checkout", "--quiet", "-b", "feature")
    (world.checkout / "NOTES").write_text("notes\n")
    git(world.checkout, "add", "NOTES")
    git(world.checkout, "commit", "--quiet", "-m", "notes")
    git(world.checkout, "push", "--quiet", "origin", "feature")
    git(world.checkout, "checkout", "--quiet", "main")
    number = world.fake.add_pull("feature", title="Notes", author="maintainer")

    act(world, tmp_path, "issue_comment", comment(world, "/mutate ignore", number))

    reply = world.fake.comments_on(number)[-1]
    assert reply == (
        f"#{number} is not a pull request mutbot proposed: `/mutate ignore` works only on one"
    )
    assert world.fake.pull(number)["state"] == "open"


# -- /mutate ignore ------------------------------------------------------------------------


def test_ignore_closes_records_and_the_next_run_does_not_propose_it(
    world: World, tmp_path: Path
) -> None:
    number, fp = one_pr(world)

    act(world, tmp_path / "a", "issue_comment", comment(world, "/mutate ignore", number))

    assert world.fake.pull(number)["state"] == "closed"
    assert "never proposes this change again" in world.fake.comments_on(number)[-1]
    assert record(world, fp).outcome == "ignored"
    # the closing event that follows is no maintainer's "closed"
    act(world, tmp_path / "b", "pull_request", closed(world, number))
    assert record(world, fp).outcome == "ignored"
    [entry] = [h for h in history(BranchLedger(world.checkout).read()) if h.fingerprint == fp]
    assert barred(entry) and not failed(entry) and not succeeded(entry)
    assert fp in Deduper.refused((entry,)).seen

    push_run(world, tmp_path / "c", [THREADS_8])

    assert len(world.fake.calls("POST", r".*/pulls$")) == 1, "no second pull request"
    summary = (tmp_path / "c" / "push" / "summary.md").read_text()
    assert "0 candidates" in summary
    assert "1 of 1 candidates in" in summary and "reverted or ignored it before" in summary


def test_ignore_of_a_merged_pull_request_points_at_revert(world: World, tmp_path: Path) -> None:
    number, fp = one_pr(world)
    merge(world, number)
    act(world, tmp_path, "issue_comment", comment(world, "/mutate ignore", number))
    assert "`/mutate revert`" in world.fake.comments_on(number)[-1]
    assert record(world, fp).outcome != "ignored"


# -- /mutate ignore setting NAME -----------------------------------------------------------


def test_ignore_setting_drops_every_candidate_touching_it(world: World, tmp_path: Path) -> None:
    number, _ = one_pr(world, CACHE)

    act(
        world,
        tmp_path / "a",
        "issue_comment",
        comment(world, f"/mutate ignore setting {THREADS}", number),
    )

    assert f"mutbot never changes `{THREADS}` again" in world.fake.comments_on(number)[-1]
    assert list(ignored_settings(BranchLedger(world.checkout).read())) == [THREADS]
    assert world.fake.pull(number)["state"] == "open", "it does not change threads"

    push_run(world, tmp_path / "b", [THREADS_8, BUNDLE])

    evaluated = [
        e for e in BranchLedger(world.checkout).read() if e.event == "evaluated" and e.stage
    ]
    dropped = {e.title: e for e in evaluated if e.stage == "policy"}
    assert set(dropped) == {THREADS_8, BUNDLE}
    for entry in dropped.values():
        assert f"changes {THREADS}, which a maintainer asked mutbot never to change" in (
            entry.reason or ""
        )
    assert "never to change" in (tmp_path / "b" / "push" / "summary.md").read_text()
    assert len(world.fake.calls("POST", r".*/pulls$")) == 1


def test_ignore_setting_closes_a_pull_request_that_changes_it(world: World, tmp_path: Path) -> None:
    run = results(world.head(), proposed(THREADS_8, 0.5))
    candidate = run.candidates[0]
    change = SettingChange(
        key=THREADS,
        safety="tune",
        before=1,
        after=8,
        written=(True, True),
        where="config/server.ini:3",
        reaches="none",
    )
    touched = candidate.model_copy(update={"settings": [change]})
    run = run.model_copy(update={"candidates": [touched]})
    [number] = opened(world, run)

    act(
        world,
        tmp_path,
        "issue_comment",
        comment(world, f"/mutate ignore setting {THREADS}", number),
    )

    assert world.fake.pull(number)["state"] == "closed"
    assert record(world, candidate.fingerprint).outcome == "ignored"
    assert "This pull request changes it, so it is closed." in world.fake.comments_on(number)[-1]


def test_an_unknown_setting_gets_the_close_names(world: World, tmp_path: Path) -> None:
    number, _ = one_pr(world)
    before = BranchLedger(world.checkout).read()

    act(
        world,
        tmp_path,
        "issue_comment",
        comment(world, "/mutate ignore setting appsettings.server.thread", number),
    )

    reply = world.fake.comments_on(number)[-1]
    assert f"Did you mean `{THREADS}`" in reply and "Nothing was recorded." in reply
    assert BranchLedger(world.checkout).read() == before


# -- /mutate rebench -----------------------------------------------------------------------


def rebench(world: World, tmp_path: Path, number: int) -> None:
    """A maintainer's `/mutate rebench` on pull request `number`, measured by the script."""
    act(
        world,
        tmp_path,
        "issue_comment",
        comment(world, "/mutate rebench", number),
        scripted(world.checkout),
    )


def test_rebench_updates_the_body_and_branch_of_the_same_pull_request(
    world: World, tmp_path: Path
) -> None:
    number, fp = one_pr(world)
    old = world.fake.pull(number)
    base = world.commit_on_main("NOTES", "the base moved\n")

    rebench(world, tmp_path, number)

    assert len(world.fake.calls("POST", r".*/pulls$")) == 1, "no second pull request"
    pull = world.fake.pull(number)
    assert pull["state"] == "open"
    marker = read_marker(pull["body"]) or {}
    assert marker["base_commit"] == base and marker["fingerprint"] == fp
    assert marker["run_id"] != (read_marker(old["body"]) or {})["run_id"]
    assert pull["head"]["sha"] != old["head"]["sha"]
    assert git(world.remote, "rev-parse", f"{pull['head']['sha']}^").strip() == base
    reply = world.fake.comments_on(number)[-1]
    assert f"measured again at {base[:7]}" in reply and "updated" in reply


def test_rebench_of_a_change_that_no_longer_applies_leaves_it_alone(
    world: World, tmp_path: Path
) -> None:
    number, _ = one_pr(world)
    old = world.fake.pull(number)
    ini = (world.checkout / "config" / "server.ini").read_text()
    base = world.commit_on_main("config/server.ini", ini.replace("threads = 1", "threads = 2"))

    rebench(world, tmp_path, number)

    reply = world.fake.comments_on(number)[-1]
    assert f"this change no longer applies at {base[:7]}" in reply
    assert world.fake.pull(number)["body"] == old["body"]
    assert not world.fake.calls("PATCH", rf".*/pulls/{number}$")


# -- a merge supersedes the open alternatives ---------------------------------------------


def test_a_merge_closes_the_conflicting_pull_request_as_superseded(
    world: World, tmp_path: Path
) -> None:
    first, _ = one_pr(world)
    other = results(world.head(), proposed(BUNDLE, 0.4))
    second = open_by_hand(world, other, other.candidates[0].slug)
    fp = other.candidates[0].fingerprint
    merge(world, first)

    act(world, tmp_path, "pull_request", closed(world, first))

    assert world.fake.pull(second)["state"] == "closed"
    said = world.fake.comments_on(second)[-1]
    assert said.startswith(f"Superseded by #{first}: both change config/server.ini near line")
    assert "not counted as a refusal" in said
    entries = BranchLedger(world.checkout).read()
    assert fold(entries)[fp].outcome == "superseded"
    [entry] = [h for h in history(entries) if h.fingerprint == fp]
    assert not failed(entry) and not barred(entry)
    assert fp not in Deduper.refused((entry,)).seen
    # the next sync does not take mutbot's own closing for a maintainer's no
    act(world, tmp_path / "again", "pull_request", closed(world, second))
    assert fold(BranchLedger(world.checkout).read())[fp].outcome == "superseded"
