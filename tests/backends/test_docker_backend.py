from __future__ import annotations

import contextlib
import time
import urllib.request
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from mutbot.backends import cgroups
from mutbot.backends.base import CorePlan
from mutbot.backends.docker_backend import DockerBackend, _to_sample
from mutbot.config_sandbox import Sandbox
from mutbot.errors import StageFailure
from mutbot.trial import wait_healthy
from testing.services import write_service

pytestmark = pytest.mark.docker


def make(run_id: str, **sandbox: Any) -> DockerBackend:
    settings = {"memory": "128m", "startup_timeout": "10s", "health": "/", **sandbox}
    return DockerBackend(Sandbox.model_validate(settings), run_id, CorePlan(None, None))


def test_build_failure_names_the_reason_and_keeps_the_log(
    tmp_path: Path, docker_clean: Any
) -> None:
    backend = make("t-build")
    project = write_service(tmp_path / "svc", broken_build=True)
    try:
        with pytest.raises(StageFailure) as info:
            backend.build(project, "mutbot-t-build:x", tmp_path / "build.log")
        assert info.value.stage == "build"
        assert info.value.reason == (
            "build failed: The command '/bin/sh -c echo \"building\" && exit 7' "
            "returned a non-zero code: 7"
        )
        assert "building" in (tmp_path / "build.log").read_text()
    finally:
        backend.close()


def test_tests_run_inside_the_image_without_network(tmp_path: Path, docker_clean: Any) -> None:
    backend = make("t-tests")
    project = write_service(tmp_path / "svc")
    log = tmp_path / "tests.log"
    try:
        artifact = backend.build(project, "mutbot-t-tests:x", tmp_path / "build.log")
        assert artifact.image_size_mb and artifact.image_size_mb > 1
        # the built image's environment: what the packs pin a floating base tag to
        assert dict(artifact.env)["PATH"].startswith("/usr/local/sbin")
        backend.run_tests(artifact, "test -f server.py && echo fine", 30, log)
        assert log.read_text().strip() == "fine"
        with pytest.raises(StageFailure) as info:
            backend.run_tests(artifact, "echo one; echo two; exit 4", 30, log)
        assert (info.value.stage, info.value.reason) == ("tests", "tests failed (exit code 4): two")
        # no network at all while tests run: only the loopback interface exists
        backend.run_tests(artifact, 'test "$(ls /sys/class/net)" = lo', 30, log)
        with pytest.raises(StageFailure) as info:
            backend.run_tests(artifact, "sleep 30", 1, log)
        assert info.value.reason == "timed out after 1s"
    finally:
        backend.close()


def test_isolated_instance_has_limits_no_route_out_and_no_host_secrets(
    tmp_path: Path, docker_clean: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret_value")
    backend = make("t-iso", cpus=0.5)
    project = write_service(tmp_path / "svc")
    try:
        artifact = backend.build(project, "mutbot-t-iso:x", tmp_path / "build.log")
        instance = backend.start(artifact, tmp_path / "service.log")
        assert wait_healthy(instance, "/", 10) < 10
        with urllib.request.urlopen(instance.url + "/env", timeout=5) as response:
            names = response.read().decode().split()
        assert "GITHUB_TOKEN" not in names
        config = instance.container.attrs["HostConfig"]
        assert (config["Memory"], config["MemorySwap"], config["NanoCpus"]) == (
            128 * 1024**2,
            128 * 1024**2,
            500_000_000,
        )
        network = docker_clean.networks.get("mutbot-t-iso")
        assert network.attrs["Internal"] is True
        # attached to that internal network only: Docker drops whatever it sends off the subnet
        # (checked through the API; the test sends no traffic anywhere but to this container)
        instance.container.reload()
        assert list(instance.container.attrs["NetworkSettings"]["Networks"]) == ["mutbot-t-iso"]
        instance.start_sampling()
        for _ in range(20):
            urllib.request.urlopen(instance.url + "/", timeout=5).read()
        time.sleep(2.5)
        samples = instance.stop_sampling()
        assert len(samples) >= 2 and samples[-1].cpu_seconds >= samples[0].cpu_seconds > 0
        assert all(0 < s.memory_bytes < 128 * 1024**2 for s in samples)
        instance.stop()
        assert (tmp_path / "service.log").exists()
    finally:
        backend.close()


def test_crash_and_memory_kill_are_told_apart(tmp_path: Path, docker_clean: Any) -> None:
    backend = make("t-fail", memory="64m")
    try:
        crash = backend.build(
            write_service(tmp_path / "crash", mode="crash"), "mutbot-t-fail:c", tmp_path / "b1.log"
        )
        instance = backend.start(crash, tmp_path / "c.log")
        with pytest.raises(StageFailure) as info:
            wait_healthy(instance, "/", 10)
        assert info.value.reason == "crashed: exit code 3 during start-up"
        instance.stop()

        ok = backend.build(write_service(tmp_path / "ok"), "mutbot-t-fail:ok", tmp_path / "b2.log")
        instance = backend.start(ok, tmp_path / "o.log")
        wait_healthy(instance, "/", 10)
        with pytest.raises(OSError):
            urllib.request.urlopen(instance.url + "/hog", timeout=10).read()
        deadline = time.monotonic() + 10  # the engine records the kill a moment later
        while instance.failure() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert instance.failure() == "killed for memory (limit 64m)"
        instance.stop()
    finally:
        backend.close()


def test_never_healthy_is_bounded_by_the_startup_timeout(tmp_path: Path, docker_clean: Any) -> None:
    backend = make("t-slow")
    try:
        slow = backend.build(
            write_service(tmp_path / "s", mode="slow-start"), "mutbot-t-slow:s", tmp_path / "b.log"
        )
        instance = backend.start(slow, tmp_path / "s.log")
        with pytest.raises(StageFailure) as info:
            wait_healthy(instance, "/", 2)
        assert info.value.reason.startswith("never healthy within 2s (/: ")
    finally:
        backend.close()


def test_close_removes_everything_labelled_with_the_run(tmp_path: Path, docker_client: Any) -> None:
    backend = make("t-close")
    artifact = backend.build(
        write_service(tmp_path / "svc"), "mutbot-t-close:x", tmp_path / "b.log"
    )
    backend.start(artifact, tmp_path / "a.log")
    backend.start(artifact, tmp_path / "b.log")  # never stopped by the caller
    selector = {"label": "mutbot.run=t-close"}
    assert len(docker_client.containers.list(all=True, filters=selector)) == 2
    backend.close()
    assert docker_client.containers.list(all=True, filters=selector) == []
    assert docker_client.networks.list(filters=selector) == []
    assert docker_client.images.list(filters=selector) == []


def test_leftovers_of_a_killed_run_are_reaped_by_the_next(docker_client: Any) -> None:
    import os

    from mutbot.backends.docker_backend import reap_orphans

    dead = subprocess_pid_that_exited()
    labels = {"mutbot.run": "t-orphan", "mutbot.owner": f"{os.uname().nodename}:{dead}"}
    network = docker_client.networks.create("mutbot-t-orphan", internal=True, labels=labels)
    container = docker_client.containers.create("python:3.11-slim", ["sleep", "60"], labels=labels)
    mine = {**labels, "mutbot.owner": f"{os.uname().nodename}:{os.getpid()}"}
    alive = docker_client.containers.create("python:3.11-slim", ["sleep", "60"], labels=mine)
    try:
        removed = reap_orphans(docker_client)
        assert container.name in removed and "mutbot-t-orphan" in removed
        assert alive.name not in removed
    finally:
        alive.remove(force=True)
        for obj in (container, network):
            with contextlib.suppress(docker.errors.NotFound):  # reaped, as it should be
                obj.remove()


def subprocess_pid_that_exited() -> int:
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_loopback_mode_publishes_on_127_0_0_1_only(tmp_path: Path, docker_clean: Any) -> None:
    backend = make("t-loop", network="loopback")
    try:
        artifact = backend.build(write_service(tmp_path / "svc"), "mutbot-t-loop:x", tmp_path / "b")
        instance = backend.start(artifact, tmp_path / "s.log")
        assert instance.url.startswith("http://127.0.0.1:")
        wait_healthy(instance, "/", 10)
        ports = instance.container.attrs["NetworkSettings"]["Ports"]["8080/tcp"]
        assert {p["HostIp"] for p in ports} == {"127.0.0.1"}
        assert "outbound network NOT blocked" in backend.guarantees
    finally:
        backend.close()


def test_usage_is_read_from_the_cgroup_and_the_window_closes_without_waiting_for_the_engine(
    tmp_path: Path, docker_clean: Any
) -> None:
    """On a host running the engine (as here), samples come straight from the container's
    cgroup: the same figures as the engine's stats, and one taken after the window's end as
    soon as it is asked for (the stats stream sends one a second)."""
    backend = make("t-cgroup")
    project = write_service(tmp_path / "svc")
    try:
        artifact = backend.build(project, "mutbot-t-cgroup:x", tmp_path / "build.log")
        instance = backend.start(artifact, tmp_path / "service.log")
        wait_healthy(instance, "/", 10)
        instance.start_sampling()
        assert instance.sampler == "cgroup"
        for _ in range(50):
            urllib.request.urlopen(instance.url + "/", timeout=5).read()
        window_end = time.time()
        samples = instance.stop_sampling(until=window_end)
        assert samples[0].at < window_end <= samples[-1].at
        assert samples[-1].cpu_seconds > samples[0].cpu_seconds > 0
        engine = _to_sample(instance.container.stats(stream=False))
        assert engine is not None
        assert engine.cpu_seconds == pytest.approx(samples[-1].cpu_seconds, rel=0.2)
        assert engine.memory_bytes == pytest.approx(samples[-1].memory_bytes, rel=0.2)
        assert instance.stop_sampling() == samples  # nothing more once stopped
        instance.stop()
    finally:
        backend.close()


def test_without_a_cgroup_the_stats_stream_still_covers_the_windows_end(
    tmp_path: Path, docker_clean: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroups, "find", lambda *_args, **_kw: None)  # an engine elsewhere
    backend = make("t-stream")
    project = write_service(tmp_path / "svc")
    try:
        artifact = backend.build(project, "mutbot-t-stream:x", tmp_path / "build.log")
        instance = backend.start(artifact, tmp_path / "service.log")
        wait_healthy(instance, "/", 10)
        instance.start_sampling()
        assert instance.sampler == "stats"
        time.sleep(1.5)
        window_end = time.time()
        samples = instance.stop_sampling(until=window_end)
        assert samples and samples[-1].at >= window_end
        instance.stop()
    finally:
        backend.close()


def test_a_released_instance_goes_while_the_next_one_starts_or_when_the_backend_closes(
    tmp_path: Path, docker_clean: Any
) -> None:
    backend = make("t-release")
    project = write_service(tmp_path / "svc")
    try:
        artifact = backend.build(project, "mutbot-t-release:x", tmp_path / "build.log")
        first = backend.start(artifact, tmp_path / "first.log")
        wait_healthy(first, "/", 10)
        first.release()
        # kept, idle, through whatever comes before the next start (a wait for a calm machine)
        first.container.reload()
        assert first.container.status == "running"
        assert not (tmp_path / "first.log").exists()

        second = backend.start(artifact, tmp_path / "second.log")

        with pytest.raises(docker.errors.NotFound):  # gone before the second one is handed out
            first.container.reload()
        assert (tmp_path / "first.log").exists()
        assert wait_healthy(second, "/", 10) < 10
        second.release()
    finally:
        backend.close()
    assert (tmp_path / "second.log").exists()  # closing stopped it, its log saved first
