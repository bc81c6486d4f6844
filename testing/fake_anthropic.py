"""An in-process stand-in for the Anthropic Messages API (`POST /v1/messages`) on 127.0.0.1,
speaking the real wire format, so tests drive the real SDK. It answers from a scripted queue and
records every request; when the script runs out it answers 500 (and records that too)."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from mutbot.config import load_config
from mutbot.policy import DiffRules
from mutbot.proposers.base import (
    Baseline,
    HistoryEntry,
    Opportunity,
    ProposalRequest,
    TargetFile,
)
from testing.local_server import LocalServer

DEFAULT_MODEL = "claude-sonnet-5-5"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pricing"
_IDS = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any  # the parsed JSON, or the raw text when it does not parse
    answered: int  # the status sent back


def tool_message(
    tool_input: Any,
    *,
    name: str = "submit_candidates",
    input_tokens: int = 1200,
    output_tokens: int = 400,
    model: str = DEFAULT_MODEL,
    stop_reason: str = "tool_use",
    text: str | None = None,
    usage: dict[str, Any] | None = None,
) -> Reply:
    """A real-shaped `message` whose content is one tool_use block (after an optional text)."""
    n = next(_IDS)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content.append(
        {"type": "tool_use", "id": f"toolu_fake{n:04d}", "name": name, "input": tool_input}
    )
    return Reply(
        200,
        {
            "id": f"msg_fake{n:04d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                **(usage or {}),
            },
        },
    )


def error_reply(
    status: int,
    kind: str,
    message: str,
    *,
    retry_after: float | None = None,
    retry_after_ms: float | None = None,
) -> Reply:
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    if retry_after_ms is not None:
        headers["retry-after-ms"] = f"{retry_after_ms:g}"
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return Reply(status, body, headers)


def rate_limited(retry_after_ms: float = 1) -> Reply:
    return error_reply(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
        retry_after=1,  # the SDK prefers the precise retry-after-ms
        retry_after_ms=retry_after_ms,
    )


def overloaded(retry_after_ms: float = 1) -> Reply:
    return error_reply(529, "overloaded_error", "Overloaded", retry_after_ms=retry_after_ms)


def server_error(retry_after_ms: float = 1) -> Reply:
    return error_reply(500, "api_error", "Internal server error", retry_after_ms=retry_after_ms)


class FakeAnthropic:
    """api_key: when given, a request that does not carry it (as `x-api-key` or a bearer
    token) is answered 401 authentication_error, like the real API."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._http = LocalServer(_handler(self))

    @property
    def url(self) -> str:
        return self._http.url

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    def messages(self) -> list[Recorded]:
        """The recorded Messages API requests."""
        return [r for r in self.requests if r.path == "/v1/messages"]

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            if method != "POST" or path.split("?")[0] != "/v1/messages":
                reply = error_reply(404, "not_found_error", f"{method} {path}: not served here")
            elif self.api_key and self.api_key not in (
                headers.get("x-api-key"),
                headers.get("authorization", "").removeprefix("Bearer "),
            ):
                reply = error_reply(401, "authentication_error", "invalid x-api-key")
            elif self._script:
                reply = self._script.pop(0)
            else:
                reply = error_reply(500, "api_error", "fake server: the script is empty")
            self.requests.append(Recorded(method, path, headers, body, reply.status))
        return reply


def _handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.answer(self.command, self.path, headers, raw)
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("request-id", f"req_fake{next(_IDS):04d}")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test's stderr clean

    return Handler


@contextmanager
def serve_anthropic(*replies: Reply, api_key: str | None = None) -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic(api_key)
    fake.script(*replies)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def pricing_request(
    *,
    count: int = 2,
    radical_share: float = 0.5,
    history: tuple[HistoryEntry, ...] = (),
    measured: bool = True,
    keep: tuple[str, ...] | None = None,  # None: the example's own propose.keep
    protected: tuple[str, ...] = (),
    llm: dict[str, Any] | None = None,
) -> ProposalRequest:
    """The bundled examples/pricing project as a ProposalRequest, read from disk."""
    root = EXAMPLE
    config = load_config(root / ".mutbot.yml")
    config = config.model_copy(
        update={
            "propose": config.propose.model_copy(
                update={} if keep is None else {"keep": list(keep)}
            ),
            "llm": config.llm.model_copy(update=llm or {}),
        }
    )
    files = tuple(
        TargetFile(p, (root / p).read_text(encoding="utf-8"))
        for p in ("Dockerfile", "config/server.ini")
    )
    rules = DiffRules(
        targets=tuple(config.targets),
        protected=(*config.protected, ".mutbot.yml", config.load.locustfile, *protected),
        max_changed_lines=config.policy.max_changed_lines,
        max_files=config.policy.max_files,
    )
    opportunities = (
        Opportunity(
            category="single-worker",
            path="config/server.ini",
            line=3,
            why="threads = 1 serves every request on one thread",
            key="server.threads",
        ),
        Opportunity(
            category="cache-disabled",
            path="config/server.ini",
            line=5,
            why="cache_size = 0 switches the price cache off",
            key="server.cache_size",
        ),
    )
    baseline = Baseline(
        {"latency_p95_ms": 412.5, "throughput_rps": 48.25}, "measured in this run (6 trials)"
    )
    return ProposalRequest(
        files=files,
        opportunities=opportunities,
        baseline=baseline if measured else None,
        config=config,
        rules=rules,
        history=history,
        count=count,
        radical_share=radical_share,
    )
