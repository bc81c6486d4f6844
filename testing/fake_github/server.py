"""`FakeGitHub`: the fake's HTTP server on 127.0.0.1, what tests set up and inspect, the
one-shot faults answered before anything else, and the record of every request."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from testing.fake_github.endpoints import Endpoints
from testing.fake_github.model import (
    ROLES,
    TOKEN,
    ApiError,
    Reply,
    fake_sha,
    rate_limited,
    server_error,
)
from testing.local_server import LocalServer


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # below the API root, without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: Any  # the parsed JSON, the raw text when it does not parse, None when empty
    status: int  # the status sent back


@dataclass
class _Fault:
    method: str  # "*" matches any
    path: re.Pattern[str]
    reply: Reply | None  # None: answered as usual (a request the fault lets through)
    served: bool  # the request takes effect, only its answer is lost


class FakeGitHub(Endpoints):
    """`url` is the API root to pass as PyGithub's `base_url`; `prefix` imitates GitHub
    Enterprise's `/api/v3`. `remote`: a bare repository standing for the GitHub remote."""

    def __init__(
        self,
        repository: str = "octo-org/hello-world",
        *,
        token: str = TOKEN,
        default_branch: str = "main",
        remote: Path | None = None,
        private: bool = False,
        bot: str = "github-actions[bot]",
        prefix: str = "",
    ) -> None:
        super().__init__(
            repository,
            token=token,
            default_branch=default_branch,
            remote=remote,
            private=private,
            bot=bot,
            prefix=prefix,
        )
        self.requests: list[Recorded] = []
        self._faults: list[_Fault] = []
        self._http = LocalServer(_handler(self))

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._http.url

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    # -- what tests set up and inspect -----------------------------------------------------

    def add_collaborator(self, login: str, role: str) -> None:
        """role: admin, maintain, write, triage, read or none (a known user with no access)."""
        assert role in ROLES, role
        with self._lock:
            self.collaborators[login] = role

    def add_label(self, name: str, color: str = "ededed", description: str = "") -> None:
        with self._lock:
            self._create_label(name, color, description)

    def add_issue(self, title: str, *, author: str = "octocat", body: str = "") -> int:
        with self._lock:
            return int(self._new_issue(title, body, author)["number"])

    def add_comment(self, issue_number: int, body: str, *, author: str = "octocat") -> int:
        with self._lock:
            return int(self._new_comment(self._issue(issue_number), body, author)["id"])

    def add_pull(
        self,
        branch: str,
        *,
        base: str | None = None,
        title: str = "A change",
        body: str = "",
        labels: tuple[str, ...] = (),
        author: str | None = None,
        fork: str = "",
    ) -> int:
        """`fork`: the `owner/name` of a fork the head branch comes from (default: this
        repository); the fake still looks the branch up in its own remote."""
        with self._lock:
            issue = self._new_pull(branch, base or self.default_branch, title, body, author)
            issue["pull"]["fork"] = fork
            for name in labels:
                self._label_issue(issue, name)
            return int(issue["number"])

    def close_pull(self, number: int) -> None:
        with self._lock:
            self._close(self._pull(number))

    def merge_pull(self, number: int, merge_commit_sha: str | None = None) -> str:
        """Marks the pull request merged (the test did or did not merge in the remote itself)."""
        with self._lock:
            issue = self._pull(number)
            self.close_pull(number)
            sha = merge_commit_sha or fake_sha(f"merge {number}")
            issue["pull"].update(merged_at=issue["closed_at"], merge_commit_sha=sha)
            return sha

    def pull(self, number: int) -> dict[str, Any]:
        """The pull request as `GET /repos/{o}/{r}/pulls/{n}` answers it."""
        with self._lock:
            self._close_orphans()
            return self._pull_json(self._pull(number), full=True)

    def issue(self, number: int) -> dict[str, Any]:
        """The issue (or pull request) as `GET /repos/{o}/{r}/issues/{n}` answers it."""
        with self._lock:
            return self._issue_json(self._issue(number))

    def edit_issue_body(self, number: int, body: str) -> None:
        """A person edits the issue's body on the web (the test sends the `issues` event)."""
        with self._lock:
            issue = self._issue(number)
            issue.update(body=body, updated_at=self._now())

    def comments_on(self, issue_number: int) -> list[str]:
        with self._lock:
            return [c["body"] for c in self.comments.values() if c["issue"] == issue_number]

    def reactions_on(self, comment_id: int) -> list[str]:
        with self._lock:
            return [r["content"] for r in self.reactions.get(comment_id, [])]

    def fail(
        self,
        method: str,
        path: str,
        reply: Reply | int = 500,
        *,
        times: int = 1,
        served: bool = False,
        skip: int = 0,
    ) -> None:
        """Answers the next `times` requests matching method and path (a regex searched in
        the path below the API root) with `reply`, after letting `skip` of them through;
        `served`: the request still takes effect (a 502 from a proxy after GitHub did the
        work)."""
        reply = server_error(reply) if isinstance(reply, int) else reply
        fault = _Fault(method.upper(), re.compile(path), reply, served)
        passing = _Fault(method.upper(), re.compile(path), None, True)
        with self._lock:
            self._faults += [passing] * skip + [fault] * times

    def rate_limit(self, method: str, path: str, retry_after: int = 1, *, times: int = 1) -> None:
        self.fail(method, path, rate_limited(retry_after), times=times)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def calls(self, method: str, path: str) -> list[Recorded]:
        """The recorded requests with that method whose path matches the regex entirely."""
        with self._lock:
            return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]

    # -- serving ---------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        split = urlsplit(target)
        path = unquote(split.path)
        path = path.removeprefix(self.prefix) if path.startswith(self.prefix + "/") else path
        query = parse_qs(split.query)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            fault = self._fault(method, path)
            if fault is None or fault.served:
                reply = self._serve(method, path, query, headers, body)
            reply = fault.reply if fault and fault.reply else reply
            self.requests.append(Recorded(method, path, query, headers, body, reply.status))
        return reply

    def _fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method in ("*", method) and fault.path.search(path):
                self._faults.remove(fault)
                return fault
        return None

    def _serve(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> Reply:
        auth = headers.get("authorization", "")
        if auth.partition(" ")[2] != self.token or auth.split(" ")[0] not in ("token", "Bearer"):
            return ApiError(401, "Bad credentials").reply
        if method in ("POST", "PATCH") and body is not None and isinstance(body, str):
            return ApiError(400, "Problems parsing JSON").reply
        self._close_orphans()
        try:
            return self._route(method, path, query, body)
        except ApiError as exc:
            return exc.reply


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.answer(self.command, self.path, headers, raw)
            payload = json.dumps(reply.body).encode() if reply.body is not None else b""
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-github-request-id", f"FAKE:{len(fake.requests):06d}")
            limits = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "4999",
                "x-ratelimit-reset": str(int(time.time()) + 3600),
                "x-ratelimit-resource": "core",
            }
            for name, value in (limits | reply.headers).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test's stderr clean

    return Handler


@contextmanager
def serve_github(repository: str = "octo-org/hello-world", **options: Any) -> Iterator[FakeGitHub]:
    """Starts a FakeGitHub (options as for its constructor) and stops it afterwards."""
    fake = FakeGitHub(repository, **options)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
