"""The fake GitHub speaks GitHub's wire format: checked with plain HTTP, without PyGithub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from testing.fake_github import TOKEN, FakeGitHub, make_remote, push_branch, serve_github

REPO = "octo-org/hello-world"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve_github(REPO) as server:
        yield server


def call(fake: FakeGitHub, method: str, path: str, body: Any = None, **params: Any) -> Any:
    url = f"{fake.url}/repos/{REPO}{path}"
    return requests.request(method, url, json=body, params=params, headers=AUTH, timeout=5)


def test_errors_have_githubs_bodies(fake: FakeGitHub) -> None:
    missing = call(fake, "GET", "/pulls/7")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
    anonymous = requests.get(f"{fake.url}/repos/{REPO}", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Bad credentials"
    other_repo = requests.get(f"{fake.url}/repos/octo-org/other", headers=AUTH, timeout=5)
    assert other_repo.status_code == 404
    assert [r.status for r in fake.requests] == [404, 401, 404]
    assert fake.requests[1].headers.get("authorization") is None


def test_permission_answer_shape(fake: FakeGitHub) -> None:
    fake.add_collaborator("maria", "maintain")
    answer = call(fake, "GET", "/collaborators/maria/permission").json()
    assert (answer["permission"], answer["role_name"]) == ("write", "maintain")
    assert answer["user"]["login"] == "maria"


def test_the_head_filter_needs_the_owner(fake: FakeGitHub) -> None:
    first = fake.add_pull("mutbot/a")
    fake.add_pull("mutbot/b")
    with_owner = call(fake, "GET", "/pulls", head="octo-org:mutbot/a").json()
    assert [p["number"] for p in with_owner] == [first]
    assert len(call(fake, "GET", "/pulls", head="mutbot/a").json()) == 2  # silently ignored
    assert call(fake, "GET", "/pulls", head="someone-else:mutbot/a").json() == []
    listed = with_owner[0]
    assert "merged" not in listed and listed["merged_at"] is None  # as in GitHub's lists
    assert call(fake, "GET", f"/pulls/{first}").json()["merged"] is False


def test_pages_and_link_header(fake: FakeGitHub) -> None:
    for n in range(5):
        fake.add_label(f"l{n}")
    page = call(fake, "GET", "/labels", per_page=2, page=2)
    assert [label["name"] for label in page.json()] == ["l2", "l3"]
    links = requests.utils.parse_header_links(page.headers["link"])
    assert {link["rel"] for link in links} == {"prev", "first", "next", "last"}
    last = next(link["url"] for link in links if link["rel"] == "last")
    assert "page=3" in last and "per_page=2" in last


def test_labels_on_an_issue_are_created_when_unknown(fake: FakeGitHub) -> None:
    number = fake.add_pull("mutbot/a")
    answer = call(fake, "POST", f"/issues/{number}/labels", ["mutbot", "mutbot"])
    assert [label["name"] for label in answer.json()] == ["mutbot"]
    assert fake.labels["mutbot"]["color"] == "ededed"
    issue = call(fake, "GET", f"/issues/{number}").json()
    assert issue["pull_request"]["url"].endswith(f"/pulls/{number}")
    again = call(fake, "POST", "/labels", {"name": "MUTBOT", "color": "ffffff"})
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {"resource": "Label", "code": "already_exists", "field": "name"}
    ]


def test_the_same_reaction_twice_is_one_reaction(fake: FakeGitHub) -> None:
    comment = fake.add_comment(fake.add_issue("x"), "/mutate")
    first = call(fake, "POST", f"/issues/comments/{comment}/reactions", {"content": "eyes"})
    second = call(fake, "POST", f"/issues/comments/{comment}/reactions", {"content": "eyes"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert fake.reactions_on(comment) == ["eyes"]
    counts = call(fake, "GET", f"/issues/comments/{comment}").json()["reactions"]
    assert (counts["eyes"], counts["total_count"]) == (1, 1)


def test_pulls_against_a_real_remote(tmp_path: Path) -> None:
    remote, clone = make_remote(tmp_path)
    with serve_github(REPO, remote=remote) as fake:
        sha = push_branch(clone, "mutbot/a")
        created = call(fake, "POST", "/pulls", {"head": "mutbot/a", "base": "main", "title": "t"})
        assert created.status_code == 201
        assert created.json()["head"]["sha"] == sha
        assert created.json()["head"]["label"] == "octo-org:mutbot/a"
        # a head with nothing its base lacks is refused, like GitHub does
        same = {"head": "main", "base": "mutbot/a", "title": "t"}
        empty = call(fake, "POST", "/pulls", same)
        assert empty.status_code == 422
        assert empty.json()["errors"][0]["message"] == "No commits between mutbot/a and main"
        closed = call(fake, "PATCH", "/pulls/1", {"state": "closed"}).json()
        assert closed["state"] == "closed" and closed["closed_at"] is not None
        fake.merge_pull(1)
        reopen = call(fake, "PATCH", "/pulls/1", {"state": "open"})
        assert reopen.status_code == 422


def test_faults_are_one_shot_and_recorded(fake: FakeGitHub) -> None:
    fake.fail("GET", r"^/repos/[^/]+/[^/]+$", 503)
    assert requests.get(f"{fake.url}/repos/{REPO}", headers=AUTH, timeout=5).status_code == 503
    assert requests.get(f"{fake.url}/repos/{REPO}", headers=AUTH, timeout=5).status_code == 200
    assert fake.pending_faults == 0
    assert [(r.method, r.path, r.status) for r in fake.requests] == [
        ("GET", f"/repos/{REPO}", 503),
        ("GET", f"/repos/{REPO}", 200),
    ]
