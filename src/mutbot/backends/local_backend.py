"""Local backend: the fallback without Docker. Runs `sandbox.command` as a process in the worktree.

Guarantees are weaker and said so in every result: a scrubbed environment, CPU pinning where the
OS allows it, memory enforced by a watchdog that kills the process group above the limit, and no
network isolation at all.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import psutil

from mutbot.backends.base import Artifact, CorePlan, Sample, helper_thread
from mutbot.config import Sandbox
from mutbot.errors import SandboxError, StageFailure
from mutbot.units import format_size

SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


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
        if not sandbox.command:
            raise SandboxError("the local backend needs sandbox.command (how to start the service)")
        self.sandbox = sandbox
        self.cores = cores
        self._instances: list[LocalInstance] = []
        pinning = f"pinned to core(s) {cores.service}" if cores.service else "not pinned"
        self.guarantees = (
            f"local process, {pinning}, memory watchdog at {format_size(sandbox.memory)}, "
            f"scrubbed environment, NO network isolation and no CPU quota"
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
        log.write_text("local backend: nothing to build; runs sandbox.command in the worktree\n")
        return Artifact(
            ref=str(project_dir), project_dir=project_dir, image_size_mb=None, build_seconds=0.0
        )

    def run_tests(self, artifact: Artifact, command: str, timeout: float, log: Path) -> None:
        with log.open("wb") as out:
            process = self._spawn(command, artifact.project_dir, out, clean_env())
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise StageFailure("tests", f"timed out after {timeout:g}s") from None
            finally:
                _kill_group(process)
        if code != 0:
            raise StageFailure("tests", f"tests failed (exit code {code}): {_tail(log)}")

    def start(self, artifact: Artifact, log: Path) -> LocalInstance:
        assert self.sandbox.command
        port = _free_port()
        out = log.open("wb")
        process = self._spawn(
            self.sandbox.command, artifact.project_dir, out, clean_env(PORT=str(port))
        )
        instance = LocalInstance(process, out, f"http://127.0.0.1:{port}", self.sandbox.memory)
        self._instances.append(instance)
        return instance

    def close(self) -> None:
        for instance in self._instances:
            instance.stop()
        self._instances.clear()

    def _spawn(
        self, command: str, cwd: Path, out: IO[bytes], env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        cores = self.cores.service

        def pin() -> None:
            if cores and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, cores)

        return subprocess.Popen(
            shlex.split(command),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=pin,
        )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class LocalInstance:
    def __init__(
        self, process: subprocess.Popen[bytes], out: IO[bytes], url: str, memory: int
    ) -> None:
        self.process = process
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

    def stop_sampling(self) -> list[Sample]:
        self._sampling = False
        return list(self._samples)

    def _watch(self) -> None:
        """Samples CPU and resident memory of the whole process tree; enforces the memory limit."""
        helper_thread()
        try:
            root = psutil.Process(self.process.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.wait(0.2):
            try:
                tree = [root, *root.children(recursive=True)]
                cpu = sum(sum(p.cpu_times()[:2]) for p in tree)
                rss = sum(p.memory_info().rss for p in tree)
            except psutil.NoSuchProcess:
                return
            if rss > self._memory:
                self._oom = True
                _kill_group(self.process)
                return
            if self._sampling:
                self._samples.append(Sample(at=time.time(), cpu_seconds=cpu, memory_bytes=rss))

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        _kill_group(self.process)
        self._watchdog.join(timeout=2)
        self._out.close()
