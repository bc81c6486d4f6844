"""The GitHub edge: the real PyGithub through `GitHub`, against the fake REST server and a real
bare repository standing for the remote."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from mutbot.errors import GitHubError
from mutbot.github.client import GitHub
from testing.fake_github import (
    TOKEN,
    FakeGitHub,
    Reply,
    push_branch,
    rate_limited,
    serve_github,
)

REPO = "octo-org/hello-world"


def connect(fake: FakeGitHub, token: str = TOKEN, retries: int = 3) -> GitHub:
    return GitHub(token, REPO, fake.url, retries=retries, timeout=5, backoff=0, write_interval=0)


# -- repository and people ---------------------------------------------------------------


def test_default_branch(client: GitHub, fake: FakeGitHub) -> None:
    assert client.default_branch() == "main"
    assert [r.path for r in fake.requests] == [f"/repos/{REPO}"]
    assert fake.requests[0].headers["authorization"] == f"token {TOKEN}"


@pytest.mark.parametrize(
    ("role", "expected", "writes"),
    [
        ("admin", "admin", True),
        ("maintain", "maintain", True),  # GitHub's legacy field says "write"
        ("write", "write", True),
        ("triage", "triage", False),  # ... and "read" here
        ("read", "read", False),
    ],
)
def test_permission_of_each_role(
    client: GitHub, fake: FakeGitHub, role: str, expected: str, writes: bool
) -> None:
    fake.add_collaborator("someone", role)
    assert client.permission("someone") == expected
    assert client.can_write("someone") is writes


def test_no_access_on_a_private_repository_and_read_on_a_public_one() -> None:
    with serve_github(REPO, private=True) as private, connect(private) as gh:
        private.add_collaborator("outsider", "none")
        assert gh.permission("outsider") == "none"
        assert not gh.can_write("outsider")
    with serve_github(REPO) as public, connect(public) as gh:
        public.add_collaborator("outsider", "none")
        assert gh.permission("outsider") == "read"


def test_a_user_github_does_not_know_has_no_permission(client: GitHub) -> None:
    assert client.permission("ghost") == "none"
    assert not client.can_write("ghost")


# -- conversation ------------------------------------------------------------------------


def test_reactions_and_a_reply(client: GitHub, fake: FakeGitHub) -> None:
    issue = fake.add_issue("Faster please")
    comment = fake.add_comment(issue, "/mutate n=2", author="maintainer")
    client.react(comment, "eyes")
    client.react(comment, "rocket")
    url = client.comment(issue, "Done: 2 candidates measured.")
    assert fake.reactions_on(comment) == ["eyes", "rocket"]
    assert fake.comments_on(issue) == ["/mutate n=2", "Done: 2 candidates measured."]
    assert url.startswith(f"{fake.host}/{REPO}/issues/{issue}#issuecomment-")


def test_an_unknown_reaction_is_refused(client: GitHub, fake: FakeGitHub) -> None:
    comment = fake.add_comment(fake.add_issue("x"), "/mutate")
    with pytest.raises(GitHubError) as raised:
        client.react(comment, "party")
    assert str(raised.value) == (
        f"GitHub API: POST /repos/{REPO}/issues/comments/{comment}/reactions: "
        "422 Validation Failed: Reaction content invalid"
    )


def test_labels_are_created_only_when_missing(client: GitHub, fake: FakeGitHub) -> None:
    fake.add_label("MutBot", "000000", "made by a person")
    for n in range(40):  # more than one page: the Link header must be followed
        fake.add_label(f"area-{n}")
    wanted = {
        "mutbot": ("0e8a16", "Opened by mutbot"),
        "mutbot:radical": ("#d93f0b", "A radical candidate"),
        "area-39": ("ffffff", "exists on page 2"),
    }
    client.ensure_labels(wanted)
    created = fake.calls("POST", f"/repos/{REPO}/labels")
    assert [r.body for r in created] == [
        {"name": "mutbot:radical", "color": "d93f0b", "description": "A radical candidate"}
    ]
    assert any(r.query.get("page") == ["2"] for r in fake.calls("GET", f"/repos/{REPO}/labels"))
    assert fake.labels["mutbot"]["description"] == "made by a person"


def test_a_label_created_meanwhile_is_fine(client: GitHub, fake: FakeGitHub) -> None:
    race = {
        "message": "Validation Failed",
        "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}],
        "documentation_url": "https://docs.github.com/rest",
    }
    fake.fail("POST", r"/labels$", Reply(422, race))
    client.ensure_labels({"mutbot": ("0e8a16", "Opened by mutbot")})
    assert fake.pending_faults == 0


# -- pull requests -----------------------------------------------------------------------


def test_create_find_and_update_a_pull(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    sha = push_branch(remote[1], "mutbot/threads-1a2b3c")
    assert client.find_pull("mutbot/threads-1a2b3c") is None
    created = client.create_pull("mutbot/threads-1a2b3c", "main", "Use 4 threads", "body")
    assert created.labels == () and not fake.calls("POST", r".*/labels")
    created = client.add_labels(created, ["mutbot", "mutbot:incremental"])
    assert (created.state, created.merged, created.head, created.base) == (
        "open",
        False,
        "mutbot/threads-1a2b3c",
        "main",
    )
    assert created.head_sha == sha
    assert created.labels == ("mutbot", "mutbot:incremental")
    assert created.url == f"{fake.host}/{REPO}/pull/{created.number}"
    assert client.find_pull("mutbot/threads-1a2b3c") == created
    [listed] = fake.calls("GET", f"/repos/{REPO}/pulls")[-1:]
    assert listed.query["head"] == ["octo-org:mutbot/threads-1a2b3c"]
    assert listed.query["state"] == ["all"]

    updated = client.update_pull(created.number, title="Use 8 threads", body="new body")
    assert (updated.title, updated.body, updated.labels) == (
        "Use 8 threads",
        "new body",
        created.labels,
    )
    assert client.pull(created.number) == updated


def test_find_pull_finds_closed_ones_newest_first(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    push_branch(remote[1], "mutbot/a")
    push_branch(remote[1], "mutbot/b")
    older = fake.add_pull("mutbot/a", title="first try")
    fake.close_pull(older)
    newer = fake.add_pull("mutbot/a", title="second try")
    fake.add_pull("mutbot/b")
    found = client.find_pull("mutbot/a")
    assert found is not None and found.number == newer
    fake.merge_pull(newer, "c0ffee" * 6 + "c0ff")
    merged = client.find_pull("mutbot/a")
    assert merged is not None
    assert (merged.number, merged.state, merged.merged) == (newer, "closed", True)
    assert merged.merge_commit_sha == "c0ffee" * 6 + "c0ff"
    closed = client.pull(older)
    assert (closed.state, closed.merged, closed.merge_commit_sha) == ("closed", False, None)


def test_open_pulls_with_a_label_or_from_a_branch_prefix(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    for branch in (
        "mutbot/a",
        "mutbot/b",
        "mutbot/c",
        "person/d",
        "mutbot/e",
        "person/f",
        "mutbot/g",
    ):
        push_branch(remote[1], branch)
    a = fake.add_pull("mutbot/a", labels=("mutbot",))
    closed = fake.add_pull("mutbot/b", labels=("mutbot",))
    fake.close_pull(closed)
    c = fake.add_pull("mutbot/c", labels=("mutbot", "mutbot:radical"))
    fake.add_pull("person/d", labels=("bug",))
    unlabelled = fake.add_pull("mutbot/e")  # its labels could not be added
    labelled_by_hand = fake.add_pull("person/f", labels=("mutbot",))
    fake.add_pull("mutbot/g", fork="someone/hello-world")  # a fork's branch is not mutbot's
    assert [p.number for p in client.open_pulls("mutbot")] == [labelled_by_hand, c, a]
    both = client.open_pulls("mutbot", branch_prefix="mutbot/")
    assert [p.number for p in both] == [labelled_by_hand, unlabelled, c, a]


def test_a_second_pull_for_the_same_branch_updates_the_first(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    push_branch(remote[1], "mutbot/x")
    first = client.create_pull("mutbot/x", "main", "t", "b")
    second = client.create_pull("mutbot/x", "main", "t2", "b2")
    assert (second.number, second.title, second.body) == (first.number, "t2", "b2")
    assert [r.status for r in fake.calls("POST", ".*/pulls")] == [201, 422]
    assert list(fake.issues) == [first.number]


def test_a_closed_pull_is_not_taken_for_the_new_one(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    push_branch(remote[1], "mutbot/x")
    fake.close_pull(fake.add_pull("mutbot/x"))
    fake.fail("POST", r"/pulls$", _duplicate("mutbot/x"))  # as if a concurrent run made one
    with pytest.raises(GitHubError) as raised:
        client.create_pull("mutbot/x", "main", "t", "b")
    assert str(raised.value) == (
        f"GitHub API: POST /repos/{REPO}/pulls: 422 Validation Failed: "
        "A pull request already exists for octo-org:mutbot/x."
    )


def _duplicate(branch: str) -> Reply:
    message = f"A pull request already exists for octo-org:{branch}."
    error = {"resource": "PullRequest", "code": "custom", "message": message}
    body = {"message": "Validation Failed", "errors": [error], "documentation_url": "x"}
    return Reply(422, body)


def test_a_branch_missing_from_the_remote_is_refused(client: GitHub, fake: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match=r"422 Validation Failed: PullRequest head invalid$"):
        client.create_pull("mutbot/never-pushed", "main", "t", "b")
    assert fake.issues == {}


def test_a_pull_follows_its_branch_and_can_move_base(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    push_branch(remote[1], "release")
    push_branch(remote[1], "mutbot/x")
    pull = client.create_pull("mutbot/x", "main", "t", "b")
    rebased = push_branch(remote[1], "mutbot/x", base="release")
    moved = client.update_pull(pull.number, base="release")
    assert (moved.base, moved.head_sha) == ("release", rebased)
    with pytest.raises(GitHubError, match="PullRequest base invalid"):
        client.update_pull(pull.number, base="no-such-branch")


# -- failures ----------------------------------------------------------------------------


def test_a_server_error_is_retried(client: GitHub, fake: FakeGitHub) -> None:
    fake.fail("GET", rf"^/repos/{REPO}$", 502)
    assert client.default_branch() == "main"
    assert [r.status for r in fake.requests] == [502, 200]


def test_a_failed_write_is_retried(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    push_branch(remote[1], "mutbot/x")
    fake.fail("POST", r"/pulls$", 500)
    fake.fail("PATCH", r"/pulls/\d+$", 500)
    pull = client.create_pull("mutbot/x", "main", "t", "b")
    client.update_pull(pull.number, body="again")
    assert [r.status for r in fake.requests if r.method != "GET"] == [500, 201, 500, 200]
    assert len(fake.issues) == 1


def test_a_pull_made_by_a_post_whose_answer_was_lost_is_not_made_twice(
    client: GitHub, fake: FakeGitHub, remote: tuple[Path, Path]
) -> None:
    push_branch(remote[1], "mutbot/x")
    fake.fail("POST", r"/pulls$", 502, served=True)
    pull = client.add_labels(
        client.create_pull("mutbot/x", "main", "Use 4 threads", "body"), ["mutbot"]
    )
    assert [r.status for r in fake.calls("POST", ".*/pulls")] == [502, 422]
    assert list(fake.issues) == [pull.number]
    assert (pull.title, pull.labels) == ("Use 4 threads", ("mutbot",))


def test_a_rate_limit_is_waited_out(client: GitHub, fake: FakeGitHub) -> None:
    comment = fake.add_comment(fake.add_issue("x"), "/mutate")
    fake.rate_limit("POST", r"/reactions$", retry_after=1)
    start = time.monotonic()
    client.react(comment, "eyes")
    waited = time.monotonic() - start
    assert 0.9 <= waited < 3
    assert [r.status for r in fake.requests] == [403, 201]
    assert fake.reactions_on(comment) == ["eyes"]


def test_a_lasting_outage_is_one_clean_line(fake: FakeGitHub) -> None:
    fake.fail("GET", "", 500, times=10)
    with connect(fake, retries=2) as gh, pytest.raises(GitHubError) as raised:
        gh.default_branch()
    assert str(raised.value) == f"GitHub API: GET /repos/{REPO}: 500 Server Error"
    assert raised.value.exit_code == 9
    assert len(fake.requests) == 3


def test_a_rate_limit_that_lasts_is_reported(fake: FakeGitHub) -> None:
    fake.fail("GET", "", rate_limited(retry_after=0), times=5)
    with connect(fake, retries=1) as gh, pytest.raises(GitHubError) as raised:
        gh.default_branch()
    assert "403 API rate limit exceeded for installation ID 4242." in str(raised.value)


def test_a_rate_limit_reset_far_away_is_not_waited_for(fake: FakeGitHub) -> None:
    fake.fail("GET", "", rate_limited(None, reset_in=3600))
    start = time.monotonic()
    with connect(fake) as gh, pytest.raises(GitHubError) as raised:
        gh.default_branch()
    assert time.monotonic() - start < 2
    assert re.search(
        r": 403 API rate limit exceeded for installation ID 4242\. "
        r"\(resets in 36\d\d s, longer than mutbot waits\)$",
        str(raised.value),
    )


def test_a_secondary_rate_limit_is_waited_out(fake: FakeGitHub) -> None:
    fake.fail("GET", "", rate_limited(1, primary=False))
    start = time.monotonic()
    with connect(fake) as gh:
        assert gh.default_branch() == "main"
    assert time.monotonic() - start >= 0.9


def test_a_wrong_token_is_named_and_never_shown(fake: FakeGitHub) -> None:
    secret = "ghp_wrongTokenThatMustNotLeak"
    with connect(fake, token=secret) as gh, pytest.raises(GitHubError) as raised:
        gh.permission("someone")
    message = str(raised.value)
    assert message == (
        f"GitHub API: GET /repos/{REPO}/collaborators/someone/permission: 401 Bad credentials"
    )
    assert secret not in message
    assert len(fake.requests) == 1  # a 401 is not retried


def test_an_unreachable_server_is_one_clean_line(fake: FakeGitHub) -> None:
    url = fake.url
    fake.stop()
    gh = GitHub(TOKEN, REPO, url, retries=1, timeout=2, backoff=0)
    with gh, pytest.raises(GitHubError) as raised:
        gh.default_branch()
    message = str(raised.value)
    assert message.startswith(f"GitHub API: GET /repos/{REPO}: ConnectionError")
    assert "\n" not in message and TOKEN not in message


def test_github_enterprise_api_prefix() -> None:
    with serve_github(REPO, prefix="/api/v3", default_branch="trunk") as ghe, connect(ghe) as gh:
        assert ghe.url.endswith("/api/v3")
        assert gh.default_branch() == "trunk"
        assert gh.find_pull("mutbot/x") is None
    assert [r.status for r in ghe.requests] == [200, 200]
