"""What every sandbox backend provides: build, test, start an instance, sample its usage."""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mutbot.config_sandbox import Sandbox


@dataclass(frozen=True)
class Limits:
    """The CPU and memory an instance runs with."""

    cpus: float
    memory: int  # bytes


@dataclass(frozen=True)
class Artifact:
    """What the build stage produced for one side of a comparison."""

    ref: str  # image id (docker) or the project folder (local)
    project_dir: Path
    image_size_mb: float | None
    build_seconds: float
    # a candidate's own, when its change sets the measured service's limits; None: the config's
    limits: Limits | None = None
    # the built image's environment (`PYTHON_VERSION=3.11.9`, …): what the build resolved
    env: tuple[tuple[str, str], ...] = ()
    # the image's layers gzip-compressed as a registry stores them (when an objective wants it)
    image_compressed_mb: float | None = None


@dataclass(frozen=True)
class Sample:
    at: float  # epoch seconds
    cpu_seconds: float  # cumulative CPU time of the service
    memory_bytes: int  # working-set memory (page cache excluded)


class Instance(Protocol):
    """One running copy of the service, fresh for each trial."""

    url: str

    def failure(self) -> str | None:
        """None while running; otherwise why it stopped ("crashed: exit code 1", ...)."""

    def start_sampling(self) -> None: ...

    def stop_sampling(self, until: float | None = None) -> list[Sample]:
        """The samples since start_sampling; with `until` (epoch seconds, the window's end),
        once one was taken at or after it (or the backend gave up waiting for one)."""

    def stop(self) -> None:
        """Save logs and remove everything this instance made; safe to call twice."""

    def release(self) -> None:
        """Done with it, after a trial that went well: stopped now, or (Docker) while the
        backend starts its next instance, before that one's time to healthy is counted, or
        when the backend closes. Its log is saved all the same."""


class Backend(Protocol):
    name: str
    guarantees: str  # one line for the PR body: what isolation this backend gives

    def build(
        self, project_dir: Path, tag: str, log: Path, changed: tuple[str, ...] = ()
    ) -> Artifact:
        """Raise StageFailure('build', reason) when it fails, or when this backend cannot measure
        a change to one of the `changed` files (relative to the project folder)."""

    def cold_build(self, artifact: Artifact, log: Path) -> float:
        """Seconds a build of the artifact's sources takes without any cache (the base image
        aside: nothing is pulled); nothing of it is kept. StageFailure('build') when it fails."""

    def compressed_mb(self, artifact: Artifact) -> float | None:
        """The artifact's image as pulled: its layers gzip-compressed (None: no image)."""

    def run_tests(self, artifact: Artifact, command: str, timeout: float, log: Path) -> None:
        """Raise StageFailure('tests', reason) when the tests fail or time out."""

    def start(self, artifact: Artifact, log: Path, side: str = "baseline") -> Instance:
        """A fresh instance with the artifact's limits (else the config's), its services ready
        (StageFailure('start') when one is not); with `sandbox.reset: candidate` the instances
        of one (artifact, side) share their services."""

    def refuses(self, limits: Limits) -> str | None:
        """Why instances cannot run with a candidate's own limits here (one line), or None."""

    def close(self) -> None:
        """Remove every container, network, image and process this backend made."""


def helper_thread() -> None:
    """First call in every helper thread: leave SIGINT, SIGTERM and SIGALRM to the main thread.

    A signal taken by a helper thread does not interrupt the main thread's blocking system call
    (waiting for the load generator, say), so Ctrl-C would wait for it to finish."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGALRM})


@dataclass(frozen=True)
class CorePlan:
    """Service and load generator on different cores when the machine has enough of them."""

    service: tuple[int, ...] | None
    load: tuple[int, ...] | None


def plan_cores(cpus: float, available: list[int]) -> CorePlan:
    need = max(1, int(-(-cpus // 1)))  # ceil
    if len(available) < need + 1:
        return CorePlan(service=None, load=None)
    return CorePlan(
        service=tuple(available[-need:]), load=tuple(available[: len(available) - need])
    )


@dataclass(frozen=True)
class BackendSpec:
    """A registry entry: how to tell whether a backend works here, and how to make one."""

    available: Callable[[], str | None]  # None when usable; otherwise why not
    create: Callable[[Sandbox, str, CorePlan], Backend]
