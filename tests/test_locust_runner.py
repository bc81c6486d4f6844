"""Tests for sandbox/locust_runner.py, run as a subprocess (never import locust here: gevent)."""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from testing.serial_server import serial_server

RUNNER = Path(__file__).resolve().parents[1] / "sandbox" / "locust_runner.py"

LOCUSTFILE = """
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.01)

    @task(5)
    def ok(self):
        self.client.get("/ok")

    @task(1)
    def fail(self):
        self.client.get("/fail")
"""

# One request per task; wait_time is replaced by the schedule in open-loop mode.
ONE_PATH = """
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0)

    @task
    def hit(self):
        self.client.get("{path}")
"""
SLOW_S = 0.2


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(SLOW_S)
        status = 200 if self.path in ("/ok", "/slow") else 500
        body = b"ok" if status == 200 else b"boom"
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the runner dropped an in-flight /slow request while quitting

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


@pytest.fixture()
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_runner(
    tmp_path: Path,
    host: str,
    locustfile: str,
    *extra: str,
    warmup: str = "1",
    duration: str = "2",
    users: str = "3",
) -> tuple[subprocess.CompletedProcess[str], Path]:
    lf = tmp_path / "my_locustfile.py"
    lf.write_text(locustfile)
    out = tmp_path / "result.json"
    cmd = [
        sys.executable,
        str(RUNNER),
        "--locustfile",
        str(lf),
        "--host",
        host,
        "--users",
        users,
        "--spawn-rate",
        "100",
        "--duration",
        duration,
        "--warmup",
        warmup,
        "--out",
        str(out),
        *extra,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    return proc, out


def test_full_run(tmp_path: Path, server_url: str) -> None:
    proc, out = run_runner(tmp_path, server_url, LOCUSTFILE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    data = json.loads(out.read_text())
    assert data["version"] == 1
    assert data["users"] == 3 and data["stopped_early"] is False
    assert data["mode"] == "closed" and data["arrival_rate"] is None
    assert data["scheduled_in_window"] is None and data["late_starts"] is None
    assert abs(data["window_end"] - data["window_start"] - 2.0) < 0.01
    assert abs(data["window_start"] - data["t0"] - 1.0) < 0.01
    reqs = data["requests"]
    assert any(r[0] < data["window_start"] for r in reqs)
    assert any(r[0] >= data["window_start"] for r in reqs)
    assert all(r[1] > 0 for r in reqs)
    assert {r[2] for r in reqs} == {0, 1}
    assert data["errors"] and all(k.startswith("/fail ") for k in data["errors"])
    assert sum(data["errors"].values()) == sum(1 for r in reqs if r[2] == 0)
    assert 0 < data["loadgen_cpu_fraction"] < 1.5
    assert data["loadgen_cpu_seconds"] > 0
    assert not list(tmp_path.glob(".result.json.*"))  # atomic write left no temp file


def test_max_requests_stops_early(tmp_path: Path, server_url: str) -> None:
    proc, out = run_runner(
        tmp_path, server_url, LOCUSTFILE, "--max-requests", "50", warmup="0", duration="20"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["stopped_early"] is True
    assert 0 < len(data["requests"]) <= 50 + 3


def test_no_user_classes_exits_2(tmp_path: Path) -> None:
    # Importing HttpUser alone must not count: it is abstract. Host is never contacted.
    proc, out = run_runner(tmp_path, "http://127.0.0.1:9", "from locust import HttpUser\nX = 1\n")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines and "no concrete User classes" in lines[-1]
    assert not out.exists()


def in_window(data: dict[str, Any]) -> list[list[float]]:
    return [r for r in data["requests"] if data["window_start"] <= r[0] < data["window_end"]]


def test_open_loop_fixed_arrival_rate(tmp_path: Path, server_url: str) -> None:
    lf = ONE_PATH.format(path="/ok")
    proc, out = run_runner(tmp_path, server_url, lf, "--arrival-rate", "50", users="5")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["mode"] == "open" and data["arrival_rate"] == 50.0
    assert abs(data["scheduled_in_window"] - 100) <= 1
    window = in_window(data)
    assert 90 <= len(window) <= 110
    assert all(r[2] == 1 for r in window)
    starts = sorted({r[0] for r in data["requests"]})
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert abs(statistics.median(gaps) - 0.02) <= 0.002
    assert data["late_starts"] < 10
    # Latency counts from the intended start, so it is never below the bare service time ~0.
    assert all(r[1] > 0 for r in window)


def test_open_loop_counts_coordinated_omission(tmp_path: Path, server_url: str) -> None:
    # One worker, 20 slots/s, 0.2 s per request: each request queues behind the previous ones.
    lf = ONE_PATH.format(path="/slow")
    proc, out = run_runner(
        tmp_path, server_url, lf, "--arrival-rate", "20", users="1", warmup="0", duration="2.5"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    window = in_window(data)
    assert window
    assert statistics.median(r[1] for r in window) > 2 * SLOW_S * 1000
    assert max(r[1] for r in window) > 4 * SLOW_S * 1000
    scheduled = data["scheduled_in_window"]
    assert abs(scheduled - 50) <= 1
    assert data["late_starts"] >= 0.8 * scheduled
    assert len(window) / scheduled < 0.5  # the orchestrator's achieved-rate check would fail

    # The same server driven closed-loop by one user hides the queueing: ≈ service time.
    closed_dir = tmp_path / "closed"
    closed_dir.mkdir()
    proc, out = run_runner(closed_dir, server_url, lf, users="1", warmup="0", duration="1.5")
    assert proc.returncode == 0, proc.stderr
    closed = json.loads(out.read_text())
    assert closed["mode"] == "closed"
    closed_window = in_window(closed)
    assert len(closed_window) >= 4
    assert SLOW_S * 1000 * 0.95 < statistics.median(r[1] for r in closed_window) < 300


@pytest.fixture()
def serial_url() -> Iterator[str]:
    """One request at a time, 10 ms each: a capacity of at most ~100 requests/s."""
    with serial_server() as url:
        yield url


def completions_before(data: dict[str, Any], epoch: float) -> int:
    return sum(1 for r in data["requests"] if r[0] + r[1] / 1000 <= epoch + 1e-6)


def test_the_window_opens_once_the_warmup_requests_have_completed(
    tmp_path: Path, serial_url: str
) -> None:
    lf = ONE_PATH.format(path="/ok")
    proc, out = run_runner(
        tmp_path, serial_url, lf, "--warmup-requests", "150", "--max-warmup", "10",
        users="2", warmup="0.2", duration="1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    waited = data["window_start"] - data["t0"]
    assert 0.8 < waited < 5, waited  # 150 requests at ~100/s, not the 0.2 s floor
    assert data["warmup_requests"] == 150 and data["warmup_capped"] is False
    # it opened on the completion of the 150th request (latencies are rounded to 1 µs)
    assert completions_before(data, data["window_start"]) in (150, 151)
    assert abs(data["window_end"] - data["window_start"] - 1.0) < 0.01


def test_a_closed_loop_window_extends_until_it_holds_min_requests(
    tmp_path: Path, serial_url: str
) -> None:
    lf = ONE_PATH.format(path="/ok")
    proc, out = run_runner(
        tmp_path, serial_url, lf, "--min-requests", "250", "--max-duration", "15",
        users="2", warmup="0.2", duration="1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    length = data["window_end"] - data["window_start"]
    assert 1.5 < length < 10, length  # ~2.5 s at ~100 requests/s
    assert data["capped"] is False and data["min_requests"] == 250
    assert data["window_requests"] == len(in_window(data)) >= 250
    # it ended on the completion of the 250th request that started inside it
    inside = sorted(r[0] + r[1] / 1000 for r in in_window(data))
    assert abs(inside[249] - data["window_end"]) < 0.005


@pytest.mark.slow
def test_a_window_stops_at_max_duration_and_says_so(tmp_path: Path, serial_url: str) -> None:
    lf = ONE_PATH.format(path="/ok")
    proc, out = run_runner(
        tmp_path, serial_url, lf, "--min-requests", "1000000", "--max-duration", "2.5",
        "--warmup-requests", "1000000", "--max-warmup", "1",
        users="2", warmup="0.2", duration="1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert abs(data["window_start"] - data["t0"] - 1.0) < 0.01  # the warm-up's cap
    assert abs(data["window_end"] - data["window_start"] - 2.5) < 0.01
    assert data["warmup_capped"] is True and data["capped"] is True
    assert 0 < data["window_requests"] < 1_000_000


def test_an_open_loop_window_is_sized_up_front_from_min_requests(
    tmp_path: Path, server_url: str
) -> None:
    lf = ONE_PATH.format(path="/ok")
    proc, out = run_runner(
        tmp_path, server_url, lf, "--arrival-rate", "100", "--min-requests", "200",
        "--max-duration", "10", users="5", warmup="0.2", duration="1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert abs(data["window_end"] - data["window_start"] - 2.0) < 1e-6  # 200 / 100 req/s
    assert abs(data["scheduled_in_window"] - 200) <= 1 and data["capped"] is False


def test_no_wait_replaces_the_locustfiles_think_time(tmp_path: Path, server_url: str) -> None:
    slow_thinker = ONE_PATH.format(path="/ok").replace("constant(0)", "constant(5)")
    proc, out = run_runner(
        tmp_path, server_url, slow_thinker, "--no-wait", users="1", warmup="0", duration="1"
    )
    assert proc.returncode == 0, proc.stderr
    assert len(in_window(json.loads(out.read_text()))) > 20  # not one request per 5 s


def _client_time_waits(server_port: int) -> int:
    """TIME_WAIT sockets whose remote end is the server: the load generator's closed ones."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            remote, state = fields[2], fields[3]
            if state == "06" and int(remote.rsplit(":", 1)[1], 16) == server_port:
                count += 1
    return count


def test_client_connections_close_without_leaving_time_wait(tmp_path: Path) -> None:
    """A server that closes every connection: the load generator resets its side, so a trial
    leaves no TIME_WAIT sockets to slow the next trial's connects (gunicorn's sync workers)."""
    with serial_server() as url:
        port = int(url.rsplit(":", 1)[1])
        lf = ONE_PATH.format(path="/ok")
        proc, out = run_runner(tmp_path, url, lf, users="4", warmup="0.2", duration="1")
        assert proc.returncode == 0, proc.stderr
        data = json.loads(out.read_text())
        assert len(data["requests"]) > 20 and all(r[2] for r in data["requests"])
        assert _client_time_waits(port) == 0


# --- --serve: one process, many trials (mutbot.load keeps one for a whole run) -------------

COUNTING = """
import counter
from locust import HttpUser, constant, task

counter.trials += 1
print("a locustfile that prints: trial", counter.trials)


class Visitor(HttpUser):
    wait_time = constant(0.01)

    @task
    def hit(self):
        self.client.get("/ok?trial=%d" % counter.trials)
"""


def serve_command(tmp_path: Path, host: str, name: str, locustfile: str) -> dict[str, Any]:
    lf = tmp_path / f"{name}.py"
    lf.write_text(locustfile)
    argv = [
        *("--locustfile", str(lf), "--host", host, "--users", "2", "--spawn-rate", "100"),
        *("--duration", "0.5", "--warmup", "0.2", "--out", str(tmp_path / f"{name}.json")),
    ]
    return {"argv": argv, "log": str(tmp_path / f"{name}.log"), "cwd": str(tmp_path)}


def test_a_served_process_runs_trials_one_after_the_other_each_on_fresh_state(
    tmp_path: Path, server_url: str
) -> None:
    (tmp_path / "counter.py").write_text("trials = 0\n")  # a module the locustfile imports
    commands = [
        serve_command(tmp_path, server_url, "first", COUNTING),
        serve_command(tmp_path, server_url, "broken", "from locust import HttpUser\n"),
        serve_command(tmp_path, server_url, "second", COUNTING),
    ]
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "--serve"],
        input="".join(json.dumps(c) + "\n" for c in commands),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr  # at the end of its input
    # two answers a command, nothing else: the locustfile's print went to the trial's log
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert all(set(r) == {"received"} for r in replies[::2])  # each trial began, then...
    assert replies[1::2] == [
        {"code": 0},
        {"code": 2},  # a locustfile that cannot run fails its trial, not the process
        {"code": 0},
    ]
    assert "no concrete User classes" in (tmp_path / "broken.log").read_text()
    for name in ("first", "second"):
        log = (tmp_path / f"{name}.log").read_text()
        assert "a locustfile that prints: trial 1" in log  # its modules imported afresh
        assert "trial 2" not in log
        data = json.loads((tmp_path / f"{name}.json").read_text())
        # fresh Locust state: only this trial's requests, counted from this trial's start
        assert data["requests"] and all(r[0] >= data["t0"] for r in data["requests"])
        assert data["timings"]["received"] <= data["t0"] <= data["timings"]["stopped"]
    first, second = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("first", "second"))
    assert first["timings"]["imported"] == second["timings"]["imported"]  # one process
    assert second["t0"] >= first["window_end"]


def test_a_served_process_exits_on_a_command_it_cannot_read(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "--serve"],
        input='{"argv": []}\n',
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 64
    assert json.loads(proc.stdout.splitlines()[-1])["code"] == 64
