from __future__ import annotations

import os
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mutbot.backends.base import CorePlan, plan_cores
from mutbot.backends.local_backend import LocalBackend
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError, StageFailure
from mutbot.trial import wait_healthy
from testing.services import write_service


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's own tmp_path is private to root), as
    the run's copies are."""
    folder = Path(tempfile.mkdtemp(prefix="test-local-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def make(tmp_path: Path, memory: str = "256m", mode: str = "ok") -> tuple[LocalBackend, Path]:
    sandbox = Sandbox.model_validate({"local_command": "python server.py", "memory": memory})
    cores = plan_cores(1, sorted(os.sched_getaffinity(0)))
    return LocalBackend(sandbox, "t-local", cores), write_service(tmp_path / "svc", mode=mode)


def test_runs_the_command_on_a_free_port_with_a_scrubbed_environment(
    tmp_path: Path, reachable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    backend, project = make(reachable)
    artifact = backend.build(project, "unused", tmp_path / "build.log")
    try:
        instance = backend.start(artifact, tmp_path / "service.log")
        assert instance.url.startswith("http://127.0.0.1:")
        wait_healthy(instance, "/", 10)
        with urllib.request.urlopen(instance.url + "/env", timeout=5) as response:
            names = set(response.read().decode().split())
        assert "ANTHROPIC_API_KEY" not in names and "PORT" in names
        if backend.cores.service and hasattr(os, "sched_getaffinity"):
            assert os.sched_getaffinity(instance.process.pid) == set(backend.cores.service)
        instance.start_sampling()
        time.sleep(0.6)
        samples = instance.stop_sampling()
        assert len(samples) >= 2 and samples[0].memory_bytes > 0
    finally:
        backend.close()
    assert instance.process.poll() is not None


def test_the_memory_watchdog_kills_the_process_group(tmp_path: Path, reachable: Path) -> None:
    backend, project = make(reachable, memory="96m")
    try:
        instance = backend.start(
            backend.build(project, "x", tmp_path / "b.log"), tmp_path / "s.log"
        )
        wait_healthy(instance, "/", 10)
        with pytest.raises(OSError):
            urllib.request.urlopen(instance.url + "/hog", timeout=10).read()
        deadline = time.monotonic() + 5
        while instance.failure() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert instance.failure() == "killed for memory (limit 96m)"
    finally:
        backend.close()


def test_crash_at_start_and_failing_tests(tmp_path: Path, reachable: Path) -> None:
    backend, project = make(reachable, mode="crash")
    artifact = backend.build(project, "x", tmp_path / "b.log")
    try:
        instance = backend.start(artifact, tmp_path / "s.log")
        with pytest.raises(StageFailure) as info:
            wait_healthy(instance, "/", 10)
        assert info.value.reason == "crashed: exit code 3 during start-up"
        backend.run_tests(artifact, "python -c 'print(1)'", 10, tmp_path / "t.log")
        with pytest.raises(StageFailure) as info:
            backend.run_tests(
                artifact,
                "python -c 'import sys; print(\"boom\"); sys.exit(2)'",
                10,
                tmp_path / "t.log",
            )
        assert info.value.reason == "tests failed (exit code 2): boom"
        with pytest.raises(StageFailure) as info:
            backend.run_tests(artifact, "sleep 20", 0.5, tmp_path / "t.log")
        assert info.value.reason == "timed out after 0.5s"
    finally:
        backend.close()


def test_needs_a_command() -> None:
    with pytest.raises(ConfigError, match=r"needs sandbox\.local_command"):
        LocalBackend(Sandbox(), "x", CorePlan(None, None))


def test_the_old_meaning_of_command_says_what_to_write_instead() -> None:
    """`sandbox.command` used to be the local backend's; it is now the container's command."""
    sandbox = Sandbox.model_validate({"command": "python app.py --port 8080"})
    with pytest.raises(ConfigError) as refused:
        LocalBackend(sandbox, "x", CorePlan(None, None))
    assert str(refused.value) == (
        "sandbox.command is the container's command (docker backend); the local backend starts "
        "sandbox.local_command: write `local_command: python app.py --port 8080` in the sandbox "
        "section"
    )


def test_services_need_docker() -> None:
    sandbox = Sandbox.model_validate(
        {"local_command": "python app.py", "services": {"db": {"image": "postgres:16"}}}
    )
    with pytest.raises(ConfigError, match=r"cannot start services \(db\): they run from images"):
        LocalBackend(sandbox, "x", CorePlan(None, None))


def test_core_plan_keeps_a_core_for_the_load_generator() -> None:
    assert plan_cores(1, [0, 1]) == CorePlan(service=(1,), load=(0,))
    assert plan_cores(1.5, [0, 1, 2, 3]) == CorePlan(service=(2, 3), load=(0, 1))
    assert plan_cores(2, [0, 1]) == CorePlan(None, None)
    assert plan_cores(1, [0]) == CorePlan(None, None)


def test_a_change_the_local_backend_would_not_use_is_not_measured_as_an_a_a(
    tmp_path: Path,
) -> None:
    backend, project = make(tmp_path)
    try:
        with pytest.raises(StageFailure) as info:
            backend.build(project, "x", tmp_path / "b.log", ("config/server.ini", "Dockerfile"))
        assert (info.value.stage, info.value.reason) == (
            "build",
            "the local backend does not use Dockerfile; measure this change with --backend docker",
        )
        backend.build(project, "x", tmp_path / "b.log", ("config/server.ini",))
    finally:
        backend.close()


def test_the_windows_end_is_sampled_when_asked_and_release_stops_at_once(
    tmp_path: Path, reachable: Path
) -> None:
    backend, project = make(reachable)
    try:
        artifact = backend.build(project, "x", tmp_path / "b.log")
        instance = backend.start(artifact, tmp_path / "s.log")
        wait_healthy(instance, "/", 10)
        instance.start_sampling()
        time.sleep(0.3)
        window_end = time.time()
        samples = instance.stop_sampling(until=window_end)
        assert samples[-1].at >= window_end  # taken then, not at the watchdog's next look
        assert [s.at for s in samples] == sorted(s.at for s in samples)
        instance.release()
        assert instance.process.poll() is not None
    finally:
        backend.close()
