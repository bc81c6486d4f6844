"""Local backend: for machines without Docker. Runs `sandbox.local_command` as a process in a
copy of the candidate's tracked files (no `.git`).

Guarantees are weaker and said so in every result: a scrubbed environment, no new privileges,
the unprivileged user `nobody` when mutbot runs as root (root could read every process's
environment), CPU pinning where the OS allows it, memory enforced by a watchdog that kills the
process group above the limit (a candidate's own memory limit too; a candidate's own CPU limit
cannot be measured and is refused), and no network isolation at all. It starts no
`sandbox.services` and reads no `sandbox.compose` (such a config is refused), and applies none
of the container's settings (`build`, `command`, `entrypoint`, `env`, `throwaway_env`).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import psutil

from mutbot import reaper
from mutbot.backends.base import Artifact, CorePlan, Limits, Sample, helper_thread
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError, StageFailure
from mutbot.hardening import confine_child
from mutbot.units import format_size

SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
NOBODY = 65534  # services and tests run as this user (and group) when mutbot runs as root


def available() -> str | None:
    return None


def clean_env(**extra: str) -> dict[str, str]:
    """Only harmless variables pass: no tokens, keys or credentials from the caller."""
    env = {k: os.environ[k] for k in SAFE_ENV if k in os.environ}
    env.update({"PYTHONUNBUFFERED": "1", "HOME": "/tmp", **extra})
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path) -> str:
    rows = [r.strip() for r in path.read_text("utf-8", "replace").splitlines() if r.strip()]
    return rows[-1][:300] if rows else "no output"


class LocalBackend:
    name = "local"

    def __init__(self, sandbox: Sandbox, run_id: str, cores: CorePlan) -> None:
        if not sandbox.local_command:
            raise ConfigError(_missing_command(sandbox))
        unsupported = _unsupported(sandbox)
        if unsupported:
            raise ConfigError(
                f"the local backend cannot {unsupported}; measure with --backend docker"
            )
        self.sandbox = sandbox
        self.cores = cores
        self.as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        self._instances: list[LocalInstance] = []
        self._groups = reaper.owned_folder("mutbot-proc-")  # the reaper's record of our groups
        pinning = f"pinned to core(s) {cores.service}" if cores.service else "not pinned"
        who = (
            "as the unprivileged user nobody (no groups)"
            if self.as_root
            else "as your user (mutbot's own process closed to it)"
        )
        self.guarantees = (
            f"local process {who}, no new privileges, in a copy of the tracked files without "
            f".git, {pinning}, memory watchdog at {format_size(sandbox.memory)}, scrubbed "
            "environment, NO network isolation and no CPU quota"
        )

    def build(
        self, project_dir: Path, tag: str, log: Path, changed: tuple[str, ...] = ()
    ) -> Artifact:
        unused = sorted({self.sandbox.dockerfile, ".dockerignore"} & set(changed))
        if unused:  # measuring it here would compare the baseline with itself
            raise StageFailure(
                "build",
                f"the local backend does not use {', '.join(unused)}; "
                "measure this change with --backend docker",
            )
        if self.as_root:  # tests and services run as nobody, and may write where they run
            _chown_tree(project_dir, NOBODY)
        log.write_text("local backend: nothing to build; runs sandbox.local_command in the copy\n")
        return Artifact(
            ref=str(project_dir), project_dir=project_dir, image_size_mb=None, build_seconds=0.0
        )

    def cold_build(self, artifact: Artifact, log: Path) -> float:
        raise StageFailure("build", "the local backend builds nothing: build_seconds needs Docker")

    def compressed_mb(self, artifact: Artifact) -> float | None:
        return None

    def run_tests(self, artifact: Artifact, command: str, timeout: float, log: Path) -> None:
        with log.open("wb") as out:
            env = clean_env(**{reaper.MARKER: self._groups.name})
            process = self._spawn("tests", command, artifact.project_dir, out, env)
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise StageFailure("tests", f"timed out after {timeout:g}s") from None
            finally:
                _kill_group(process, self._groups)
        if code != 0:
            raise StageFailure("tests", f"tests failed (exit code {code}): {_tail(log)}")

    def start(self, artifact: Artifact, log: Path, side: str = "baseline") -> LocalInstance:
        """`side` only matters to services, which this backend refuses to run. The watchdog
        holds the artifact's memory limit (a candidate's own) or the config's."""
        assert self.sandbox.local_command
        port = _free_port()
        out = log.open("wb")
        env = clean_env(PORT=str(port), **{reaper.MARKER: self._groups.name})
        try:
            process = self._spawn(
                "start", self.sandbox.local_command, artifact.project_dir, out, env
            )
        except StageFailure:
            out.close()
            raise
        memory = artifact.limits.memory if artifact.limits else self.sandbox.memory
        instance = LocalInstance(process, out, f"http://127.0.0.1:{port}", memory, self._groups)
        self._instances.append(instance)
        return instance

    def refuses(self, limits: Limits) -> str | None:
        """Memory is the watchdog's to hold, for a candidate's own limit as for the config's;
        a CPU limit has nothing here to enforce it."""
        if limits.cpus == self.sandbox.cpus:
            return None
        return (
            f"the local backend has no CPU quota: a CPU limit of {limits.cpus:g} cannot be "
            "measured here; measure with --backend docker"
        )

    def close(self) -> None:
        for instance in self._instances:
            instance.stop()
        self._instances.clear()
        shutil.rmtree(self._groups, ignore_errors=True)

    def _spawn(
        self, stage: str, command: str, cwd: Path, out: IO[bytes], env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        cores, parent = self.cores.service, os.getpid()

        def confine() -> None:  # in the child, after it became nobody (if root), before exec
            if cores and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, cores)
            confine_child(parent)

        nobody = NOBODY if self.as_root else None
        try:
            process = subprocess.Popen(
                shlex.split(command),
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=confine,
                user=nobody,
                group=nobody,
                extra_groups=[] if self.as_root else None,
            )
        except OSError as exc:  # not found, or not runnable (by nobody: docs/sandbox.md)
            who = " as nobody (mutbot runs as root)" if self.as_root else ""
            where = f": {exc.filename}" if exc.filename else ""
            raise StageFailure(
                stage, f"cannot run {command!r}{who}: {exc.strerror}{where}"
            ) from None
        except ValueError as exc:  # shlex: unbalanced quotes
            raise StageFailure(stage, f"cannot read the command {command!r}: {exc}") from None
        reaper.record_group(self._groups, process.pid)
        return process


def _missing_command(sandbox: Sandbox) -> str:
    if sandbox.command is not None:  # the key's meaning before sandbox.command went to Docker
        written = shlex.join(_words(sandbox.command))
        return (
            "sandbox.command is the container's command (docker backend); the local backend "
            f"starts sandbox.local_command: write `local_command: {written}` in the sandbox section"
        )
    return "the local backend needs sandbox.local_command (how to start the service here)"


def _words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else command


def _unsupported(sandbox: Sandbox) -> str | None:
    """What the local backend cannot do of what the config asks (it runs a host process)."""
    if sandbox.services:
        return f"start services ({', '.join(sandbox.services)}): they run from images"
    if sandbox.compose:
        return "read a compose file (sandbox.compose)"
    return None


def _chown_tree(top: Path, uid: int) -> None:
    for folder, _, names in os.walk(top):
        os.chown(folder, uid, uid)
        for name in names:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def _kill_group(process: subprocess.Popen[bytes], groups: Path) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    reaper.forget_group(groups, process.pid)


def _usage(root: psutil.Process) -> tuple[float, int]:
    """CPU seconds and resident memory of a process and all its descendants."""
    tree = [root, *root.children(recursive=True)]
    return sum(sum(p.cpu_times()[:2]) for p in tree), sum(p.memory_info().rss for p in tree)


class LocalInstance:
    def __init__(
        self, process: subprocess.Popen[bytes], out: IO[bytes], url: str, memory: int, groups: Path
    ) -> None:
        self.process = process
        self._groups = groups
        self.url = url
        self._out = out
        self._memory = memory
        self._samples: list[Sample] = []
        self._oom = False
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._sampling = False
        self._stopped = False
        self._watchdog.start()

    def failure(self) -> str | None:
        if self._oom:
            return f"killed for memory (limit {format_size(self._memory)})"
        code = self.process.poll()
        return None if code is None else f"crashed: exit code {code}"

    def start_sampling(self) -> None:
        self._sampling = True

    def stop_sampling(self, until: float | None = None) -> list[Sample]:
        """The watchdog's samples (every 0.2 s); with `until` (the window's end, passed), one
        more taken now, so the window's end is covered without waiting for the next."""
        self._sampling = False
        if until is not None and not (self._samples and self._samples[-1].at >= until):
            with contextlib.suppress(psutil.Error):
                cpu, rss = _usage(psutil.Process(self.process.pid))
                self._samples.append(Sample(at=time.time(), cpu_seconds=cpu, memory_bytes=rss))
        return sorted(self._samples, key=lambda sample: sample.at)

    def _watch(self) -> None:
        """Samples CPU and resident memory of the whole process tree; enforces the memory limit."""
        helper_thread()
        try:
            root = psutil.Process(self.process.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.wait(0.2):
            try:
                cpu, rss = _usage(root)
            except psutil.NoSuchProcess:
                return
            if rss > self._memory:
                self._oom = True
                _kill_group(self.process, self._groups)
                return
            if self._sampling:
                self._samples.append(Sample(at=time.time(), cpu_seconds=cpu, memory_bytes=rss))

    def release(self) -> None:
        self.stop()  # a process group goes at once

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        _kill_group(self.process, self._groups)
        self._watchdog.join(timeout=2)
        self._out.close()
