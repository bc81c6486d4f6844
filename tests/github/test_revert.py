"""Revert pull requests (src/mutbot/github/revert.py) against the fake GitHub and a real bare
remote: their commit, title and body carry no live text from the reverted pull request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mutbot.github.remote import Remote
from mutbot.github.revert import open_revert, revert_message
from testing.defusing import live
from testing.github_world import World, github_world
from testing.repos import git

# a merged pull request's title, as a maintainer may have edited it
TITLE = "Fixes #1: threads for @org/team, see [docs](//evil.example) <img src=x>"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path) as w:
        yield w


def merged_pull(world: World, title: str) -> tuple[int, str]:
    branch = "mutbot/threads-abc1234"
    git(world.checkout, "checkout", "--quiet", "-b", branch)
    (world.checkout / "config" / "server.ini").write_text("[server]\nthreads = 8\n")
    git(world.checkout, "commit", "--quiet", "-am", title)
    git(world.checkout, "push", "--quiet", "origin", branch)
    number = world.fake.add_pull(branch, title=title)
    git(world.checkout, "checkout", "--quiet", "main")
    message = f"Merge pull request #{number}: {title}"
    git(world.checkout, "merge", "--quiet", "--no-ff", "-m", message, branch)
    git(world.checkout, "push", "--quiet", "origin", "main")
    world.fake.merge_pull(number, world.head())
    return number, world.head()


def test_a_revert_carries_no_live_text_from_the_reverted_pull(world: World) -> None:
    number, merge = merged_pull(world, TITLE)
    with world.client() as gh:
        done = open_revert(gh, Remote(world.checkout), number, "main", "Asked for by maintainer.")
    assert done.action == "opened"
    revert = world.fake.pull(number + 1)
    sha = revert["head"]["sha"]
    assert git(world.remote, "rev-parse", f"{sha}^").strip() == merge
    assert "threads = 1" in git(world.remote, "show", f"{sha}:config/server.ini")
    message = git(world.remote, "log", "-1", "--format=%B", sha)
    assert message.startswith(f"Revert mutbot pull request {number}\n\nThis reverts commit {merge}")
    assert live(message, markdown=False) == []
    assert revert["title"].startswith(f"Revert #{number}: ")
    assert live(revert["title"].removeprefix(f"Revert #{number}"), markdown=False) == []
    body = revert["body"]
    assert body.startswith(f"Reverts #{number} (")
    assert live(body.removeprefix(f"Reverts #{number}")) == []
    assert [lab["name"] for lab in revert["labels"]] == ["mutbot"]


def test_a_label_failure_leaves_the_revert_open(world: World) -> None:
    number, _ = merged_pull(world, "threads")
    world.fake.fail("POST", r"/issues/\d+/labels$", 500, times=4)
    with world.client() as gh:
        done = open_revert(gh, Remote(world.checkout), number, "main", "why")
    assert done.action == "opened" and done.reason.startswith("label not added: GitHub API")
    assert world.fake.pull(number + 1)["state"] == "open"


def test_the_revert_message() -> None:
    assert revert_message(12, "ab" * 20, "mutbot: Fixes #3 for @org\nhttps://x.y") == (
        "Revert mutbot pull request 12\n\n"
        f"This reverts commit {'ab' * 20}: mutbot: Fixes #\u200b3 for @\u200borg hxxps://x.y\n"
    )
