"""Pull requests for proposed candidates, against the fake GitHub and a real bare remote."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mutbot.candidates import load_candidates
from mutbot.config import Policy
from mutbot.github.body import read_marker
from mutbot.github.publish import Target, branch_name, publish
from mutbot.github.remote import Remote
from mutbot.ledger.model import Entry
from mutbot.results import RunResult
from testing.defusing import live
from testing.fake_github import Reply
from testing.github_world import World, proposed, publish_now, results
from testing.repos import git

THREADS = "Serve requests from 8 worker threads"
CACHE = "Enable a 1024-entry price cache"


def both(world: World) -> RunResult:
    return results(world.head(), proposed(THREADS, 0.3), proposed(CACHE, 0.5))


def test_opens_one_pr_per_candidate_best_first_with_labels_and_marker(world: World) -> None:
    run = both(world)
    assert [a for _, a, _ in publish_now(world, run)] == ["opened", "opened"]

    threads, cache = (world.fake.pull(n) for n in (1, 2))
    first = next(c for c in run.candidates if c.title == THREADS)
    assert (
        threads["head"]["ref"]
        == branch_name(first)
        == f"mutbot/{first.slug}-{first.fingerprint[:7]}"
    )
    assert threads["title"].startswith("mutbot: ") and THREADS in threads["title"]
    assert {lab["name"] for lab in threads["labels"]} == {"mutbot", "mutbot:incremental"}
    marker = read_marker(threads["body"])
    assert marker is not None and marker["base_commit"] == run.base_commit
    assert cache["base"]["ref"] == "main"
    # the branch holds one commit on top of the measured commit, with the candidate's change
    sha = threads["head"]["sha"]
    assert git(world.remote, "rev-parse", f"{sha}^").strip() == run.base_commit
    assert "threads = 8" in git(world.remote, "show", f"{sha}:config/server.ini")
    assert (
        git(world.remote, "log", "-1", "--format=%ae", sha).strip()
        == "mutbot@users.noreply.github.com"
    )


def test_a_second_run_updates_instead_of_duplicating(world: World) -> None:
    publish_now(world, both(world))
    assert [a for _, a, _ in publish_now(world, both(world))] == ["unchanged", "unchanged"]
    later = both(world).model_copy(update={"run_id": "20240108-000000-beef"})
    again = publish_now(world, later)
    assert [(a, r) for _, a, r in again] == [("updated", "figures updated")] * 2
    assert "20240108-000000-beef" in world.fake.pull(1)["body"]
    assert len(world.fake.calls("POST", r".*/pulls")) == 2  # never a third


def test_a_moved_base_rebases_the_open_pr(world: World) -> None:
    publish_now(world, both(world))
    new_base = world.commit_on_main("NOTES.md", "unrelated\n")
    again = publish_now(world, results(new_base, proposed(THREADS, 0.3)))
    assert again == [(again[0][0], "updated", f"rebased onto {new_base[:7]}, figures updated")]
    head = world.fake.pull(1)["head"]["sha"]
    assert git(world.remote, "rev-parse", f"{head}^").strip() == new_base
    assert read_marker(world.fake.pull(1)["body"])["base_commit"] == new_base  # type: ignore[index]


def test_a_closed_pr_is_never_reopened_and_a_merged_one_is_left_alone(world: World) -> None:
    publish_now(world, both(world))
    world.fake.close_pull(1)
    world.fake.merge_pull(2)
    again = publish_now(world, both(world))
    assert [(a, r) for _, a, r in again] == [
        ("skipped", "#1 was closed without merge: not reopened"),
        ("skipped", "already merged as #2"),
    ]
    assert world.fake.pull(1)["state"] == "closed"
    assert len(world.fake.calls("POST", r".*/pulls")) == 2


def test_the_pr_limit_keeps_the_best(world: World) -> None:
    done = publish_now(world, both(world), max_prs=1)
    assert [(a, r) for _, a, r in done] == [
        ("opened", ""),
        ("skipped", "1 mutbot pull requests are open (max-prs 1)"),
    ]
    assert world.fake.pull(1)["title"].endswith(THREADS)


def test_an_api_outage_loses_nothing_and_leaves_no_half_made_pr(world: World) -> None:
    world.fake.fail("POST", r"/pulls$", 500, times=4)  # the first try and the client's 3 retries
    done = publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    assert world.fake.pending_faults == 0
    assert done[0][1] == "failed"
    assert "500" in done[0][2] and "POST" in done[0][2]
    assert world.branches() == ["main"], "the pushed branch is deleted again"
    assert not world.fake.calls("PATCH", r".*/pulls/.*")
    world.fake.rate_limit("POST", r"/pulls$", retry_after=1)  # then a rate limit, waited out
    assert [a for _, a, _ in publish_now(world, results(world.head(), proposed(THREADS, 0.3)))] == [
        "opened"
    ]


def test_the_reproduce_command_recovers_the_measured_change(world: World, tmp_path: Path) -> None:
    run = results(world.head(), proposed(THREADS, 0.3))
    publish_now(world, run)
    body = world.fake.pull(1)["body"]
    command = next(line for line in body.splitlines() if line.startswith("git fetch origin"))
    fetch_and_diff, measure = command.split(" && mutbot run ")
    assert measure.startswith("--repo . --proposer file:candidate.diff --seed 7 --backend docker")
    clone = tmp_path / "reviewer"
    git(tmp_path, "clone", "--quiet", str(world.remote), str(clone))
    subprocess.run(fetch_and_diff, shell=True, cwd=clone, check=True, capture_output=True)
    [again] = load_candidates(clone / "candidate.diff")
    assert again.fingerprint == run.candidates[0].fingerprint


def test_the_policy_section_governs_which_prs_open(world: World) -> None:
    recorded: list[Entry] = []
    (world.checkout / "CODEOWNERS").write_text("config/ @maintainer\n")
    world.fake.add_collaborator("lead", "admin")

    def publish_with(run: RunResult, now: datetime, **policy: object) -> list[tuple[str, str]]:
        target = Target(
            world.checkout,
            "main",
            3,
            policy=Policy.model_validate(policy),
            codeowners=(world.checkout / "CODEOWNERS").read_text(),
            now=now,
            record=recorded.append,
            recent=tuple(e_at(e) for e in recorded if e.event == "pr-opened"),
        )
        with world.client() as gh:
            done = publish(run, gh, Remote(world.checkout), target, print)
        return [(p.action, p.reason) for p in done]

    night = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert (
        publish_with(both(world), night, quiet_hours="22:00-06:00")
        == [("skipped", "quiet hours (22:00-06:00 UTC): a later run opens it")] * 2
    )
    assert [e.event for e in recorded] == ["policy", "policy"]
    morning = night.replace(hour=9)
    done = publish_with(both(world), morning, max_prs_per_week=1, reviewers=["lead"])
    assert done == [
        ("opened", "review requested from lead, maintainer"),
        ("skipped", "1 pull requests opened in the last 7 days (max_prs_per_week)"),
    ]
    assert {r["login"] for r in world.fake.pull(1)["requested_reviewers"]} == {"lead", "maintainer"}
    assert [e.event for e in recorded][2:] == ["pr-intent", "pr-opened", "policy"]


def e_at(entry: Entry) -> datetime:
    return datetime.fromisoformat(entry.at)


@pytest.mark.parametrize(
    ("reply", "times"),
    [(500, 4), (Reply(422, {"message": "Validation Failed", "errors": []}), 1)],
)
def test_a_label_failure_never_closes_the_pull_request(
    world: World, reply: Reply | int, times: int
) -> None:
    """The pull request exists once POST /pulls answered: a failure to label it must not
    delete its branch (GitHub would close it, and the next run would take that for a
    maintainer's no). The next run adds the labels."""
    world.fake.fail("POST", r"/issues/\d+/labels$", reply, times=times)
    [(_, action, reason)] = publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    assert world.fake.pending_faults == 0
    assert action == "opened"
    assert reason.startswith("labels not added, tried again next run: GitHub API: POST ")
    pull = world.fake.pull(1)
    assert pull["state"] == "open" and pull["labels"] == []
    assert pull["head"]["ref"] in world.branches()

    # the next run: the same pull request, labelled now, and counted against max-prs
    again = publish_now(world, both(world), max_prs=1)
    assert again == [
        (again[0][0], "updated", "figures updated; labels mutbot, mutbot:incremental added"),
        (again[1][0], "skipped", "1 mutbot pull requests are open (max-prs 1)"),
    ]
    assert {lab["name"] for lab in world.fake.pull(1)["labels"]} == {"mutbot", "mutbot:incremental"}
    assert len(world.fake.calls("POST", r".*/pulls")) == 1


def test_an_unlabelled_mutbot_pr_still_counts_against_max_prs(world: World) -> None:
    world.fake.fail("POST", r"/issues/\d+/labels$", 500, times=4)
    publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    world.fake.fail("POST", r"/issues/\d+/labels$", 500, times=4)  # still failing next run
    done = publish_now(world, results(world.head(), proposed(CACHE, 0.5)), max_prs=1)
    assert [(a, r) for _, a, r in done] == [
        ("skipped", "1 mutbot pull requests are open (max-prs 1)")
    ]


def test_a_pr_made_by_a_failed_post_keeps_its_branch(world: World) -> None:
    """GitHub made the pull request but every answer was lost: the branch is not deleted,
    and the next run updates that pull request instead of opening another."""
    world.fake.fail("POST", r"/pulls$", 502, times=4, served=True)
    [(_, action, reason)] = publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    assert (action, "502" in reason) == ("failed", True)
    assert world.fake.pull(1)["state"] == "open"
    [(_, action, _)] = publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    assert action == "updated" and world.fake.pull(1)["state"] == "open"
    assert list(world.fake.issues) == [1]


def test_a_branch_is_kept_when_github_cannot_say_whether_a_pr_uses_it(world: World) -> None:
    world.fake.fail("POST", r"/pulls$", 500, times=4)
    # open_pulls and find_pull answer; the find_pull before deleting the branch does not
    world.fake.fail("GET", r"/pulls$", 500, times=4, skip=2)
    [(_, action, reason)] = publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    assert action == "failed" and "POST" in reason
    assert len(world.branches()) == 2  # the leftover branch: pushed over next run
    assert [a for _, a, _ in publish_now(world, results(world.head(), proposed(THREADS, 0.3)))] == [
        "opened"
    ]


def test_the_branch_commit_closes_no_issue_and_pings_no_one(world: World) -> None:
    """GitHub closes issue 1 when a commit saying "Fixes #1" reaches the default branch."""
    hostile = proposed(THREADS, 0.3).model_copy(
        update={"title": "Fixes #1 for @org/team", "reason": "closes GH-2, see //evil.example"}
    )
    publish_now(world, results(world.head(), hostile))
    message = git(world.remote, "log", "-1", "--format=%B", world.fake.pull(1)["head"]["sha"])
    assert message.startswith("Fixes #\u200b1 for @\u200borg/team\n\ncloses GH\u200b-2, see /")
    assert live(message, markdown=False) == []
