"""`mutbot doctor` on real services in Docker that fail each way a first try fails."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mutbot import reaper
from mutbot.cli import main
from testing.repos import EXAMPLE, git, make_repo

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SERVER = """\
import os, socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = open("mode.txt").read().strip()
HOST, PORT = "0.0.0.0", 8080
if MODE == "crash":
    print("Traceback (most recent call last):", file=sys.stderr)
    print(f"KeyError: {sorted(os.environ)[:0] or 'DATABASE_URL'!r}", file=sys.stderr)
    sys.exit(1)
if MODE == "oom":
    hog = [bytearray(16 * 1024 * 1024) for _ in range(32)]
while MODE.startswith("database"):  # as psycopg fails when no host is called "db"
    try:
        socket.create_connection(("db", 5432), timeout=3)
    except OSError as exc:
        print(f'psycopg.OperationalError: connection is bad: could not translate host name '
              f'"db" to address: {exc}', file=sys.stderr, flush=True)
        if MODE == "database":
            sys.exit(1)  # else wait for it, as wait-for-it scripts do
if MODE == "wrong-port":
    PORT = 5000
if MODE == "loopback":
    HOST = "127.0.0.1"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        found = self.path == "/" or (self.path == "/healthz" and MODE != "health-path")
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


print(f"listening on {HOST}:{PORT}", flush=True)
ThreadingHTTPServer((HOST, PORT), Handler).serve_forever()
"""

LOCUSTFILE = """\
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def home(self) -> None:
        self.client.get("/")
"""


def service(
    tmp_path: Path,
    mode: str,
    tests: str = "null",
    extra: str = "",
    startup: str = "4s",
    services: str = "{}",
    locustfile: str = LOCUSTFILE,
) -> Path:
    """A committed project: a stdlib server misbehaving as `mode` says, and its config."""
    source = tmp_path / "source"
    (source / "loadtest").mkdir(parents=True)
    (source / "server.py").write_text(SERVER)
    (source / "mode.txt").write_text(mode + "\n")
    (source / "loadtest" / "locustfile.py").write_text(locustfile)
    (source / "Dockerfile").write_text(
        f'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n{extra}CMD ["python", "server.py"]\n'
    )
    (source / ".mutbot.yml").write_text(
        textwrap.dedent(f"""\
            version: 1
            targets: [Dockerfile]
            sandbox:
              {{port: 8080, health: /healthz, memory: 64m, startup_timeout: {startup},
                services: {services}}}
            tests: {{command: {tests}}}
            load: {{locustfile: loadtest/locustfile.py, users: 2}}
            """)
    )
    return make_repo(tmp_path / "repo", source)


@pytest.fixture
def own_objects(docker_client: Any) -> Iterator[None]:
    """Fails when doctor leaves a container, network or image of this process behind (other
    test processes may run Docker at the same time: only ours count)."""
    selector = {"label": f"{reaper.OWNER_LABEL}={reaper.me().label()}"}

    def left() -> list[str]:
        found = [c.name for c in docker_client.containers.list(all=True, filters=selector)]
        found += [n.name for n in docker_client.networks.list(filters=selector)]
        return found + [str(i.tags) for i in docker_client.images.list(filters=selector)]

    yield
    assert left() == []


def doctor(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["doctor", "--repo", str(project)])
    out = capsys.readouterr().out
    return code, out.splitlines()


def failed(lines: list[str]) -> str:
    """The failed step's line, without its time."""
    line = next(line for line in lines if line.startswith("✗"))
    return re.sub(r"\s+\d+\.\ds\s+", " ", line)


def test_a_passing_doctor_on_the_bundled_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    project = make_repo(tmp_path / "repo", EXAMPLE)
    code, lines = doctor(project, capsys)
    assert code == 0, lines
    steps = [line.split()[1] for line in lines if line.startswith("✓")]
    assert steps == ["config", "sandbox", "worktree", "build", "tests", "start", "health", "load"]
    load = next(line for line in lines if line.startswith("✓ load"))
    assert re.search(r"\d+ requests in 10s, p95 \d+ ms, 0 failed", load)
    assert lines[-1].startswith("all green in ")
    assert git(project, "status", "--porcelain") == ""  # its logs stay out of `git status`
    assert git(project, "worktree", "list").count("\n") == 1


def test_a_crash_at_start_shows_the_exit_code_the_log_and_the_missing_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    code, lines = doctor(service(tmp_path, "crash"), capsys)
    assert code == 6
    assert failed(lines) == "✗ health crashed: exit code 1 during start-up"
    assert "→ the service exited with code 1 during start-up; its last log lines are below" in lines
    assert (
        "→ the service needs the environment variable DATABASE_URL: set it under sandbox.env "
        "(or list it under sandbox.throwaway_env when it is a secret)"
    ) in lines
    assert "  | KeyError: 'DATABASE_URL'" in lines
    assert "· load          -  not run" in lines


def test_a_service_on_another_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    code, lines = doctor(service(tmp_path, "wrong-port"), capsys)
    assert code == 6
    assert failed(lines).startswith("✗ health never healthy within 4s (/healthz: ")
    assert "→ nothing listens on 8080; the service listens on 5000: set sandbox.port: 5000" in lines


def test_the_port_is_read_from_the_host_when_the_image_has_no_cat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    project = service(tmp_path, "wrong-port", extra="RUN rm /usr/bin/cat\n")
    code, lines = doctor(project, capsys)
    assert code == 6
    assert "→ nothing listens on 8080; the service listens on 5000: set sandbox.port: 5000" in lines


def test_a_service_bound_to_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    code, lines = doctor(service(tmp_path, "loopback"), capsys)
    assert code == 6
    assert (
        "→ the service listens on 127.0.0.1:8080 only, which nothing outside its container can "
        "reach: bind 0.0.0.0 (e.g. gunicorn --bind 0.0.0.0:8080)"
    ) in lines


def test_a_different_health_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    code, lines = doctor(service(tmp_path, "health-path"), capsys)
    assert code == 6
    assert failed(lines) == "✗ health never healthy within 4s (/healthz: HTTP 404)"
    assert "→ the health path /healthz answered 404, / answers 200: set sandbox.health: /" in lines


def test_out_of_memory_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    code, lines = doctor(service(tmp_path, "oom"), capsys)
    assert code == 6
    assert (
        "→ killed for memory (limit 64m); raise sandbox.memory, or find what the service "
        "allocates at start"
    ) in lines


@pytest.mark.parametrize("command", ["python -m pytest -q", "pytest -q"])
def test_tests_without_their_runner_in_the_image(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    code, lines = doctor(service(tmp_path, "ok", tests=f'"{command}"'), capsys)
    assert code == 6
    assert failed(lines).startswith("✗ tests tests failed (exit code ")
    assert (
        "→ pytest is not installed in the image (tests run inside it): install it in the "
        "Dockerfile, or set tests.command to a runner the image has (python -m unittest), or to "
        "null"
    ) in lines
    assert "· start         -  not run" in lines


@pytest.mark.parametrize("mode", ["database", "database-wait"])
def test_a_service_waiting_for_a_database_nobody_configured(
    mode: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    """It exits, or waits for ever; on an internal network a lookup fails after ~10 s."""
    code, lines = doctor(service(tmp_path, mode, startup="15s"), capsys)
    assert code == 6
    if mode == "database":
        assert failed(lines) == "✗ health crashed: exit code 1 during start-up"
    else:
        assert any(line.startswith("→ nothing listens on any TCP port after 15s") for line in lines)
    assert (
        "→ the service cannot reach PostgreSQL at db:5432: nothing called db runs in the sandbox; "
        "add it under sandbox.services (docs/config.md), e.g. `db: {image: postgres:16, env: "
        "{POSTGRES_HOST_AUTH_METHOD: trust}, health: {command: pg_isready -h 127.0.0.1}}`"
    ) in lines


def test_a_locustfile_outside_the_last_commit_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = service(tmp_path, "ok")
    (project / ".mutbot.yml").write_text(
        (project / ".mutbot.yml").read_text().replace("loadtest/locustfile.py", "load.py")
    )
    (project / "load.py").write_text(LOCUSTFILE)
    code, lines = doctor(project, capsys)
    assert code == 3
    assert failed(lines).startswith("✗ config load.locustfile: 'load.py' is not in the last")


@pytest.mark.parametrize(
    ("db", "said"),
    [
        (
            "{image: postgres:16}",
            "→ the postgres image of service db wants a password, and secrets never enter the "
            "sandbox: add `POSTGRES_HOST_AUTH_METHOD: trust` to sandbox.services.db.env (no "
            "password at all; point the service's database URL at it without one)",
        ),
        (
            "{image: postgres:16, env: {POSTGRES_HOST_AUTH_METHOD: trust},"
            " health: {command: pg_isready -p 5999, timeout: 4s}}",
            "→ service db runs but never passed its health check: fix sandbox.services.db.health "
            "(a command that exits 0 inside it once ready, or the port it listens on), or raise "
            "sandbox.services.db.health.timeout",
        ),
    ],
    ids=["exits", "never-healthy"],
)
def test_a_database_service_that_does_not_get_ready(
    db: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    code, lines = doctor(service(tmp_path, "ok", services=f"{{db: {db}}}"), capsys)
    assert code == 6
    assert failed(lines).startswith("✗ start service db ")
    assert said in lines
    assert "last lines of the log of service db:" in lines


def test_requests_that_fail_under_load_fail_the_load_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    missing = LOCUSTFILE.replace('self.client.get("/")', 'self.client.get("/missing")')
    code, lines = doctor(service(tmp_path, "ok", locustfile=missing), capsys)
    assert code == 7
    assert re.fullmatch(r"✗ load (\d+) of \1 requests failed", failed(lines))
    said = next(line for line in lines if line.startswith("→ "))
    assert re.fullmatch(
        r"→ (\d+) of \1 requests failed \(100%\): /missing 404 Client Error: Not Found for "
        r"url: /missing ×\1",
        said,
    ), said


def test_an_entrypoint_script_that_is_not_executable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_objects: None
) -> None:
    project = service(tmp_path, "ok")
    (project / "run.sh").write_text("#!/bin/sh\nexec python server.py\n")  # mode 644
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace('["python", "server.py"]', '["./run.sh"]'))
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "an entrypoint script")
    code, lines = doctor(project, capsys)
    assert code == 6
    assert failed(lines).startswith("✗ start cannot start: ")
    assert (
        "→ ./run.sh is not executable: `chmod +x` it and commit (git keeps the mode), or "
        "`RUN chmod +x ./run.sh` in the Dockerfile"
    ) in lines
