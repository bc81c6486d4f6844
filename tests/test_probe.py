from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from mutbot import probe
from testing.local_server import LocalServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/close":  # hangs up without an answer
            self.close_connection = True
            return
        status = {"/": 200, "/status": 204, "/boom": 500}.get(self.path, 404)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    running = LocalServer(Handler)
    running.start()
    yield running.url
    running.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_each_path_answers_once_in_order(server: str) -> None:
    paths = ("/healthz", "/", "/status", "/boom", "/healthz", "/close")
    assert probe.answers(server, paths) == (
        ("/healthz", "404"),
        ("/", "200"),
        ("/status", "204"),
        ("/boom", "500"),
        ("/close", "connection closed without an answer"),
    )
    assert probe.answers(f"http://127.0.0.1:{closed_port()}", ("/",)) == (("/", "refused"),)


class Stopped:
    """An instance as the backends describe one that stopped (or runs: None)."""

    def __init__(self, failure: str | None) -> None:
        self.url = "http://127.0.0.1:9"
        self._failure = failure

    def failure(self) -> str | None:
        return self._failure


def test_how_an_instance_stopped() -> None:
    assert probe.stopped(Stopped(None)) == (None, False)  # type: ignore[arg-type]
    assert probe.stopped(Stopped("crashed: exit code 3")) == (3, False)  # type: ignore[arg-type]
    oom = Stopped("killed for memory (limit 64m)")
    assert probe.stopped(oom) == (None, True)  # type: ignore[arg-type]
    # a dependency that stopped is not the service's own exit code
    dependency = Stopped("service db exited (exit code 1)")
    assert probe.stopped(dependency) == (None, False)  # type: ignore[arg-type]
    # no container to look into (the local backend): the sockets are unknown, not "none"
    assert probe.sockets(Stopped(None)) is None  # type: ignore[arg-type]


def test_tail_keeps_the_last_non_empty_lines_cut_short(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_bytes(b"".join(b"line %d\n\n" % i for i in range(40)) + b"x" * 500 + b"\n\xff\n")
    lines = probe.tail(log, 3)
    assert lines == ("line 39", "x" * 300, "\ufffd")
    assert probe.tail(tmp_path / "missing.log") == ()
    log.write_text("\x1b[91mE: no candidate\x1b[0m\n\x1b]0;title\x07\n")
    assert probe.tail(log) == ("E: no candidate", "\x1b]0;title\x07")  # doctor shows it escaped
