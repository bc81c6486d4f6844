from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from mutbot import load
from mutbot.calibrate import LoadPlan, fixed_plan
from mutbot.config import Load
from mutbot.errors import LoadError
from mutbot.load import drive, runner_path


def test_the_orchestrator_never_imports_locust_or_gevent() -> None:
    """Locust monkey-patches the whole process with gevent; it must stay in its own process."""
    code = (
        "import sys, mutbot.cli, mutbot.run, mutbot.load, mutbot.backends; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_runner_ships_with_the_package() -> None:
    assert runner_path().is_file()


def test_a_broken_locustfile_is_a_load_error_with_its_reason(tmp_path: Path) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text("from locust import HttpUser\n")  # no concrete user class
    load = fixed_plan(Load(locustfile="locustfile.py", users=1, duration=1, warmup=0), "")
    assert load is not None
    with pytest.raises(LoadError) as info:
        drive(
            "http://127.0.0.1:9",
            locustfile,
            load,
            tmp_path / "out.json",
            tmp_path / "locust.log",
            None,
        )
    assert str(info.value) == (
        "the load generator failed (exit code 2): locust_runner: no concrete User classes "
        f"with tasks in {locustfile}"
    )


ONE_PATH = """
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.01)

    @task
    def hit(self):
        self.client.get("/")
"""


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def generators() -> Iterator[None]:
    """No runner process of an earlier test, and none left after this one."""
    load.close()
    yield
    load.close()


def short_load(seconds: float = 0.5) -> LoadPlan:
    plan = fixed_plan(Load(locustfile="locustfile.py", users=2, duration=seconds, warmup=0.2), "")
    assert plan is not None
    return plan


def test_one_runner_process_drives_trial_after_trial_and_close_leaves_none(
    tmp_path: Path, server_url: str, generators: None
) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(ONE_PATH)
    runs, pids = [], []
    for name in ("a", "b"):
        runs.append(
            drive(server_url, locustfile, short_load(), tmp_path / f"{name}.json",
                  tmp_path / f"{name}.log", None)
        )  # fmt: skip
        pids.append(load.processes())
    assert len(pids[0]) == 1 and pids[0] == pids[1]  # the same process, still there
    [pid] = pids[0]
    process = psutil.Process(pid)
    assert os.getpgid(pid) == pid  # a session of its own: Ctrl-C goes to mutbot alone
    # recorded where the reaper looks, as the local backend records its services
    records = list(Path(tempfile.gettempdir()).glob(f"mutbot-proc-*/group-{pid}.json"))
    assert len(records) == 1
    for run in runs:
        assert run.raw.requests and all(r[0] >= run.timings["t0"] for r in run.raw.requests)
        assert run.raw.window_end - run.raw.window_start == pytest.approx(0.5, abs=0.01)
    assert "spawned" in runs[0].timings and "spawned" not in runs[1].timings
    assert runs[1].timings["received"] >= runs[0].timings["answered"]

    load.close()

    assert load.processes() == []
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert not records[0].parent.exists()


def test_a_trial_that_fails_in_the_locustfile_keeps_the_process(
    tmp_path: Path, server_url: str, generators: None
) -> None:
    broken, working = tmp_path / "broken" / "locustfile.py", tmp_path / "locustfile.py"
    broken.parent.mkdir()
    broken.write_text("from locust import HttpUser\n")
    working.write_text(ONE_PATH)
    with pytest.raises(LoadError, match="exit code 2"):
        drive(server_url, broken, short_load(), tmp_path / "x.json", tmp_path / "x.log", None)
    [pid] = load.processes()
    run = drive(server_url, working, short_load(), tmp_path / "y.json", tmp_path / "y.log", None)
    assert run.raw.requests and load.processes() == [pid]


def test_an_interrupted_trial_takes_its_runner_process_with_it(
    tmp_path: Path, server_url: str, generators: None
) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(ONE_PATH)
    drive(server_url, locustfile, short_load(), tmp_path / "a.json", tmp_path / "a.log", None)
    [pid] = load.processes()

    def ctrl_c(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, ctrl_c)
    signal.setitimer(signal.ITIMER_REAL, 0.5)  # well inside the trial's 5 s
    try:
        with pytest.raises(KeyboardInterrupt):
            drive(server_url, locustfile, short_load(5), tmp_path / "b.json", tmp_path / "b.log",
                  None)  # fmt: skip
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert load.processes() == []
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # the next trial starts a fresh one
    run = drive(server_url, locustfile, short_load(), tmp_path / "c.json", tmp_path / "c.log", None)
    assert run.raw.requests and "spawned" in run.timings
    assert load.processes() != [pid]


def test_a_runner_process_killed_while_idle_is_replaced_before_the_next_trial(
    tmp_path: Path, server_url: str, generators: None
) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(ONE_PATH)
    drive(server_url, locustfile, short_load(), tmp_path / "a.json", tmp_path / "a.log", None)
    [pid] = load.processes()
    os.kill(pid, signal.SIGKILL)  # from outside (the OOM killer, a user)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)  # dead, not yet reaped: as the next drive finds it
    run = drive(server_url, locustfile, short_load(), tmp_path / "b.json", tmp_path / "b.log", None)
    assert run.raw.requests and "spawned" in run.timings
    assert load.processes() != [pid] and len(load.processes()) == 1


def test_a_runner_process_that_is_gone_says_so_before_any_trial(tmp_path: Path) -> None:
    records = tmp_path / "records"
    records.mkdir()
    generator = load.Generator(None, tmp_path / "runner.log", records)
    try:
        os.kill(generator.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            psutil.Process(generator.process.pid).status() != psutil.STATUS_ZOMBIE
        ):
            time.sleep(0.01)
        with pytest.raises(load.Gone):  # drive then starts a fresh one for the same trial
            generator.run(["--help"], tmp_path / "trial.log", tmp_path, 10)
    finally:
        generator.close()
    assert not list(records.glob("group-*.json"))  # its record for the reaper is gone too
