"""Docker backend (docker-py): images built from the worktree, containers with the configured
limits, command and environment on a per-run internal network (no route out) that only this host
can reach, with the services they need (docker_services)."""

from __future__ import annotations

import contextlib
import os
import tarfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from mutbot import reaper
from mutbot.backends import cgroups
from mutbot.backends.base import Artifact, CorePlan, Limits, Sample, helper_thread
from mutbot.backends.docker_images import Built, build_image, compressed_mb, remove_image
from mutbot.backends.docker_services import (
    Launcher,
    ServiceSet,
    environment,
    tail,
    throwaway_values,
    words,
)
from mutbot.config_sandbox import Sandbox
from mutbot.errors import SandboxError, StageFailure
from mutbot.units import format_size

LABEL = "mutbot.run"
SAMPLE_WAIT_S = 5.0  # stop_sampling waits at most this for the record it needs
CGROUP_PERIOD_S = 0.5  # between samples read from the cgroup
OWNER = reaper.OWNER_LABEL  # host:pid:start-time of the run that made it


def reap_orphans(client: Any) -> list[str]:
    """Remove what runs killed too hard to clean up (SIGKILL, power loss) left on this host."""
    return reaper.reap_docker(client)


def available() -> str | None:
    try:
        docker.from_env(timeout=5).ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        return f"no Docker engine answers ({type(exc).__name__})"
    return None


class DockerBackend:
    name = "docker"

    def __init__(self, sandbox: Sandbox, run_id: str, cores: CorePlan) -> None:
        self.sandbox = sandbox
        self.run_id = run_id
        self.cores = cores
        self.client = docker.from_env(timeout=120)
        # images carry the labels too, so a killed run's images are reaped like its containers
        self.labels = {LABEL: run_id, OWNER: reaper.me().label()}
        self._network: Any = None
        # made up once per run, so both sides of every pair see the same environment
        values = throwaway_values(sandbox)
        self._env = environment(sandbox.env, sandbox.throwaway_env, values)
        self._command = {
            key: words(value, f"sandbox.{key}") or [""]  # [""]: no entrypoint, as in compose
            for key, value in (("command", sandbox.command), ("entrypoint", sandbox.entrypoint))
            if value is not None
        }
        self._services = Launcher(self.client, sandbox, run_id, self.labels, cores.service, values)
        self._kept: dict[tuple[str, str, str], ServiceSet] = {}  # reset: candidate
        self._released: list[DockerInstance] = []  # to stop while the next instance starts
        self._cold = 0  # cold builds so far: each gets a tag of its own
        self._layers: dict[str, int] = {}  # layer -> compressed bytes (compressed_mb)
        isolation = (
            "an internal network with no route out"
            if sandbox.network == "isolated"
            else "the default bridge (outbound network NOT blocked)"
        )
        self.guarantees = (
            f"Docker container, {sandbox.cpus:g} CPU, {format_size(sandbox.memory)} memory "
            f"(no swap), {isolation}, no host environment or secrets passed in, built from the "
            f"tracked files only (no .git){_services_line(sandbox)}"
        )

    # --- build and tests -------------------------------------------------------------------

    def build(
        self, project_dir: Path, tag: str, log: Path, changed: tuple[str, ...] = ()
    ) -> Artifact:
        built = self._build(project_dir, tag, log)
        image = built.image
        env = [str(e).partition("=") for e in (image.attrs.get("Config") or {}).get("Env") or []]
        return Artifact(
            ref=image.id,
            project_dir=project_dir,
            image_size_mb=image.attrs["Size"] / 1024**2,
            build_seconds=built.seconds,
            env=tuple((name, value) for name, _, value in env),
        )

    def _build(self, project_dir: Path, tag: str, log: Path, nocache: bool = False) -> Built:
        context = (project_dir / self.sandbox.context).resolve()
        dockerfile = os.path.relpath(project_dir / self.sandbox.dockerfile, context)
        return build_image(
            self.client,
            self.sandbox,
            context,
            tag,
            log,
            self.labels,
            dockerfile=dockerfile,
            nocache=nocache,
        )

    def cold_build(self, artifact: Artifact, log: Path) -> float:
        """Every step run again (`--no-cache`), under a tag of its own, removed right after."""
        self._cold += 1
        tag = f"mutbot-{self.run_id.lower()}:cold-{self._cold}"
        try:
            return self._build(artifact.project_dir, tag, log, nocache=True).seconds
        finally:
            remove_image(self.client, tag)

    def compressed_mb(self, artifact: Artifact) -> float | None:
        try:
            return compressed_mb(self.client, artifact.ref, self._layers)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise StageFailure("build", f"cannot read the image's layers: {exc}") from None
        except (tarfile.TarError, OSError) as exc:
            raise StageFailure("build", f"cannot read the saved image: {exc}") from None

    def run_tests(self, artifact: Artifact, command: str, timeout: float, log: Path) -> None:
        """No network at all; with services, a network of their own with no route out, and
        fresh services for every test run."""
        services = self._services.start("tests", log) if self.sandbox.services else None
        network: dict[str, Any] = (
            {"network": services.network.name} if services else {"network_mode": "none"}
        )
        try:
            container = self.client.containers.run(
                artifact.ref,
                [command],
                entrypoint=["sh", "-c"],
                detach=True,
                labels=self.labels,
                environment=self._env,
                **self._limits(),
                **network,
            )
        except docker.errors.APIError as exc:
            if services:
                services.remove()
            raise StageFailure(
                "tests", f"cannot start the tests: {exc.explanation or exc}"
            ) from exc
        try:
            self._wait_tests(container, timeout, log)
        finally:
            container.remove(force=True)
            if services:
                services.remove()

    def _wait_tests(self, container: Any, timeout: float, log: Path) -> None:
        try:
            code = container.wait(timeout=timeout)["StatusCode"]
        except requests.exceptions.RequestException:
            container.kill()
            raise StageFailure("tests", f"timed out after {timeout:g}s") from None
        output = container.logs().decode("utf-8", "replace")
        log.write_text(output, encoding="utf-8")
        container.reload()
        if container.attrs["State"].get("OOMKilled"):
            raise StageFailure("tests", "tests killed for memory")
        if code != 0:
            raise StageFailure("tests", f"tests failed (exit code {code}): {tail(output)}")

    # --- service instances -----------------------------------------------------------------

    def start(self, artifact: Artifact, log: Path, side: str = "baseline") -> DockerInstance:
        """The services first (ready before the service starts, so their start-up is never part
        of its time to healthy), then the service on their network, with the artifact's limits
        (a candidate's own) or the config's."""
        released, self._released = self._released, []
        # the instances released since the last start go while this one starts: nothing is
        # measured then, and both are gone or up before its time to healthy is counted
        teardown = _Teardown(released)
        try:
            instance = self._start(artifact, log, side)
        finally:
            teardown.join()
        if teardown.errors:
            instance.stop()
            raise SandboxError(teardown.errors[0])
        return instance

    def _start(self, artifact: Artifact, log: Path, side: str) -> DockerInstance:
        limits = artifact.limits or Limits(self.sandbox.cpus, self.sandbox.memory)
        services = self._services_for(artifact, log, side)
        owned = services is not None and self.sandbox.reset == "trial"  # removed with it
        port = self.sandbox.port
        options: dict[str, Any] = {}
        if services is not None:
            options["network"] = services.network.name
        elif self.sandbox.network == "isolated":
            options["network"] = self._isolated_network().name
        if self.sandbox.network == "loopback":
            options["ports"] = {f"{port}/tcp": ("127.0.0.1", None)}
        try:
            container = self.client.containers.run(
                artifact.ref,
                detach=True,
                labels=self.labels,
                environment=self._env,
                **self._command,
                **self._limits(limits),
                **options,
            )
        except docker.errors.APIError as exc:
            if owned and services is not None:
                services.remove()
            raise StageFailure("start", f"cannot start: {exc.explanation or exc}") from exc
        container.reload()
        if self.sandbox.network == "isolated":
            address = container.attrs["NetworkSettings"]["Networks"][options["network"]]
            url = f"http://{address['IPAddress']}:{port}"
        else:
            binding = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]
            url = f"http://127.0.0.1:{binding['HostPort']}"
        return DockerInstance(
            container,
            url,
            log,
            limits.memory,
            services=services,
            owns_services=owned,
            release=self._released.append,
        )

    def refuses(self, limits: Limits) -> str | None:
        """A CPU limit above the cores the service may use would not be the limit it runs at."""
        cores = len(self.cores.service) if self.cores.service else os.cpu_count() or 1
        if limits.cpus <= cores:
            return None
        where = "the cores the service is pinned to" if self.cores.service else "this host's CPUs"
        return f"a CPU limit of {limits.cpus:g} is more than {where} ({cores})"

    def _services_for(self, artifact: Artifact, log: Path, side: str) -> ServiceSet | None:
        """Fresh ones for every trial; with `reset: candidate`, one set per side, kept: the A/A
        block's two sides share an artifact but not a database, so the side is in the key."""
        if not self.sandbox.services:
            return None
        if self.sandbox.reset == "trial":
            return self._services.start("start", log)
        key = (artifact.ref, str(artifact.project_dir), side)
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = self._services.start("start", log)
        else:
            failure = kept.failure()
            if failure:
                raise StageFailure("start", f"{failure} in an earlier trial")
            kept.ready_seconds = 0.0
        return kept

    def close(self) -> None:
        """Remove by label, so objects whose creation was interrupted are found too."""
        released, self._released = self._released, []
        for instance in released:  # their logs, while they still exist
            with contextlib.suppress(SandboxError, OSError):
                instance.stop()
        for kept in self._kept.values():
            with contextlib.suppress(SandboxError, OSError):
                kept.remove()
        self._kept.clear()
        selector = {"label": f"{LABEL}={self.run_id}"}
        for container in self.client.containers.list(all=True, filters=selector):
            container.remove(force=True)
        for network in self.client.networks.list(filters=selector):
            network.remove()
        for image in self.client.images.list(filters=selector):
            # an image shared with another tag stays, and so do its layers for the cache
            with contextlib.suppress(docker.errors.APIError):
                self.client.images.remove(image.id, force=True)

    def _limits(self, own: Limits | None = None) -> dict[str, Any]:
        chosen = own or Limits(self.sandbox.cpus, self.sandbox.memory)
        limits: dict[str, Any] = {
            "mem_limit": chosen.memory,
            "memswap_limit": chosen.memory,
            "nano_cpus": int(chosen.cpus * 1e9),
            "pids_limit": 1024,
            "security_opt": ["no-new-privileges"],
        }
        if self.cores.service:
            limits["cpuset_cpus"] = ",".join(map(str, self.cores.service))
        return limits

    def _isolated_network(self) -> Any:
        if self._network is None:
            self._network = self.client.networks.create(
                f"mutbot-{self.run_id}", driver="bridge", internal=True, labels=self.labels
            )
        return self._network


def _services_line(sandbox: Sandbox) -> str:
    if not sandbox.services:
        return ""
    how = "fresh for every trial" if sandbox.reset == "trial" else "one set per side, kept"
    return f", services {', '.join(sandbox.services)} on its network ({how})"


class DockerInstance:
    def __init__(
        self,
        container: Any,
        url: str,
        log: Path,
        memory: int,
        services: ServiceSet | None = None,
        owns_services: bool = False,
        release: Callable[[DockerInstance], None] | None = None,
    ) -> None:
        self.container = container
        self._release = release
        self.url = url
        self.services = services  # its dependencies, ready before it started
        self._owns_services = owns_services  # removed with it (reset: trial)
        self._log = log
        self._memory = memory
        self._samples: list[Sample] = []
        self._stop = threading.Event()
        self._arrived = threading.Condition()  # a sample came in, or sampling ended
        self._closed = False  # no more samples: stop_sampling returned them
        self._files: cgroups.Files | None = None
        self.sampler = "none"  # "cgroup" or "stats" once sampling started
        self._thread: threading.Thread | None = None
        self._stopped = False

    def failure(self) -> str | None:
        self.container.reload()
        state = self.container.attrs["State"]
        if state.get("OOMKilled"):
            return f"killed for memory (limit {format_size(self._memory)})"
        if state["Status"] in ("exited", "dead"):
            return f"crashed: exit code {state.get('ExitCode')}"
        return self.services.failure() if self.services else None

    def start_sampling(self) -> None:
        """From the container's cgroup when it is on this host (a sample now, then every
        CGROUP_PERIOD_S); else from the engine's stats stream (one record a second)."""
        pid = (self.container.attrs.get("State") or {}).get("Pid")
        self._files = cgroups.find(pid, self.container.id) if pid else None
        self.sampler = "cgroup" if self._files else "stats"
        if self._files is not None:
            self._take(self._files)
        target = self._poll if self._files is not None else self._stream
        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def stop_sampling(self, until: float | None = None) -> list[Sample]:
        """The samples so far. From the cgroup: one more, now (`until` has passed: it is the
        window's end). From the stats stream: without `until`, after the next record; with it,
        once a record taken at or after `until` is in (often already), at most SAMPLE_WAIT_S."""
        with self._arrived:
            if self._closed:  # stopped already
                return list(self._samples)
        if self._files is not None:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(timeout=SAMPLE_WAIT_S)
            if until is not None and (wait := until - time.time()) > 0:
                time.sleep(wait)
            self._take(self._files)
        elif until is not None:
            with self._arrived:
                self._arrived.wait_for(self._covers(until), timeout=SAMPLE_WAIT_S)
                self._closed = True  # what the stream sends from now on is not this window's
        self._stop.set()
        if self._thread is not None and not self._closed:
            self._thread.join(timeout=SAMPLE_WAIT_S)
        with self._arrived:
            self._closed = True
            return list(self._samples)

    def _covers(self, until: float) -> Callable[[], bool]:
        def covered() -> bool:
            ended = self._thread is None or not self._thread.is_alive()
            return ended or bool(self._samples and self._samples[-1].at >= until)

        return covered

    def _take(self, files: cgroups.Files) -> None:
        sample = cgroups.read(files)
        if sample is not None:
            with self._arrived:
                self._samples.append(sample)

    def _poll(self) -> None:
        helper_thread()
        assert self._files is not None
        while not self._stop.wait(CGROUP_PERIOD_S):
            self._take(self._files)

    def _stream(self) -> None:
        # The engine pushes one stats record a second; totals are cumulative. The stream ends
        # when the container goes (stop), or after the next record once sampling stopped.
        helper_thread()
        try:
            for stats in self.container.stats(stream=True, decode=True):
                sample = _to_sample(stats)
                with self._arrived:
                    if self._closed:
                        return
                    if sample is not None:
                        self._samples.append(sample)
                        self._arrived.notify_all()
                if self._stop.is_set():
                    return
        except (docker.errors.APIError, requests.exceptions.RequestException, ValueError):
            return
        finally:
            with self._arrived:
                self._arrived.notify_all()  # a waiting stop_sampling need not wait any longer

    def release(self) -> None:
        """Done with it: the backend stops it while it starts the next instance (or closes)."""
        self._stop.set()  # no more samples
        if self._release is None or self._stopped:
            self.stop()
        else:
            self._release(self)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        with contextlib.suppress(docker.errors.APIError):  # it may have exited already
            self.container.kill()
        try:
            self._log.write_bytes(self.container.logs())
            self.container.remove(force=True)
        except docker.errors.APIError as exc:
            raise SandboxError(f"cannot remove container {self.container.short_id}: {exc}") from exc
        if self._owns_services and self.services is not None:
            self.services.remove()


class _Teardown:
    """Stops instances in helper threads; join() waits for all of them and keeps what failed."""

    def __init__(self, instances: list[DockerInstance]) -> None:
        self.errors: list[str] = []
        self._threads = [
            threading.Thread(target=self._stop, args=(instance,), daemon=True)
            for instance in instances
        ]
        for thread in self._threads:
            thread.start()

    def _stop(self, instance: DockerInstance) -> None:
        helper_thread()
        try:
            instance.stop()
        except (SandboxError, OSError) as exc:
            self.errors.append(str(exc))

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


def _to_sample(stats: dict[str, Any]) -> Sample | None:
    cpu = stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage")
    memory = stats.get("memory_stats", {})
    if cpu is None or "usage" not in memory:
        return None
    detail = memory.get("stats", {})
    # cgroup v1 counts page cache in usage; v2 reports inactive_file instead.
    cache = detail.get("total_inactive_file", detail.get("inactive_file", detail.get("cache", 0)))
    at = datetime.fromisoformat(stats["read"][:26].rstrip("Z") + "+00:00").timestamp()
    return Sample(at=at, cpu_seconds=cpu / 1e9, memory_bytes=max(0, memory["usage"] - cache))
