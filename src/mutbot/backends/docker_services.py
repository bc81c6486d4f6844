"""Docker backend, services part: the dependencies a service needs (a database, a cache), each
started from its image on a network of its own with no route out, reachable by its name, and
ready when its health check passes. Every container and network carries the run's labels, so
`DockerBackend.close()` and the reaper remove them like the service's own."""

from __future__ import annotations

import contextlib
import secrets
import shlex
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import requests.exceptions

from mutbot.config_sandbox import Command, Sandbox, Service
from mutbot.errors import ConfigError, SandboxError, StageFailure
from mutbot.units import format_size

POLL = 0.2  # seconds between two readiness checks
DEFAULT_TIMEOUT = 60.0  # a service without a health section: as ServiceHealth's default
STEADY = 0.5  # no health check at all: ready once it has run this long (a bad flag exits first)


def tail(text: str, lines: int = 1) -> str:
    rows = [row.strip() for row in text.splitlines() if row.strip()]
    return " | ".join(rows[-lines:])[:300] if rows else "no output"


def words(command: Command, key: str) -> list[str]:
    """Docker's and compose's reading of a command: a list is exec form; a string is split
    into words as a shell would split them, but no shell runs it (write `sh -c '...'` for
    pipes, `&&` or `$VAR`). ConfigError when its quotes do not close."""
    if isinstance(command, list):
        return command
    try:
        return shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"{key}: cannot split {command!r} into words ({exc})") from None


def health_words(command: Command | list[str]) -> list[str]:
    """A health command as compose's `healthcheck.test` reads it: a string runs with `sh -c`,
    a list is exec form; a leading CMD or CMD-SHELL (the image's HEALTHCHECK) is understood."""
    if isinstance(command, str):
        return ["sh", "-c", command]
    if command[:1] == ["CMD-SHELL"]:
        return ["sh", "-c", " ".join(command[1:])]
    return command[1:] if command[:1] == ["CMD"] else command


def throwaway_values(sandbox: Sandbox) -> dict[str, str]:
    """One random value per name, for the whole run: the service and every dependency that
    list the same name (POSTGRES_PASSWORD, say) get the same value, in every trial."""
    names = set(sandbox.throwaway_env)
    for service in sandbox.services.values():
        names.update(service.throwaway_env)
    return {name: secrets.token_urlsafe(24) for name in sorted(names)}


def environment(
    env: dict[str, str], throwaway: list[str], values: dict[str, str]
) -> dict[str, str]:
    """Literal values from the config and the run's random ones; nothing from mutbot's own
    environment. A name in both gets the random value."""
    return {**env, **{name: values[name] for name in throwaway}}


class ServiceNotReady(StageFailure):
    """A dependency that exited, was killed or never got ready: which one, its state, and the
    last lines it logged (for diagnoses such as `mutbot doctor`'s)."""

    def __init__(self, stage: str, service: str, state: str, log_tail: str) -> None:
        super().__init__(stage, f"service {service} {state}; last log lines: {tail(log_tail, 3)}")
        self.service = service
        self.state = state
        self.log_tail = log_tail


def _logs(container: Any, lines: int = 20) -> str:
    with contextlib.suppress(docker.errors.APIError, requests.exceptions.RequestException):
        return str(container.logs(tail=lines).decode("utf-8", "replace"))
    return ""


def stopped(container: Any, memory: int | None) -> str | None:
    """None while it runs; otherwise how it ended ("exited (exit code 1)", ...)."""
    container.reload()
    state = container.attrs["State"]
    if state.get("OOMKilled"):
        limit = f" (limit {format_size(memory)})" if memory else ""
        return f"was killed for memory{limit}"
    if state["Status"] in ("exited", "dead"):
        return f"exited (exit code {state.get('ExitCode')})"
    return None


@dataclass
class ServiceSet:
    """The dependencies of one trial (or of one side, with `reset: candidate`), or of one test
    run: their containers by name, on a network of their own."""

    network: Any
    containers: dict[str, Any]
    memory: dict[str, int | None]
    log: Path  # their logs go next to it: <stem>.<service>.log
    ready_seconds: float = 0.0
    removed: bool = field(default=False)

    def failure(self) -> str | None:
        for name, container in self.containers.items():
            state = stopped(container, self.memory[name])
            if state:
                return f"service {name} {state}"
        return None

    def remove(self) -> None:
        """Save their logs, then remove the containers and the network; safe to call twice."""
        if self.removed:
            return
        self.removed = True
        try:
            for name, container in self.containers.items():
                with contextlib.suppress(docker.errors.APIError):
                    container.kill()
                log = self.log.with_name(f"{self.log.stem}.{name}.log")
                log.write_bytes(container.logs())
                container.remove(force=True)
            self.network.remove()
        except docker.errors.APIError as exc:
            raise SandboxError(f"cannot remove the services' containers: {exc}") from exc


class Probe:
    """Whether one service is ready, asked without blocking longer than one poll: its health
    command (run inside it, exit 0), its health port (accepting TCP from this host), the
    image's own HEALTHCHECK test, or else still running STEADY seconds after it started."""

    def __init__(self, client: Any, container: Any, spec: Service, address: tuple[str, int] | None):
        self.client = client
        self.container = container
        self.address = address
        health = spec.health
        test = None if health else _image_test(container)
        command = health.command if health else test
        self.command = health_words(command) if command is not None else None
        self.exec_id: str | None = None
        if health and health.port:
            self.what = f"port {health.port}"
        elif self.command is not None:
            shell = self.command[:2] == ["sh", "-c"]
            what = " ".join(self.command[2:]) if shell else shlex.join(self.command)
            self.what = what if len(what) <= 60 else what[:59] + "…"
        else:
            self.what = "running"
        self.last = "not checked yet"
        self.since = time.monotonic()

    def ready(self) -> bool:
        if self.address is not None:
            try:
                with socket.create_connection(self.address, timeout=0.5):
                    return True
            except OSError as exc:
                self.last = exc.strerror or type(exc).__name__
                return False
        if self.command is not None:
            return self._command()
        return time.monotonic() - self.since >= STEADY  # `stopped` said it runs

    def _command(self) -> bool:
        api = self.client.api
        if self.exec_id is not None:
            state = api.exec_inspect(self.exec_id)
            if state["Running"]:
                return False  # a slow check: let it finish rather than start another
            self.exec_id = None
            if state["ExitCode"] == 0:
                return True
            self.last = f"exit code {state['ExitCode']}"
        try:
            self.exec_id = api.exec_create(self.container.id, self.command)["Id"]
            api.exec_start(self.exec_id, detach=True)
        except docker.errors.APIError as exc:  # the program is missing, say
            self.last = str(exc.explanation or exc)[:120]
            self.exec_id = None
        return False


def _image_test(container: Any) -> list[str] | None:
    test = (container.attrs.get("Config", {}).get("Healthcheck") or {}).get("Test")
    if not test or test[0] == "NONE":
        return None
    return list(test)


class Launcher:
    """Starts service sets for one run: the same labels, cores, random values and network kind
    as the service's own container."""

    def __init__(
        self,
        client: Any,
        sandbox: Sandbox,
        run_id: str,
        labels: dict[str, str],
        cores: tuple[int, ...] | None,
        values: dict[str, str],
    ) -> None:
        self.client = client
        self.services = sandbox.services
        self.run_id = run_id
        self.labels = labels
        self.cores = cores
        self.values = values
        self.internal = sandbox.network == "isolated"
        self.commands = {
            name: words(spec.command, f"sandbox.services.{name}.command")
            for name, spec in sandbox.services.items()
            if spec.command is not None
        }
        self._count = 0

    def start(self, stage: str, log: Path) -> ServiceSet:
        """All of them at once, then wait until each is ready (ServiceNotReady when one exits,
        is killed or runs out of its health timeout; nothing is left running then)."""
        self._count += 1
        started = time.monotonic()
        try:
            network = self.client.networks.create(
                f"mutbot-{self.run_id}-s{self._count}",
                driver="bridge",
                internal=self.internal,
                labels=self.labels,
            )
        except docker.errors.APIError as exc:  # out of address pools, say
            raise SandboxError(f"cannot make the services' network: {exc.explanation}") from exc
        memory = {name: spec.memory for name, spec in self.services.items()}
        services = ServiceSet(network, {}, memory, log)
        try:
            for name, spec in self.services.items():
                services.containers[name] = self._run(name, spec, network.name, stage)
            self._wait(services, network.name, stage)
        except BaseException:
            with contextlib.suppress(SandboxError):
                services.remove()
            raise
        services.ready_seconds = time.monotonic() - started
        return services

    def _run(self, name: str, spec: Service, network: str, stage: str) -> Any:
        options: dict[str, Any] = {}
        if spec.memory:
            options["mem_limit"] = options["memswap_limit"] = spec.memory
        if self.cores:  # no CPU quota, but off the load generator's core
            options["cpuset_cpus"] = ",".join(map(str, self.cores))
        port = spec.health.port if spec.health else None
        if port and not self.internal:  # loopback mode: the host may not reach container IPs
            options["ports"] = {f"{port}/tcp": ("127.0.0.1", None)}
        try:
            return self.client.containers.run(
                spec.image,
                self.commands.get(name),
                detach=True,
                environment=environment(spec.env, spec.throwaway_env, self.values),
                network=network,
                networking_config={network: self.client.api.create_endpoint_config(aliases=[name])},
                labels=self.labels,
                pids_limit=4096,
                security_opt=["no-new-privileges"],
                **options,
            )
        except docker.errors.ImageNotFound as exc:
            raise StageFailure(
                stage, f"service {name}: no image {spec.image} here, and it cannot be pulled"
            ) from exc
        except docker.errors.APIError as exc:
            raise StageFailure(
                stage, f"service {name}: cannot start: {exc.explanation or exc}"
            ) from exc

    def _wait(self, services: ServiceSet, network: str, stage: str) -> None:
        started = time.monotonic()
        probes = {}
        for name, container in services.containers.items():
            container.reload()
            spec = self.services[name]
            port = spec.health.port if spec.health else None
            address = _address(container, network, port, self.internal) if port else None
            probes[name] = Probe(self.client, container, spec, address)
        while probes:
            for name, probe in list(probes.items()):
                spec = self.services[name]
                state = stopped(probe.container, spec.memory)
                if state:
                    raise ServiceNotReady(stage, name, state, _logs(probe.container))
                if probe.ready():
                    del probes[name]
                    continue
                limit = spec.health.timeout if spec.health else DEFAULT_TIMEOUT
                if time.monotonic() - started > limit:
                    state = f"not ready within {limit:g}s ({probe.what}: {probe.last})"
                    raise ServiceNotReady(stage, name, state, _logs(probe.container))
            if probes:
                time.sleep(POLL)


def _address(container: Any, network: str, port: int, internal: bool) -> tuple[str, int]:
    settings = container.attrs["NetworkSettings"]
    if internal:
        return settings["Networks"][network]["IPAddress"], port
    return "127.0.0.1", int(settings["Ports"][f"{port}/tcp"][0]["HostPort"])
