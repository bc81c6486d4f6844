"""Review requests: the real PyGithub through `GitHub.request_reviewers`, against the fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mutbot.errors import GitHubError
from mutbot.github.client import GitHub
from testing.fake_github import TOKEN, FakeGitHub, serve_github

REPO = "octo-org/hello-world"
ASK = r"/repos/octo-org/hello-world/pulls/\d+/requested_reviewers"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve_github(REPO) as server:
        for login, role in (("alice", "write"), ("bob", "read"), ("eve", "none")):
            server.add_collaborator(login, role)
        yield server


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHub]:
    with GitHub(TOKEN, REPO, fake.url, timeout=5, backoff=0, write_interval=0) as gh:
        yield gh


def requested(fake: FakeGitHub, number: int) -> tuple[list[str], list[str]]:
    pull = fake.pull(number)
    users = [u["login"] for u in pull["requested_reviewers"]]
    return users, [t["slug"] for t in pull["requested_teams"]]


def test_users_and_teams_are_requested(client: GitHub, fake: FakeGitHub) -> None:
    number = fake.add_pull("mutbot/threads")
    assert requested(fake, number) == ([], [])
    client.request_reviewers(number, ["alice", "bob"], ["sre"])
    assert requested(fake, number) == (["alice", "bob"], ["sre"])
    (call,) = fake.calls("POST", ASK)
    assert call.body == {"reviewers": ["alice", "bob"], "team_reviewers": ["sre"]}
    assert call.status == 201
    client.request_reviewers(number, ["alice"], [])  # asking again adds nobody twice
    assert requested(fake, number) == (["alice", "bob"], ["sre"])
    assert fake.calls("POST", ASK)[-1].body == {"reviewers": ["alice"]}
    assert [r.method for r in fake.requests] == ["POST", "POST"]  # no GET of the pull first


def test_nobody_to_ask_sends_nothing(client: GitHub, fake: FakeGitHub) -> None:
    number = fake.add_pull("mutbot/threads")
    client.request_reviewers(number, [], [])
    assert fake.requests == []


def test_a_stranger_is_named_and_the_others_are_still_asked(
    client: GitHub, fake: FakeGitHub
) -> None:
    number = fake.add_pull("mutbot/threads")
    with pytest.raises(GitHubError) as caught:
        client.request_reviewers(number, ["alice", "mallory", "eve"], ["sre"])
    message = str(caught.value)
    assert message.startswith(
        f"GitHub API: POST /repos/{REPO}/pulls/{number}/requested_reviewers: 422 Reviews may "
        "only be requested from collaborators."
    )
    assert message.endswith("; not requested: mallory, eve")
    assert "\n" not in message and TOKEN not in message
    assert requested(fake, number) == (["alice"], ["sre"])
    # the whole request, then each one alone
    assert [c.status for c in fake.calls("POST", ASK)] == [422, 201, 422, 422, 201]


def test_one_stranger_alone(client: GitHub, fake: FakeGitHub) -> None:
    number = fake.add_pull("mutbot/threads")
    with pytest.raises(GitHubError, match=r"422 .*collaborators.*; not requested: mallory$"):
        client.request_reviewers(number, ["mallory"], [])
    assert requested(fake, number) == ([], [])


def test_other_errors_are_not_retried(client: GitHub, fake: FakeGitHub) -> None:
    number = fake.add_pull("mutbot/threads", author="alice")
    with pytest.raises(
        GitHubError, match="422 Review cannot be requested from pull request author"
    ):
        client.request_reviewers(number, ["alice", "bob"], [])
    with pytest.raises(GitHubError, match=r"pulls/999/requested_reviewers: 404 Not Found"):
        client.request_reviewers(999, ["bob"], [])
    assert [c.status for c in fake.calls("POST", ASK)] == [422, 404]  # once each
    assert requested(fake, number) == ([], [])
