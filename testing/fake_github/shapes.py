"""GitHub's JSON shapes for the fake's repository, issues, comments and pull requests, and
its paging (`Link` headers)."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlencode

from testing.fake_github.model import REACTIONS, Reply, State, fake_sha, stamp

# the fields of GitHub's answers that the fake never varies
_REPO_URLS = {"pulls": "number", "issues": "number", "labels": "name", "branches": "branch"}
_REPO_STATIC = {"description": None, "fork": False, "archived": False, "disabled": False,
                "permissions": {"admin": False, "maintain": False, "push": True, "triage": True,
                                "pull": True}}  # fmt: skip
_ISSUE_STATIC: dict[str, Any] = {"locked": False, "assignee": None, "assignees": [],
                                 "milestone": None, "author_association": "MEMBER",
                                 "active_lock_reason": None}  # fmt: skip
_PULL_STATIC = {**_ISSUE_STATIC, "author_association": "CONTRIBUTOR", "draft": False,
                "auto_merge": None}  # fmt: skip
_PULL_COUNTS = {"comments": 0, "review_comments": 0, "maintainer_can_modify": False,
                "commits": 1, "additions": 1, "deletions": 1, "changed_files": 1}  # fmt: skip


class Shapes(State):
    """What the REST answers hold, built from the state at the time of asking."""

    def _user(self, login: str) -> dict[str, Any]:
        number = int(hashlib.sha1(login.encode()).hexdigest()[:7], 16)
        urls = {"url": f"{self.url}/users/{login}", "html_url": f"{self.host}/{login}"}
        kind = "Bot" if login.endswith("[bot]") else "User"
        return {"login": login, "id": number, "node_id": f"U_{number}", **urls, "type": kind,
                "avatar_url": f"{self.host}/avatars/{login}", "gravatar_id": "",
                "site_admin": False}  # fmt: skip

    def _team(self, slug: str) -> dict[str, Any]:
        number = int(hashlib.sha1(f"team {slug}".encode()).hexdigest()[:7], 16)
        url = f"{self.url}/orgs/{self.owner}/teams/{slug}"
        return {"id": number, "node_id": f"T_{number}", "url": url,
                "html_url": f"{self.host}/orgs/{self.owner}/teams/{slug}", "name": slug,
                "slug": slug, "description": None, "privacy": "closed",
                "notification_setting": "notifications_enabled", "permission": "pull",
                "members_url": f"{url}/members{{/member}}",
                "repositories_url": f"{url}/repos", "parent": None}  # fmt: skip

    def _repo_json(self) -> dict[str, Any]:
        urls = {name: self._api(f"/{name}{{/{arg}}}") for name, arg in _REPO_URLS.items()}
        return {
            "id": 186853002, "node_id": "R_fake", "name": self.name,
            "full_name": self.repository, "private": self.private,
            "visibility": "private" if self.private else "public",
            "owner": {**self._user(self.owner), "type": "Organization"},
            "html_url": self._html(""), "url": self._api(""), "clone_url": self._html(".git"),
            **{f"{name}_url": url for name, url in urls.items()},
            "default_branch": self.default_branch, "created_at": stamp(0), **_REPO_STATIC,
        }  # fmt: skip

    def _issue_json(self, issue: dict[str, Any]) -> dict[str, Any]:
        n = issue["number"]
        data = {
            "url": self._api(f"/issues/{n}"), "repository_url": self._api(""),
            "labels_url": self._api(f"/issues/{n}/labels{{/name}}"),
            "comments_url": self._api(f"/issues/{n}/comments"),
            "html_url": self._html(f"/{'pull' if 'pull' in issue else 'issues'}/{n}"),
            "id": issue["id"], "node_id": f"I_{issue['id']}", "number": n,
            "title": issue["title"], "body": issue["body"] or None,
            "user": self._user(issue["author"]), "state": issue["state"],
            "labels": [self.labels[name.lower()] for name in issue["labels"]],
            "comments": sum(c["issue"] == n for c in self.comments.values()),
            **{k: issue[k] for k in ("created_at", "updated_at", "closed_at")},
            "state_reason": "completed" if issue["state"] == "closed" else None, **_ISSUE_STATIC,
        }  # fmt: skip
        if "pull" in issue:
            data["pull_request"] = {"url": self._api(f"/pulls/{n}"), "html_url": data["html_url"],
                                    "merged_at": issue["pull"]["merged_at"]}  # fmt: skip
        return data

    def _comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        n, cid = comment["issue"], comment["id"]
        kind = "pull" if "pull" in self.issues[n] else "issues"
        counts = dict.fromkeys(REACTIONS, 0)
        for reaction in self.reactions.get(cid, []):
            counts[reaction["content"]] += 1
        return {
            "url": self._api(f"/issues/comments/{cid}"), "id": cid, "node_id": f"IC_{cid}",
            "html_url": self._html(f"/{kind}/{n}#issuecomment-{cid}"),
            "issue_url": self._api(f"/issues/{n}"), "user": self._user(comment["author"]),
            "created_at": comment["created_at"], "updated_at": comment["updated_at"],
            "author_association": "MEMBER", "body": comment["body"],
            "performed_via_github_app": None,
            "reactions": {"url": self._api(f"/issues/comments/{cid}/reactions"),
                          "total_count": sum(counts.values()), **counts},
        }  # fmt: skip

    def _pull_json(self, issue: dict[str, Any], *, full: bool) -> dict[str, Any]:
        """`full`: the single-pull shape; lists leave out merged, mergeable and the counts."""
        n, pull = issue["number"], issue["pull"]
        head_sha = self._head_sha(issue)
        repo = self._repo_json()

        def part(branch: str, sha: str, fork: str = "") -> dict[str, Any]:
            """`fork`: the `owner/name` of the fork holding the branch ("": this repository)."""
            where = repo
            if fork:
                owner, _, name = fork.partition("/")
                where = {**repo, "full_name": fork, "name": name, "fork": True}
                where["owner"] = self._user(owner)
            user = where["owner"]
            return {"label": f"{user['login']}:{branch}", "ref": branch, "sha": sha,
                    "user": user, "repo": where}  # fmt: skip

        base_sha = self._branch_sha(pull["base"]) or fake_sha(pull["base"])
        data = {
            "url": self._api(f"/pulls/{n}"), "id": issue["id"], "node_id": f"PR_{issue['id']}",
            "html_url": self._html(f"/pull/{n}"), "diff_url": self._html(f"/pull/{n}.diff"),
            "patch_url": self._html(f"/pull/{n}.patch"), "issue_url": self._api(f"/issues/{n}"),
            "commits_url": self._api(f"/pulls/{n}/commits"),
            "comments_url": self._api(f"/issues/{n}/comments"),
            "statuses_url": self._api(f"/statuses/{head_sha}"),
            "number": n, "state": issue["state"], "title": issue["title"],
            "user": self._user(issue["author"]), "body": issue["body"] or None,
            "labels": [self.labels[name.lower()] for name in issue["labels"]],
            **{k: issue[k] for k in ("created_at", "updated_at", "closed_at")},
            "merged_at": pull["merged_at"], "merge_commit_sha": pull["merge_commit_sha"],
            "head": part(pull["head"], head_sha, pull.get("fork", "")),
            "base": part(pull["base"], base_sha),
            **_PULL_STATIC,
            "requested_reviewers": [self._user(login) for login in pull.get("reviewers", [])],
            "requested_teams": [self._team(slug) for slug in pull.get("teams", [])],
        }  # fmt: skip
        if full:
            merged = pull["merged_at"] is not None
            data.update(
                merged=merged, mergeable=None if merged else True, rebaseable=not merged,
                mergeable_state="unknown" if merged else "clean",
                merged_by=self._user(self.owner) if merged else None, **_PULL_COUNTS,
            )  # fmt: skip
        return data

    def _paged(self, items: list[Any], query: dict[str, list[str]], suffix: str) -> Reply:
        per_page = min(int(one(query, "per_page", "30")), 100)
        page = max(int(one(query, "page", "1")), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(to: int, rel: str) -> str:
            params = {k: v[0] for k, v in query.items()} | {"per_page": per_page, "page": to}
            return f'<{self._api(suffix)}?{urlencode(params)}>; rel="{rel}"'

        rels = []
        if page > 1:
            rels += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            rels += [link(page + 1, "next"), link(last, "last")]
        return Reply(200, chunk, {"link": ", ".join(rels)} if rels else {})


def one(query: dict[str, list[str]], name: str, default: str) -> str:
    return query.get(name, [default])[0]


def rate_limit_json() -> dict[str, Any]:
    core = {"limit": 5000, "used": 1, "remaining": 4999, "reset": int(time.time()) + 3600}
    return {"resources": {"core": core}, "rate": core}
