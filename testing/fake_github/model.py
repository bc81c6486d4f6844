"""The fake's repository: its state, the rules GitHub applies when it changes (pull requests
need real branches, one open pull per head and base, labels made on the fly) and GitHub's
error bodies. Callers hold `_lock`; only `FakeGitHub` (server.py) takes it."""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from testing.fake_github.remote import branch_sha, is_ancestor

DOCS = "https://docs.github.com/rest"
TOKEN = "ghs_fakeInstallationToken0123456789"
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
# role → (legacy permission, role_name), as GitHub answers them
ROLES = {
    "admin": ("admin", "admin"),
    "maintain": ("write", "maintain"),
    "write": ("write", "write"),
    "triage": ("read", "triage"),
    "read": ("read", "read"),
    "none": ("none", "none"),
}
_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
        if errors is not None:
            body["errors"] = errors
        body["status"] = str(status)
        self.reply = Reply(status, body)


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def invalid(resource: str, code: str, **extra: str) -> ApiError:
    return ApiError(422, "Validation Failed", [{"resource": resource, "code": code, **extra}])


def server_error(status: int = 500) -> Reply:
    return Reply(status, {"message": "Server Error", "documentation_url": DOCS})


def rate_limited(retry_after: int | None = 1, *, reset_in: int = 60, primary: bool = True) -> Reply:
    """GitHub's 403 for an exhausted primary or a secondary rate limit; `retry_after` None
    leaves the header out, so only `x-ratelimit-reset` (in `reset_in` seconds) says when."""
    message = (
        "API rate limit exceeded for installation ID 4242."
        if primary
        else "You have exceeded a secondary rate limit. Please wait a few minutes before you "
        "try again."
    )
    reset = int(time.time()) + (reset_in if retry_after is None else retry_after)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    doc = f"{DOCS}/overview/rate-limits-for-the-rest-api"
    return Reply(403, {"message": message, "documentation_url": doc, "status": "403"}, headers)


def stamp(seconds: int) -> str:
    """A deterministic clock: one tick per event, so creation order is total."""
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def fake_sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


class State:
    """One repository's collaborators, labels, issues and pull requests (one number
    sequence), comments and reactions; `remote`: a bare repository holding its branches."""

    def __init__(
        self,
        repository: str,
        *,
        token: str,
        default_branch: str,
        remote: Path | None,
        private: bool,
        bot: str,
        prefix: str,
    ) -> None:
        self.owner, self.name = repository.split("/")
        self.token = token
        self.default_branch = default_branch
        self.remote = remote
        self.private = private
        self.bot = bot
        self.prefix = prefix.rstrip("/")
        self.collaborators: dict[str, str] = {}  # login → role
        self.labels: dict[str, dict[str, Any]] = {}  # lower-case name → label
        self.issues: dict[int, dict[str, Any]] = {}  # issues and pulls; see _issue_json
        self.comments: dict[int, dict[str, Any]] = {}
        self.reactions: dict[int, list[dict[str, Any]]] = {}  # comment id → reactions
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1001)
        self._clock = itertools.count(1)
        self._lock = threading.RLock()

    @property
    def host(self) -> str:
        raise NotImplementedError  # the server's address: known once it listens

    @property
    def url(self) -> str:
        return self.host + self.prefix

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.name}"

    def _api(self, suffix: str) -> str:
        return f"{self.url}/repos/{self.owner}/{self.name}{suffix}"

    def _html(self, suffix: str) -> str:
        return f"{self.host}/{self.owner}/{self.name}{suffix}"

    def _issue(self, number: int) -> dict[str, Any]:
        if number not in self.issues:
            raise not_found()
        return self.issues[number]

    def _pull(self, number: int) -> dict[str, Any]:
        issue = self._issue(number)
        if "pull" not in issue:
            raise not_found()
        return issue

    def _new_issue(self, title: str, body: str, author: str) -> dict[str, Any]:
        now = self._now()
        issue: dict[str, Any] = {
            "number": next(self._numbers),
            "id": next(self._ids),
            "title": title,
            "body": body,
            "author": author,
            "state": "open",
            "labels": [],
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
        }
        self.issues[issue["number"]] = issue
        return issue

    def _new_pull(
        self, branch: str, base: str, title: str, body: str, author: str | None
    ) -> dict[str, Any]:
        if not self._branch_exists(branch):
            raise invalid("PullRequest", "invalid", field="head")
        if not self._branch_exists(base):
            raise invalid("PullRequest", "invalid", field="base")
        self._check_no_open_pull(branch, base)
        head_sha = self._branch_sha(branch)
        if self.remote and is_ancestor(self.remote, head_sha, self._branch_sha(base)):
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"No commits between {base} and {branch}",
                    }
                ],
            )
        issue = self._new_issue(title, body, author or self.bot)
        issue["pull"] = {
            "head": branch,
            "base": base,
            "head_sha": head_sha,
            "merged_at": None,
            "merge_commit_sha": fake_sha(f"test {branch}"),
        }
        return issue

    def _check_no_open_pull(self, branch: str, base: str) -> None:
        for other in self.issues.values():
            pull = other.get("pull")
            if pull and other["state"] == "open" and (pull["head"], pull["base"]) == (branch, base):
                message = f"A pull request already exists for {self.owner}:{branch}."
                raise ApiError(
                    422,
                    "Validation Failed",
                    [{"resource": "PullRequest", "code": "custom", "message": message}],
                )

    def _new_comment(self, issue: dict[str, Any], body: str, author: str) -> dict[str, Any]:
        now = self._now()
        comment: dict[str, Any] = {
            "id": next(self._ids),
            "issue": issue["number"],
            "body": body,
            "author": author,
            "created_at": now,
            "updated_at": now,
        }
        self.comments[comment["id"]] = comment
        issue["updated_at"] = now
        return comment

    def _label_issue(self, issue: dict[str, Any], name: str) -> None:
        if name.lower() not in self.labels:  # GitHub creates unknown labels on the fly
            self._create_label(name, "ededed")
        canonical = self.labels[name.lower()]["name"]
        if canonical not in issue["labels"]:
            issue["labels"].append(canonical)

    def _create_label(self, name: Any, color: Any, description: Any = "") -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise invalid("Label", "missing_field", field="name")
        if not isinstance(color, str) or not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise invalid("Label", "invalid", field="color")
        if name.lower() in self.labels:
            raise invalid("Label", "already_exists", field="name")
        label = {
            "id": next(self._ids),
            "node_id": "LA_fake",
            "url": self._api(f"/labels/{name}"),
            "name": name,
            "color": color.lower(),
            "default": False,
            "description": description or None,
        }
        self.labels[name.lower()] = label
        return label

    def _close(self, issue: dict[str, Any]) -> None:
        issue["pull"]["head_sha"] = self._head_sha(issue)
        issue.update(state="closed", closed_at=self._now())

    def _close_orphans(self) -> None:
        """GitHub closes an open pull request whose head branch was deleted."""
        if self.remote is None:
            return
        for issue in self.issues.values():
            pull = issue.get("pull")
            if pull and issue["state"] == "open" and not self._branch_exists(pull["head"]):
                self._close(issue)

    def _branch_sha(self, branch: str) -> str:
        if self.remote is None:
            return fake_sha(f"branch {branch}")
        return branch_sha(self.remote, branch)

    def _branch_exists(self, branch: str) -> bool:
        return bool(branch) and bool(self._branch_sha(branch))

    def _head_sha(self, issue: dict[str, Any]) -> str:
        """An open pull request follows its branch, as on GitHub; a closed one keeps its sha."""
        pull = issue["pull"]
        if issue["state"] == "open" and self.remote is not None:
            return self._branch_sha(pull["head"]) or str(pull["head_sha"])
        return str(pull["head_sha"])

    def _now(self) -> str:
        return stamp(next(self._clock))
