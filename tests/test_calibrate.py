"""Tests for src/mutbot/calibrate.py: the load plan (pure) and the capacity ramp against real
HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mutbot.calibrate import (
    MAX_WARMUP_S,
    RAMP_S,
    Calibration,
    LoadPlan,
    Ramp,
    calibrate_run,
    calibrated_plan,
    calibration_record,
    capacity,
    fixed_plan,
    load_record,
    min_requests_for,
    ramp_plan,
    read_ramp,
)
from mutbot.cli import main
from mutbot.config import Load, load_config
from mutbot.errors import ConfigError, LoadError
from mutbot.load import LoadRun, drive
from mutbot.metrics import OBJECTIVES, RawLoad
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import QUICK_LOAD, edit_config, make_repo, write_candidates
from testing.serial_server import serial_server

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pricing"


def load(**keys: object) -> Load:
    return Load.model_validate({"locustfile": "locustfile.py", **keys})


def test_min_requests_hold_100_samples_beyond_the_percentile_judged() -> None:
    assert min_requests_for("latency_p95_ms") == 2_000
    assert min_requests_for("latency_p99_ms") == 10_000
    assert min_requests_for("latency_p50_ms") == 200
    assert min_requests_for("throughput_rps") == 1_000
    assert min_requests_for("cpu_ms_per_request") == 1_000


def test_a_config_that_fixes_neither_users_nor_a_rate_is_calibrated() -> None:
    assert fixed_plan(load(), "latency_p95_ms") is None
    assert load().users is None and load().fraction == 0.5


def test_fixed_users_without_seconds_get_windows_sized_by_request_count() -> None:
    plan = fixed_plan(load(users=20), "latency_p95_ms")
    assert plan is not None
    assert (plan.mode, plan.users, plan.arrival_rate, plan.chosen) == (
        "closed",
        20,
        None,
        "fixed by load.users",
    )
    assert (plan.warmup, plan.warmup_requests, plan.max_warmup) == (1.0, 200, MAX_WARMUP_S)
    assert (plan.duration, plan.min_requests, plan.max_duration) == (5.0, 2_000, 20.0)
    assert plan.window() == (5.0, 20.0)
    assert plan.record()["duration"] == "5s to 20s, until 2000 requests"
    assert plan.record()["warmup"] == "1s and 200 requests (at most 5s)"
    # never longer than today's init default: 5 s of warm-up and a 20 s window
    assert plan.max_warmup + plan.max_duration <= 25.0


def test_seconds_written_in_the_config_are_what_it_gets() -> None:
    """The bundled examples write duration and warmup: their trials stay as long as before."""
    example = load_config(EXAMPLE / ".mutbot.yml")
    plan = fixed_plan(example.load, example.objective.primary)
    assert plan is not None and plan.mode == "closed" and plan.users == 20
    assert (plan.warmup, plan.max_warmup, plan.warmup_requests) == (1.0, 1.0, 0)
    assert (plan.duration, plan.max_duration, plan.min_requests) == (3.0, 3.0, 0)
    assert plan.record() == {
        "users": 20,
        "spawn_rate": 20.0,
        "duration": "3s",
        "warmup": "1s",
        "model": "closed",
        "chosen": "fixed by load.users",
    }


def test_request_counts_written_next_to_seconds_are_honoured() -> None:
    plan = fixed_plan(
        load(users=4, duration=30, warmup=2, min_requests=500, warmup_requests=50),
        "latency_p95_ms",
    )
    assert plan is not None
    assert (plan.warmup, plan.max_warmup, plan.warmup_requests) == (2.0, 5.0, 50)
    # max_duration (20 s) is never below duration
    assert (plan.duration, plan.min_requests, plan.max_duration) == (30.0, 500, 30.0)
    assert plan.record()["duration"] == "30s, until 500 requests"
    assert plan.record()["warmup"] == "2s and 50 requests (at most 5s)"


def test_a_fixed_rate_gets_an_open_loop_window_computed_up_front() -> None:
    plan = fixed_plan(load(arrival_rate=100), "latency_p95_ms")
    assert plan is not None
    assert (plan.mode, plan.chosen) == ("open", "fixed by load.arrival_rate")
    assert plan.users == 50 and plan.spawn_rate == 50.0  # 2 x 100 req/s x 0.25 s
    assert plan.window() == (20.0, 20.0)  # 2,000 requests would need 20 s
    assert plan.record()["model"] == "open, 100 req/s"
    with_users = fixed_plan(load(arrival_rate=400, users=30, spawn_rate=5), "latency_p50_ms")
    assert with_users is not None and (with_users.users, with_users.spawn_rate) == (30, 5.0)
    assert with_users.window() == (5.0, 5.0)  # 200 requests in 0.5 s: the 5 s floor


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"fraction": 0}, "load.fraction: expected a share of the capacity above 0"),
        ({"fraction": "100%"}, "load.fraction: expected a fraction from 0 to below 1"),
        ({"max_duration": "0s"}, "load.max_duration: expected a duration above zero"),
        ({"min_requests": -1}, "load.min_requests: expected a value at least 0, got -1"),
        ({"warmup_requests": "many"}, "load.warmup_requests: "),
        ({"users": None, "ramp": 3}, "load.ramp: "),
    ],
)
def test_new_load_keys_are_checked(tmp_path: Path, keys: dict[str, object], expected: str) -> None:
    data = {"version": 1, "targets": ["Dockerfile"], "load": {"locustfile": "lf.py", **keys}}
    path = tmp_path / ".mutbot.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)


@given(st.sampled_from(sorted(OBJECTIVES)), st.booleans(), st.booleans())
def test_default_wall_time_never_passes_todays(primary: str, users: bool, rate: bool) -> None:
    keys: dict[str, object] = {"users": 7} if users else {}
    keys |= {"arrival_rate": 50.0} if rate else {}
    plan = fixed_plan(load(**keys), primary) or calibrated_plan(
        load(), primary, Ramp(300.0, 0.05, 0.3, 2400, 0), 12.0
    )
    shortest, longest = plan.window()
    assert plan.warmup <= plan.max_warmup <= MAX_WARMUP_S
    assert 0 < shortest <= longest <= plan.max_duration <= 20.0


def buckets(counts: list[int], start: float = 1_000.0) -> list[float]:
    """Completions spread evenly inside each 1-second bucket."""
    return [start + i + (k + 0.5) / n for i, n in enumerate(counts) for k in range(n)]


def test_capacity_is_the_plateau_not_the_ramp_nor_a_stall() -> None:
    # users ramp up for 3 s, then a plateau of ~400/s with one stalled second
    assert capacity(buckets([90, 210, 330, 405, 398, 30, 402, 396]), 1_000.0, 8) == 400.0
    assert capacity(buckets([100] * 8), 1_000.0, 8) == 100.0
    assert capacity([], 1_000.0, 8) == 0.0
    # completions outside [start, start + seconds) do not count
    assert capacity([*buckets([50, 50]), 999.5, 1_002.0], 1_000.0, 2) == 50.0


@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=12))
def test_capacity_lies_between_the_median_and_the_best_bucket(counts: list[int]) -> None:
    found = capacity(buckets(counts), 1_000.0, len(counts))
    ordered = sorted(counts)
    assert ordered[(len(counts) - 1) // 2] <= found <= ordered[-1]
    assert found == capacity(list(reversed(buckets(counts))), 1_000.0, len(counts))


def test_a_calibrated_plan_is_open_loop_at_the_fraction_of_the_capacity() -> None:
    ramp = Ramp(capacity_rps=412.0, mean_latency_s=0.15, loadgen_cpu_fraction=0.6, requests=3000,
                failed=0)  # fmt: skip
    plan = calibrated_plan(load(), "latency_p95_ms", ramp, 10.04)
    assert plan.chosen == "calibrated: capacity 412 req/s, open loop at 50% = 206 req/s"
    assert (plan.mode, plan.arrival_rate) == ("open", 206.0)
    assert plan.users == 62 and plan.spawn_rate == 62.0  # 2 x 206 req/s x 0.15 s
    shortest, longest = plan.window()
    assert shortest == longest == pytest.approx(2_000 / 206)
    assert plan.record()["duration"] == "9.7s (2000 requests at 206 req/s)"
    assert calibration_record(plan) == {
        "capacity_rps": 412.0,
        "rate_rps": 206.0,
        "fraction": 0.5,
        "loadgen_saturated": False,
        "loadgen_cpu_fraction": 0.6,
        "ramp_seconds": 10.0,
    }
    assert load_record(plan, load(), "latency_p95_ms")["chosen"] == plan.chosen


def test_a_saturated_load_generator_is_said_and_a_tiny_capacity_still_gives_workers() -> None:
    ramp = Ramp(capacity_rps=3.0, mean_latency_s=0.0, loadgen_cpu_fraction=0.95, requests=24,
                failed=0)  # fmt: skip
    plan = calibrated_plan(load(fraction="30%"), "throughput_rps", ramp, 9.0)
    assert plan.chosen.endswith(
        "= 0.9 req/s (the load generator saturated in the ramp: the capacity is at least this)"
    )
    assert plan.users == 8  # the smallest pool
    assert plan.window() == (20.0, 20.0)  # 1,000 requests at 0.9/s: the cap
    assert plan.record()["duration"] == (
        "20s (18 requests at 0.9 req/s; 1000 wanted, cut at load.max_duration)"
    )
    assert plan.calibration == Calibration(3.0, 0.9, 0.3, 0.95, 9.0)
    assert plan.calibration.loadgen_saturated


def test_a_run_stopped_before_calibrating_says_so() -> None:
    assert load_record(None, load(), "latency_p95_ms")["chosen"] == (
        "calibrated, but the run stopped before the ramp"
    )
    assert load_record(None, load(users=3), "latency_p95_ms")["chosen"] == "fixed by load.users"
    assert calibration_record(None) is None


def test_the_ramp_reads_successes_inside_its_window() -> None:
    ok = [(1_000.0 + i / 100, 10.0, True) for i in range(800)]  # 100/s for 8 s
    failed = [(1_000.0 + i / 10, 1.0, False) for i in range(80)]
    run = LoadRun(RawLoad(1_000.0, 1_008.0, ok + failed), 0.5, {}, None)
    ramp = read_ramp(run)
    assert ramp.capacity_rps == 100.0
    assert ramp.mean_latency_s == pytest.approx(0.010)
    assert (ramp.requests, ramp.failed, ramp.loadgen_cpu_fraction) == (880, 80, 0.5)


# ---- the ramp against real servers on 127.0.0.1 ----

ONE_PATH = """
from locust import HttpUser, between, task


class Visitor(HttpUser):
    wait_time = between(1, 2)  # the ramp replaces it: capacity, not the locustfile's pace

    @task
    def hit(self):
        self.client.get("/ok")
"""


@pytest.fixture()
def serial_url() -> Iterator[str]:
    """One request at a time, 10 ms each: a capacity of at most ~100 requests/s."""
    with serial_server() as url:
        yield url


class Served:
    """An Instance that is the in-process server; remembers being stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stopped = 0

    def failure(self) -> str | None:
        return None

    def stop(self) -> None:
        self.stopped += 1


def context(tmp_path: Path, url: str, locustfile: str, **load_keys: object) -> SimpleNamespace:
    lf = tmp_path / "locustfile.py"
    lf.write_text(locustfile)
    config = SimpleNamespace(
        load=load(**load_keys),
        objective=SimpleNamespace(primary="latency_p95_ms"),
        sandbox=SimpleNamespace(health="/ok", startup_timeout=5.0),
    )
    instance = Served(url)
    backend = SimpleNamespace(start=lambda artifact, log: instance)
    return SimpleNamespace(
        config=config,
        backend=backend,
        run_dir=tmp_path / "run",
        plan=SimpleNamespace(locustfile=lf, load_cores=None),
        reporter=RecordingReporter(),
        instance=instance,
    )


@pytest.mark.slow
def test_calibration_finds_the_capacity_of_a_service_that_serves_100_per_second(
    tmp_path: Path, serial_url: str
) -> None:
    ctx = context(tmp_path, serial_url, ONE_PATH)
    baseline = SimpleNamespace(artifact=object())
    started = time.monotonic()
    plan: LoadPlan = calibrate_run(ctx, baseline)  # type: ignore[arg-type]
    took = time.monotonic() - started
    assert ctx.instance.stopped == 1
    assert plan.calibration is not None
    assert 60 <= plan.calibration.capacity_rps <= 105, plan.chosen
    assert plan.arrival_rate == pytest.approx(plan.calibration.capacity_rps / 2, abs=0.1)
    assert plan.mode == "open" and 8 <= plan.users <= 200
    assert RAMP_S <= took < RAMP_S + 6
    raw = json.loads((tmp_path / "run" / "raw" / "calibration.json").read_text())
    assert raw["users"] == 64 and raw["warmup_requests"] == 0
    assert any("load calibrated: capacity" in note for note in ctx.reporter.notes)


@pytest.mark.slow
def test_the_instance_is_stopped_when_no_ramp_request_succeeds(
    tmp_path: Path, serial_url: str
) -> None:
    ctx = context(tmp_path, serial_url, ONE_PATH.replace('"/ok"', '"/missing"'))
    with pytest.raises(LoadError) as info:
        calibrate_run(ctx, SimpleNamespace(artifact=object()))  # type: ignore[arg-type]
    assert ctx.instance.stopped == 1
    assert str(info.value).startswith(
        f"calibration: no request succeeded in the {RAMP_S:g}s ramp on the baseline ("
    )
    assert "404" in str(info.value) and str(info.value).endswith("fix the load with load.users")


def test_a_fixed_load_starts_nothing(tmp_path: Path) -> None:
    ctx = context(tmp_path, "http://127.0.0.1:9", ONE_PATH, users=5)
    plan = calibrate_run(ctx, SimpleNamespace(artifact=None))  # type: ignore[arg-type]
    assert plan.chosen == "fixed by load.users" and ctx.instance.stopped == 0


def test_the_ramp_plan_drives_a_real_server(tmp_path: Path, serial_url: str) -> None:
    lf = tmp_path / "locustfile.py"
    lf.write_text(ONE_PATH)
    short = ramp_plan().lasting(1.5)
    assert short.no_wait and short.users == 64
    run = drive(serial_url, lf, short, tmp_path / "out.json", tmp_path / "log", None)
    assert len(run.raw.requests) > 30 and not run.capped


# ---- end to end on the pricing example, local backend ----

CALIBRATED = {"  users: 20\n": "", "  spawn_rate: 20\n": ""}  # the example, calibrated


@pytest.mark.slow
def test_doctor_ramps_a_config_without_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_repo(tmp_path / "repo")
    edit_config(project, CALIBRATED)
    code = main(["doctor", "--repo", str(project), "--backend", "local"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    line = next(line for line in lines if line.startswith("✓ load"))
    assert re.search(
        r"\d+ requests in 8s, p95 \d+ ms, 0 failed; calibrated: capacity [\d.]+ req/s, "
        r"open loop at 50% = [\d.]+ req/s",
        line,
    ), line


@pytest.mark.slow
def test_a_run_without_users_is_calibrated_once_and_every_trial_is_open_loop(
    tmp_path: Path,
) -> None:
    project = make_repo(tmp_path / "repo")
    quick = {"aa_pairs: 3 ": "aa_pairs: 0 ", "screen_pairs: 3": "screen_pairs: 1"}
    edit_config(project, {**CALIBRATED, **QUICK_LOAD, **quick})
    mutations = write_candidates(tmp_path / "c.json", ["Serve requests from 8 worker threads"])
    reporter = RecordingReporter()
    result = execute(
        RunOptions(project, mutations, out=tmp_path / "out", backend="local"), reporter
    )
    assert result.calibration is not None
    capacity_rps, rate = result.calibration["capacity_rps"], result.calibration["rate_rps"]
    assert isinstance(capacity_rps, float) and 5 < capacity_rps < 2_000
    assert rate == pytest.approx(capacity_rps / 2, abs=0.1)
    assert result.load["model"] == f"open, {rate:g} req/s"
    assert str(result.load["chosen"]).startswith("calibrated: capacity ")
    assert result.load["duration"] == "2s" and result.load["warmup"] == "500ms"  # as written
    assert sum("load calibrated: capacity" in note for note in reporter.notes) == 1
    raws = list((tmp_path / "out" / "raw").rglob("*.json"))
    trials = [json.loads(p.read_text()) for p in raws if p.name != "calibration.json"]
    assert trials and all(t["mode"] == "open" and t["arrival_rate"] == rate for t in trials)
