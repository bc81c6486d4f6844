"""The GitHub edge for the dashboard and for closing pull requests: the real PyGithub through
`GitHub`, against the fake REST server."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.errors import GitHubError
from mutbot.github.client import GitHub
from testing.fake_github import FakeGitHub, push_branch

REPO = "octo-org/hello-world"


def test_create_list_by_label_and_edit_an_issue(client: GitHub, fake: FakeGitHub) -> None:
    fake.add_issue("someone else's", body="hello")
    created = client.create_issue("mutbot dashboard", "first", ["mutbot:dashboard"])
    assert (created.title, created.body, created.state) == ("mutbot dashboard", "first", "open")
    assert created.labels == ("mutbot:dashboard",)
    assert created.url == f"{fake.host}/{REPO}/issues/{created.number}"
    [found] = client.issues_labelled("mutbot:dashboard")
    assert found == created
    [listed] = fake.calls("GET", f"/repos/{REPO}/issues")
    assert listed.query["labels"] == ["mutbot:dashboard"] and listed.query["state"] == ["all"]

    edited = client.edit_issue(created.number, body="second")
    assert edited.body == "second" and fake.issue(created.number)["body"] == "second"
    assert edited.labels == created.labels, "editing the body keeps the labels"


def test_pull_requests_are_not_listed_as_issues(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    push_branch(remote[1], "mutbot/a")
    fake.add_pull("mutbot/a", labels=("mutbot:dashboard",))
    fake.add_issue("no label")
    assert client.issues_labelled("mutbot:dashboard") == []
    [listed] = fake.calls("GET", f"/repos/{REPO}/issues")
    assert listed.query["labels"] == ["mutbot:dashboard"]


def test_close_a_pull_request(client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]) -> None:
    push_branch(remote[1], "mutbot/a")
    number = fake.add_pull("mutbot/a")
    done = client.close_pull(number)
    assert (done.state, done.merged) == ("closed", False)
    assert fake.pull(number)["state"] == "closed"
    assert "mutbot/a" in fake.pull(number)["head"]["ref"], "the branch stays"


def test_a_failed_issue_write_is_one_clean_line(client: GitHub, fake: FakeGitHub) -> None:
    fake.fail("POST", r"/issues$", 422, times=1)
    with pytest.raises(GitHubError, match=rf"^GitHub API: POST /repos/{REPO}/issues: 422"):
        client.create_issue("t", "b", [])
