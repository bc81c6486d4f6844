"""The Docker backend's run settings (build target and args, command, entrypoint, env,
throwaway_env) and the services it starts (real Docker, real Postgres and Redis images)."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mutbot.backends.base import Artifact, CorePlan
from mutbot.backends.docker_backend import DockerBackend, DockerInstance
from mutbot.backends.docker_services import ServiceNotReady
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError, StageFailure
from mutbot.trial import wait_healthy
from testing.service_apps import write_service_app

pytestmark = pytest.mark.docker

POSTGRES = {
    "image": "postgres:16",
    "env": {"POSTGRES_HOST_AUTH_METHOD": "trust"},
    "health": {"command": "pg_isready -h 127.0.0.1 -U postgres", "timeout": "60s"},
}
REDIS = {"image": "redis:7", "health": {"port": 6379, "timeout": "20s"}}


def make(run_id: str, cores: CorePlan | None = None, **sandbox: Any) -> DockerBackend:
    settings = {
        "memory": "128m",
        "startup_timeout": "20s",
        "health": "/healthz",
        "build": {"target": "app"},
        **sandbox,
    }
    return DockerBackend(Sandbox.model_validate(settings), run_id, cores or CorePlan(None, None))


def info(instance: DockerInstance) -> dict[str, Any]:
    with urllib.request.urlopen(instance.url + "/info", timeout=5) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def started(backend: DockerBackend, artifact: Artifact, log: Path, side: str = "baseline") -> Any:
    instance = backend.start(artifact, log, side=side)
    wait_healthy(instance, "/healthz", 20)
    return instance


def labelled(client: Any, run_id: str) -> list[str]:
    selector = {"label": f"mutbot.run={run_id}"}
    found = [c.name for c in client.containers.list(all=True, filters=selector)]
    return found + [n.name for n in client.networks.list(filters=selector)]


def test_build_target_and_build_args_reach_the_build(tmp_path: Path, docker_clean: Any) -> None:
    project = write_service_app(tmp_path / "app")
    backend = make("t-svc-build", build={"target": "app", "args": {"GREETING": "hello args"}})
    whole = make("t-svc-build", build={})
    try:
        artifact = backend.build(project, "mutbot-t-svc-build:x", tmp_path / "build.log")
        instance = started(backend, artifact, tmp_path / "s.log")
        assert info(instance)["greeting"] == "hello args"
        instance.stop()
        # without the target the last stage is built, and it fails: the target was used
        with pytest.raises(StageFailure, match="returned a non-zero code: 9"):
            whole.build(project, "mutbot-t-svc-build:y", tmp_path / "b2.log")
    finally:
        backend.close()


def test_command_entrypoint_and_env_reach_the_container_but_not_the_host_env(
    tmp_path: Path, docker_clean: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUTBOT_HOST_ONLY", "from the host")
    project = write_service_app(tmp_path / "app")
    sandbox = {
        "entrypoint": "python",
        "command": "server.py --label 'two words'",
        "env": {"GREETING_STYLE": "loud", "WORKERS": 3, "DEBUG": False},
        "throwaway_env": ["SESSION_SECRET"],
    }
    backend = make("t-svc-cmd", **sandbox)
    # an entrypoint alone drops the image's CMD, as `docker run --entrypoint` does
    other = make("t-svc-cmd2", entrypoint=["python", "server.py"], throwaway_env=["SESSION_SECRET"])
    try:
        artifact = backend.build(project, "mutbot-t-svc-cmd:x", tmp_path / "build.log")
        first = started(backend, artifact, tmp_path / "1.log")
        seen = info(first)
        first.stop()
        assert seen["argv"] == ["server.py", "--label", "two words"]
        env = seen["env"]
        assert (env["GREETING_STYLE"], env["WORKERS"], env["DEBUG"]) == ("loud", "3", "false")
        assert "MUTBOT_HOST_ONLY" not in env
        secret = env["SESSION_SECRET"]
        assert len(secret) == 32
        second = started(backend, artifact, tmp_path / "2.log", side="candidate")
        assert info(second)["env"]["SESSION_SECRET"] == secret  # the same for the whole run
        second.stop()

        third = started(other, artifact, tmp_path / "3.log")
        assert info(third)["argv"] == ["server.py"]
        assert info(third)["env"]["SESSION_SECRET"] not in (secret, "")  # another run
        third.stop()
        written = "".join(p.read_text() for p in tmp_path.glob("*.log"))
        assert secret not in written and secret not in backend.guarantees
    finally:
        backend.close()
        other.close()


@pytest.mark.slow
def test_postgres_is_fresh_for_every_trial(tmp_path: Path, docker_clean: Any) -> None:
    cores = sorted(os.sched_getaffinity(0))
    assert len(cores) >= 2, "needs a core for the service and one for the load generator"
    plan = CorePlan(service=(cores[-1],), load=tuple(cores[:-1]))
    backend = make("t-svc-pg", cores=plan, env={"STORE": "postgres"}, services={"db": POSTGRES})
    assert "services db on its network (fresh for every trial)" in backend.guarantees
    project = write_service_app(tmp_path / "app")
    try:
        artifact = backend.build(project, "mutbot-t-svc-pg:x", tmp_path / "build.log")
        counts = []
        for trial in range(3):
            instance = started(backend, artifact, tmp_path / f"{trial}.service.log")
            assert instance.services is not None and instance.services.ready_seconds > 0
            db = instance.services.containers["db"]
            counts.append(info(instance)["seen"])
            if trial == 0:
                host = db.attrs["HostConfig"]
                # pinned to the service's core, no CPU quota; labelled like every container
                assert (host["CpusetCpus"], host["NanoCpus"]) == (str(cores[-1]), 0)
                assert {"mutbot.run", "mutbot.owner"} <= set(db.labels)
                network = docker_clean.networks.get(instance.services.network.id)
                assert network.attrs["Internal"] is True
            instance.stop()
            assert labelled(docker_clean, "t-svc-pg") == []  # removed with the trial
        assert counts == [1, 1, 1]
        assert "seen 1" in (tmp_path / "0.service.log").read_text()
        assert "ready to accept connections" in (tmp_path / "0.service.db.log").read_text()
    finally:
        backend.close()


def test_reset_candidate_keeps_one_redis_per_side(tmp_path: Path, docker_clean: Any) -> None:
    backend = make(
        "t-svc-keep", env={"STORE": "redis"}, services={"cache": REDIS}, reset="candidate"
    )
    project = write_service_app(tmp_path / "app")
    try:
        base = backend.build(project, "mutbot-t-svc-keep:a", tmp_path / "b1.log")
        # the same image from another candidate's copy: another side all the same
        cand = backend.build(project, "mutbot-t-svc-keep:b", tmp_path / "b2.log")
        cand = Artifact(cand.ref, tmp_path / "cand", cand.image_size_mb, cand.build_seconds)
        runs = [
            (base, "baseline"),
            (cand, "candidate"),
            (base, "baseline"),
            (base, "candidate"),  # the A/A block's twin: the baseline's image, its own side
            (cand, "candidate"),
            (base, "baseline"),
        ]
        counts = []
        for index, (artifact, side) in enumerate(runs):
            instance = started(backend, artifact, tmp_path / f"{index}.log", side)
            counts.append(info(instance)["seen"])
            instance.stop()
        assert counts == [1, 1, 2, 1, 2, 3]
        selector = {"label": "mutbot.run=t-svc-keep"}
        assert len(docker_clean.containers.list(filters=selector)) == 3
        networks = docker_clean.networks.list(filters=selector)  # one per side, for the reaper
        assert len(networks) == 3 and all("mutbot.owner" in n.attrs["Labels"] for n in networks)
    finally:
        backend.close()
    assert labelled(docker_clean, "t-svc-keep") == []
    assert (tmp_path / "0.cache.log").exists()  # their logs, saved when the run closes


def test_tests_run_with_fresh_services_and_no_route_out(tmp_path: Path, docker_clean: Any) -> None:
    backend = make("t-svc-tests", env={"STORE": "redis"}, services={"cache": REDIS})
    project = write_service_app(tmp_path / "app")
    log = tmp_path / "tests.log"
    try:
        artifact = backend.build(project, "mutbot-t-svc-tests:x", tmp_path / "build.log")
        for _ in range(2):
            backend.run_tests(artifact, "python store.py", 30, log)
            assert log.read_text().strip() == "seen 1"
            assert labelled(docker_clean, "t-svc-tests") == []
        # while the tests run they are on the services' network, and it is internal
        tests = threading.Thread(target=backend.run_tests, args=(artifact, "sleep 3", 30, log))
        tests.start()
        try:
            networks = networks_of_the_tests(docker_clean, "t-svc-tests")
        finally:
            tests.join()
        assert [n.attrs["Internal"] for n in networks] == [True]
        assert len(networks[0].attrs["Containers"]) == 2  # the tests and their Redis
    finally:
        backend.close()


def networks_of_the_tests(client: Any, run_id: str) -> list[Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for container in client.api.containers(filters={"label": f"mutbot.run={run_id}"}):
            if container["Command"] == "sh -c 'sleep 3'":
                names = container["NetworkSettings"]["Networks"]
                return [client.networks.get(name) for name in names]
        time.sleep(0.1)
    raise AssertionError("the tests' container never ran")


def test_a_service_that_never_gets_ready_or_exits_fails_the_start_and_leaves_nothing(
    tmp_path: Path, docker_clean: Any
) -> None:
    never = {
        "image": "python:3.11-slim",
        "command": ["sh", "-c", "echo warming up; sleep 600"],
        "health": {"port": 5432, "timeout": "2s"},
    }
    exits = {
        "image": "python:3.11-slim",
        "command": "sh -c 'echo cannot open the data folder >&2; exit 4'",
        "health": {"command": "true"},
    }
    hog = {
        "image": "python:3.11-slim",
        "command": ["python", "-c", "print('filling', flush=True); b = bytearray(256 << 20)"],
        "memory": "32m",
        "health": {"command": ["false"], "timeout": "20s"},
    }
    sick = {
        "image": "python:3.11-slim",
        "command": ["sleep", "600"],
        "health": {"command": "test -f /ready", "timeout": "1s"},
    }
    project = write_service_app(tmp_path / "app")
    cases = [
        ("never", never, "service never not ready within 2s (port 5432: Connection refused)"),
        ("sick", sick, "service sick not ready within 1s (test -f /ready: exit code 1)"),
        ("exits", exits, "service exits exited (exit code 4)"),
        ("hog", hog, "service hog was killed for memory (limit 32m)"),
    ]
    builder = make("t-svc-fail")
    try:
        artifact = builder.build(project, "mutbot-t-svc-fail:x", tmp_path / "build.log")
        for name, service, state in cases:
            backend = make("t-svc-fail", services={name: service})
            with pytest.raises(ServiceNotReady) as info:
                backend.start(artifact, tmp_path / f"{name}.log")
            assert info.value.stage == "start" and info.value.service == name
            assert info.value.reason.startswith(state + "; last log lines: ")
            assert labelled(docker_clean, "t-svc-fail") == []
        assert never_tail(tmp_path) == "warming up"
    finally:
        builder.close()


def never_tail(tmp_path: Path) -> str:
    return (tmp_path / "never.never.log").read_text().strip()


def test_a_service_failing_during_tests_fails_the_tests_stage(
    tmp_path: Path, docker_clean: Any
) -> None:
    broken = {"image": "redis:7", "command": "redis-server --no-such-option 1"}
    backend = make("t-svc-tfail", services={"cache": broken})
    project = write_service_app(tmp_path / "app")
    try:
        artifact = backend.build(project, "mutbot-t-svc-tfail:x", tmp_path / "build.log")
        with pytest.raises(ServiceNotReady) as info:
            backend.run_tests(artifact, "true", 30, tmp_path / "tests.log")
        assert info.value.stage == "tests"
        assert info.value.reason.startswith("service cache exited (exit code 1)")
        assert "no-such-option" in info.value.log_tail
    finally:
        backend.close()


HEALTHCHECKED = """\
FROM python:3.11-slim
HEALTHCHECK --interval=30s CMD test -f /tmp/ready
CMD ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 600"]
"""


def test_the_images_own_healthcheck_is_polled_not_waited_for(
    tmp_path: Path, docker_clean: Any
) -> None:
    context = tmp_path / "hc"
    context.mkdir()
    (context / "Dockerfile").write_text(HEALTHCHECKED)
    backend = make("t-svc-hc", services={"ready": {"image": "mutbot-t-svc-hc:ready"}})
    try:
        docker_clean.images.build(
            path=str(context), tag="mutbot-t-svc-hc:ready", labels=backend.labels, rm=True
        )
        artifact = backend.build(
            write_service_app(tmp_path / "app"), "mutbot-t-svc-hc:x", tmp_path / "b"
        )
        instance = started(backend, artifact, tmp_path / "s.log")
        assert instance.services is not None
        assert 1 <= instance.services.ready_seconds < 10  # not the image's 30 s interval
        instance.stop()
    finally:
        backend.close()


def test_loopback_mode_publishes_the_service_and_health_ports_on_127_0_0_1_only(
    tmp_path: Path, docker_clean: Any
) -> None:
    backend = make(
        "t-svc-loop", network="loopback", env={"STORE": "redis"}, services={"cache": REDIS}
    )
    try:
        artifact = backend.build(
            write_service_app(tmp_path / "app"), "mutbot-t-svc-loop:x", tmp_path / "b"
        )
        instance = started(backend, artifact, tmp_path / "s.log")
        assert instance.url.startswith("http://127.0.0.1:") and info(instance)["seen"] == 1
        assert instance.services is not None
        cache = instance.services.containers["cache"]
        ports = cache.attrs["NetworkSettings"]["Ports"]["6379/tcp"]
        assert {p["HostIp"] for p in ports} == {"127.0.0.1"}
        assert instance.services.network.attrs["Internal"] is False
        instance.stop()
    finally:
        backend.close()


def test_a_command_whose_quotes_do_not_close_is_a_config_error(docker_client: Any) -> None:
    with pytest.raises(ConfigError, match=r"^sandbox.entrypoint: cannot split"):
        make("t-svc-quote", entrypoint="sh -c 'echo")
