"""The edge over the GitHub REST API: the only module that imports PyGithub.

Rate limits and server errors are retried by PyGithub's `GithubRetry` (it sleeps on a 403's
`retry-after`, or until the rate limit resets); whatever still fails becomes a one-line
`GitHubError` naming the request, e.g. `GitHub API: POST /repos/o/r/pulls: 422 Validation
Failed: A pull request already exists for o:branch.` The token never appears in a message.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.GithubObject import NotSet, Opt
from github.Issue import Issue
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest
from urllib3 import Retry

from mutbot.errors import GitHubError
from mutbot.github.types import IssueInfo, PullInfo

ROLES = ("admin", "maintain", "write", "triage", "read", "none")
WRITERS = frozenset({"admin", "maintain", "write"})
# the legacy `permission` field folds maintain into write and triage into read
_LEGACY = {"admin": "admin", "write": "write", "read": "read", "none": "none"}


class GitHub:
    """One repository (`owner/name`) on github.com or a GitHub Enterprise server (`api_url`).

    `retries`: attempts after the first for 5xx and rate-limit answers; `backoff`: urllib3's
    backoff factor between them; `rate_limit_wait`: the longest wait for a rate limit reset
    before giving up; `write_interval`: the pause GitHub asks for between writes."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = "https://api.github.com",
        retries: int = 3,
        timeout: float = 30,
        *,
        backoff: float = 1.0,
        rate_limit_wait: float = 300,
        write_interval: float = 1.0,
    ) -> None:
        self._token = token
        self.repository = repository
        self.owner = repository.partition("/")[0]
        retry = GithubRetry(
            total=retries,
            backoff_factor=backoff,
            max_rate_limit_wait=rate_limit_wait,
            raise_on_status=False,  # the last answer becomes a GithubException, with its body
            allowed_methods=Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"},
        )
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=api_url.rstrip("/"),
            timeout=max(1, math.ceil(timeout)),
            user_agent="mutbot",
            retry=retry,
            seconds_between_requests=None,
            seconds_between_writes=write_interval or None,
            lazy=True,  # no request until an answer is needed
        )
        self._repo = self._gh.get_repo(repository)

    def close(self) -> None:
        self._gh.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- repository and people -------------------------------------------------------------

    def default_branch(self) -> str:
        with self._call("GET", ""):
            return self._repo.default_branch

    def permission(self, user: str) -> str:
        """admin, maintain, write, triage, read or none; a user GitHub does not know has none."""
        try:
            with self._call("GET", f"/collaborators/{user}/permission"):
                _, data = self._repo.requester.requestJsonAndCheck(
                    "GET", f"{self._repo.url}/collaborators/{quote(user, safe='')}/permission"
                )
        except GitHubError as exc:
            if isinstance(exc.__cause__, GithubException) and exc.__cause__.status == 404:
                return "none"
            raise
        role = data.get("role_name")
        if role in ROLES:
            return str(role)
        # a custom repository role: its legacy base permission decides
        return _LEGACY.get(str(data.get("permission")), "none")

    def can_write(self, user: str) -> bool:
        return self.permission(user) in WRITERS

    # -- conversation ----------------------------------------------------------------------

    def react(self, comment_id: int, content: str) -> None:
        """content: +1, -1, laugh, confused, heart, hooray, rocket or eyes."""
        url = f"{self._repo.url}/issues/comments/{comment_id}"
        with self._call("POST", f"/issues/comments/{comment_id}/reactions"):
            IssueComment(self._repo.requester, url=url).create_reaction(content)

    def comment(self, issue_number: int, body: str) -> str:
        """Comments on an issue or pull request's conversation; returns the comment's URL."""
        with self._call("POST", f"/issues/{issue_number}/comments"):
            return self._repo.get_issue(issue_number).create_comment(body).html_url

    def ensure_labels(self, labels: Mapping[str, tuple[str, str]]) -> None:
        """name → (color, description): creates the ones missing (GitHub ignores case)."""
        with self._call("GET", "/labels"):
            existing = {label.name.lower() for label in self._repo.get_labels()}
        for name, (color, description) in labels.items():
            if name.lower() in existing:
                continue
            try:
                with self._call("POST", "/labels"):
                    self._repo.create_label(name, color.lstrip("#"), description)
            except GitHubError as exc:
                if not _already_exists(exc.__cause__):  # another run created it meanwhile
                    raise

    # -- issues ------------------------------------------------------------------------------

    def issues_labelled(self, label: str) -> list[IssueInfo]:
        """Issues (not pull requests) carrying `label`, open or closed, oldest first: the list
        API, which unlike search answers at once and is never rate limited apart."""
        with self._call("GET", "/issues"):
            found = self._repo.get_issues(
                state="all", labels=[label], sort="created", direction="asc"
            )
            return [_issue(i) for i in found if i.pull_request is None]

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> IssueInfo:
        with self._call("POST", "/issues"):
            return _issue(self._repo.create_issue(title=title, body=body, labels=list(labels)))

    def edit_issue(self, number: int, *, body: str) -> IssueInfo:
        with self._call("PATCH", f"/issues/{number}"):
            issue = self._repo.get_issue(number)
            issue.edit(body=body)
            return _issue(issue)

    # -- pull requests ---------------------------------------------------------------------

    def find_pull(self, branch: str) -> PullInfo | None:
        """The newest pull request from `branch` of this repository, in any state."""
        with self._call("GET", "/pulls"):
            found = self._repo.get_pulls(
                state="all", head=f"{self.owner}:{branch}", sort="created", direction="desc"
            )
            # the filter is GitHub's; checking the branch guards against it being ignored
            return next((_info(p) for p in found if p.head.ref == branch), None)

    def open_pulls(self, label: str, branch_prefix: str = "") -> list[PullInfo]:
        """The open pull requests carrying `label` or, with `branch_prefix`, coming from a branch
        of this repository whose name starts with it (one whose labels could not be added is
        still counted), newest first."""
        with self._call("GET", "/pulls"):
            found = self._repo.get_pulls(state="open", sort="created", direction="desc")
            return [
                _info(p)
                for p in found
                if label in (lab.name for lab in p.labels)
                or (branch_prefix and p.head.ref.startswith(branch_prefix) and self._ours(p))
            ]

    def _ours(self, pull: PullRequest) -> bool:
        """A pull request from a branch of this repository, not of a fork (or a deleted one)."""
        repo = pull.head.repo
        return repo is not None and repo.full_name.lower() == self.repository.lower()

    def pull(self, number: int) -> PullInfo:
        with self._call("GET", f"/pulls/{number}"):
            return _info(self._repo.get_pull(number))

    def create_pull(self, branch: str, base: str, title: str, body: str) -> PullInfo:
        """Opens a pull request from `branch` (already pushed) into `base`. Labels are a
        separate request (`add_labels`), so a failure to label is never taken for a failure to
        open.

        When GitHub answers that it exists already, the open one from `branch` into `base` is
        updated and returned: a retried POST whose first answer was lost made it."""
        try:
            with self._call("POST", "/pulls"):
                created = self._repo.create_pull(base=base, head=branch, title=title, body=body)
                return _info(created)
        except GitHubError as exc:
            found = self.find_pull(branch) if _already_open(exc.__cause__) else None
            if found is None or found.state != "open" or found.base != base:
                raise
            return self.update_pull(found.number, title=title, body=body)

    def add_labels(self, pull: PullInfo, labels: Sequence[str]) -> PullInfo:
        """Adds labels to a pull request (GitHub creates unknown ones, grey)."""
        with self._call("POST", f"/issues/{pull.number}/labels"):
            self._repo.get_issue(pull.number).add_to_labels(*labels)
        merged = tuple(dict.fromkeys([*pull.labels, *labels]))
        return replace(pull, labels=merged)

    def update_pull(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        base: str | None = None,
    ) -> PullInfo:
        if title is None and body is None and base is None:
            return self.pull(number)
        with self._call("PATCH", f"/pulls/{number}"):
            pull = self._repo.get_pull(number)
            pull.edit(title=_opt(title), body=_opt(body), base=_opt(base))
            return _info(pull)

    def close_pull(self, number: int) -> PullInfo:
        """Closes a pull request unmerged (its branch stays)."""
        with self._call("PATCH", f"/pulls/{number}"):
            pull = self._repo.get_pull(number)
            pull.edit(state="closed")
            return _info(pull)

    def request_reviewers(self, number: int, users: Sequence[str], teams: Sequence[str]) -> None:
        """Asks users (logins) and teams (slugs) to review a pull request.

        GitHub refuses the whole request when one of them is not a collaborator; then each
        is asked alone, so the others are still asked, and the GitHubError names the ones
        GitHub refused."""
        if not users and not teams:
            return
        try:
            self._ask_review(number, users, teams)
            return
        except GitHubError as exc:
            if not _not_collaborator(exc.__cause__):
                raise
            first = exc
        refused = [u for u in users if not self._ask_review(number, [u], [], alone=True)]
        refused += [f"team {t}" for t in teams if not self._ask_review(number, [], [t], alone=True)]
        if refused:
            raise GitHubError(f"{first}; not requested: {', '.join(refused)}") from first.__cause__

    def _ask_review(
        self, number: int, users: Sequence[str], teams: Sequence[str], *, alone: bool = False
    ) -> bool:
        """True when asked; `alone`: False, not an error, when GitHub says not a collaborator."""
        try:
            with self._call("POST", f"/pulls/{number}/requested_reviewers"):
                self._repo.get_pull(number).create_review_request(
                    reviewers=list(users) or NotSet, team_reviewers=list(teams) or NotSet
                )
        except GitHubError as exc:
            if alone and _not_collaborator(exc.__cause__):
                return False
            raise
        return True

    # -- errors ----------------------------------------------------------------------------

    @contextmanager
    def _call(self, method: str, suffix: str) -> Iterator[None]:
        """Turns what PyGithub and requests raise into a GitHubError naming the request."""
        where = f"GitHub API: {method} /repos/{self.repository}{suffix}"
        try:
            yield
        except GithubException as exc:
            raise GitHubError(self._clean(f"{where}: {_describe(exc)}")) from exc
        except requests.RequestException as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise GitHubError(self._clean(f"{where}: {reason}")) from exc

    def _clean(self, message: str) -> str:
        message = " ".join(message.split())
        return message.replace(self._token, "***") if self._token else message


def _opt(value: str | None) -> Opt[str]:
    return NotSet if value is None else value


def _describe(exc: GithubException) -> str:
    """`422 Validation Failed: A pull request already exists for o:b.` from GitHub's body."""
    data: Any = exc.data
    text = f"{exc.status}"
    if isinstance(data, dict):
        text += f" {data.get('message') or ''}".rstrip()
        details = [_error_text(e) for e in data.get("errors") or [] if isinstance(e, dict)]
        if details:
            text += ": " + "; ".join(details)
    elif data:
        text += f" {str(data)[:200]}"
    if isinstance(exc, RateLimitExceededExceedsMaxWait) and exc.wait is not None:
        text += f" (resets in {exc.wait:.0f} s, longer than mutbot waits)"
    return text


def _error_text(error: Mapping[str, Any]) -> str:
    if error.get("message"):
        return str(error["message"])
    parts = [error.get("resource"), error.get("field"), error.get("code")]
    return " ".join(str(p) for p in parts if p)


def _already_exists(exc: BaseException | None) -> bool:
    if not isinstance(exc, GithubException) or exc.status != 422:
        return False
    errors = exc.data.get("errors") if isinstance(exc.data, dict) else None
    return any(isinstance(e, dict) and e.get("code") == "already_exists" for e in errors or [])


def _already_open(exc: BaseException | None) -> bool:
    return (
        isinstance(exc, GithubException)
        and exc.status == 422
        and "A pull request already exists" in _describe(exc)
    )


def _not_collaborator(exc: BaseException | None) -> bool:
    return (
        isinstance(exc, GithubException)
        and exc.status == 422
        and "only be requested from collaborators" in _describe(exc)
    )


def _info(pull: PullRequest) -> PullInfo:
    merged = pull.merged_at is not None  # lists carry `merged_at` but not `merged`
    state: Literal["open", "closed"] = "open" if pull.state == "open" else "closed"
    return PullInfo(
        number=pull.number,
        url=pull.html_url,
        state=state,
        merged=merged,
        head=pull.head.ref,
        base=pull.base.ref,
        head_sha=pull.head.sha,
        title=pull.title,
        body=pull.body or "",
        labels=tuple(label.name for label in pull.labels),
        merge_commit_sha=pull.merge_commit_sha if merged else None,
    )


def _issue(issue: Issue) -> IssueInfo:
    state: Literal["open", "closed"] = "open" if issue.state == "open" else "closed"
    return IssueInfo(
        number=issue.number,
        url=issue.html_url,
        state=state,
        title=issue.title,
        body=issue.body or "",
        labels=tuple(label.name for label in issue.labels),
    )
