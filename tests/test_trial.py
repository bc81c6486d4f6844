from __future__ import annotations

import itertools
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mutbot.errors import TrialInvalid
from mutbot.load import LoadRun
from mutbot.metrics import RawLoad
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from mutbot.trial import (
    FIRST_POLL_S,
    MAX_POLL_S,
    check_valid,
    poll_delays,
    trial_timings,
    wait_healthy,
)
from testing.reporters import RecordingReporter
from testing.repos import QUICK_LOAD, edit_config, git, make_repo, write_candidates


def load_run(cpu: float, sent: int, scheduled: int | None) -> LoadRun:
    requests = [(10.0 + i * 0.01, 5.0, True) for i in range(sent)]
    return LoadRun(
        raw=RawLoad(10.0, 20.0, requests),
        loadgen_cpu_fraction=cpu,
        errors={},
        scheduled_in_window=scheduled,
    )


def test_a_saturated_load_generator_or_a_missed_arrival_rate_invalidates_a_trial() -> None:
    check_valid(load_run(0.5, 100, None))
    check_valid(load_run(0.9, 97, 100))
    with pytest.raises(TrialInvalid, match=r"load generator saturated \(93% CPU\)"):
        check_valid(load_run(0.93, 100, None))
    with pytest.raises(TrialInvalid, match="achieved 96% of the target arrival rate"):
        check_valid(load_run(0.5, 96, 100))


BUSY_TASK = """

    @task(50)
    def burn(self) -> None:  # keeps the load generator itself busy
        end = time.perf_counter() + 0.2
        while time.perf_counter() < end:
            pass
"""


@pytest.mark.slow
def test_invalid_pairs_are_measured_again_then_the_candidate_is_rejected(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    locustfile = project / "loadtest" / "locustfile.py"
    locustfile.write_text("import time\n" + locustfile.read_text() + BUSY_TASK)
    git(project, "commit", "-qam", "a load generator that saturates its own core")
    rerun_once = {"judge:\n": "judge:\n  max_reruns: 1\n", "users: 20": "users: 4"}
    edit_config(project, {**QUICK_LOAD, **rerun_once})
    mutations = write_candidates(tmp_path / "c.json", ["Serve requests from 8 worker threads"])
    result = execute(
        RunOptions(project, mutations, out=tmp_path / "out", backend="local"), RecordingReporter()
    )
    cand = result.candidates[0]
    assert (cand.verdict, cand.stage) == ("reject", "load")
    # Which pair gives up depends on how busy the machine is; that one pair failed twice does not.
    found = re.match(
        r"confirm pair (\d+) invalid 2 times: load generator saturated \(", cand.reason
    )
    assert found, cand.reason
    pair = int(found.group(1)) - 1
    assert [t.pair for t in cand.invalid_trials][-2:] == [pair, pair]
    assert all(t.reason.startswith("load generator saturated") for t in cand.invalid_trials)


def test_health_polls_start_within_milliseconds_and_back_off_to_a_cap() -> None:
    delays = list(itertools.islice(poll_delays(), 60))
    assert delays[0] == FIRST_POLL_S <= 0.02
    assert delays == sorted(delays) and delays[-1] == MAX_POLL_S
    # ten polls in the time the old fixed pause made one
    assert sum(delays[:10]) == pytest.approx(0.1)


class _Instance:
    """Healthy on the `answers_after`-th poll; counts the crash checks (a Docker API call)."""

    def __init__(self, answers_after: int) -> None:
        self.polls = 0
        self.answers_after = answers_after
        self.checks = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.polls += 1
                self.send_response(200 if outer.polls >= outer.answers_after else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def failure(self) -> str | None:
        self.checks += 1
        return None


def test_wait_healthy_sleeps_the_backoff_between_polls_and_returns_on_the_first_2xx() -> None:
    instance = _Instance(answers_after=5)
    slept: list[float] = []
    try:
        seconds = wait_healthy(instance, "/healthz", 30, sleep=slept.append)  # type: ignore[arg-type]
    finally:
        instance.server.shutdown()
        instance.server.server_close()
    assert instance.polls == 5
    assert slept == list(itertools.islice(poll_delays(), 4))
    assert 0 <= seconds < 30
    assert 1 <= instance.checks <= 5  # still checked for a crash, at most once a poll


def test_a_trials_timings_split_the_load_step_into_the_load_generators_phases() -> None:
    laps = {"start": 0.5, "healthy": 0.3, "load": 5.0, "teardown": 0.4}
    epochs = {
        "called": 100.0,
        "spawned": 100.01,
        "imported": 100.6,
        "received": 100.61,
        "t0": 100.7,
        "window_start": 101.7,
        "window_end": 104.7,
        "stopped": 104.8,
        "answered": 104.9,
        "parsed": 105.0,
    }
    timings = trial_timings(laps, epochs)
    assert list(timings) == [
        "start", "healthy", "loadgen_spawn", "loadgen_command", "loadgen_setup", "warmup",
        "window", "loadgen_quit", "loadgen_write", "parse", "teardown", "total",
    ]  # fmt: skip
    assert timings["loadgen_spawn"] == pytest.approx(0.59)
    assert timings["loadgen_command"] == pytest.approx(0.01)  # after the spawn, not the call
    assert (timings["warmup"], timings["window"]) == (pytest.approx(1.0), pytest.approx(3.0))
    assert timings["total"] == pytest.approx(6.2)
    # a process that served an earlier trial: no spawn, the command from the call
    reused = {k: v for k, v in epochs.items() if k not in ("spawned", "imported")}
    again = trial_timings(laps, reused)
    assert "loadgen_spawn" not in again
    assert again["loadgen_command"] == pytest.approx(0.61)
