"""Load edge: runs sandbox/locust_runner.py in its own process (Locust monkey-patches with gevent)
and reads back every request it made.

One runner process serves a whole run (`--serve`): started on the first trial, it takes each
trial as a command on its stdin and runs it on fresh Locust state, so no trial pays for a
process start and Locust's imports. It runs in a session of its own (a terminal's Ctrl-C goes to
mutbot, which stops it), dies with mutbot (PR_SET_PDEATHSIG), and is recorded for the reaper
(reaper.record_group) in case both fail. A trial that goes wrong in any way (a timeout, an
interruption, a runner that exits) kills its process; the next trial starts a fresh one.

`close()` stops every runner process; a run calls it when it ends (`session()` is the same as a
context manager); atexit calls it too, for callers that do not.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mutbot import reaper
from mutbot.backends.local_backend import clean_env
from mutbot.errors import LoadError
from mutbot.hardening import confine_child
from mutbot.metrics import RawLoad

if TYPE_CHECKING:
    from mutbot.calibrate import LoadPlan

REPLY_LIMIT = 64 * 1024  # a reply is one short JSON line


@dataclass(frozen=True)
class LoadRun:
    raw: RawLoad
    loadgen_cpu_fraction: float
    errors: dict[str, int]
    scheduled_in_window: int | None  # open-loop: arrivals planned inside the window
    capped: bool = False  # the window reached max_duration before min_requests
    # epochs of the load generator's steps: called, spawned (a new process), imported, received,
    # t0, first_request, window_start, window_end, stopped, answered, parsed
    timings: dict[str, float] = field(default_factory=dict)


def runner_path() -> Path:
    return Path(str(importlib.resources.files("mutbot_sandbox") / "locust_runner.py"))


def runner_args(url: str, locustfile: Path, load: LoadPlan, out: Path) -> list[str]:
    """The runner's arguments for one trial (its one-shot command line, or a served command)."""
    args = [
        "--locustfile",
        str(locustfile),
        "--host",
        url,
        "--users",
        str(load.users),
        "--spawn-rate",
        str(load.spawn_rate),
        "--duration",
        str(load.duration),
        "--warmup",
        str(load.warmup),
        "--out",
        str(out),
        "--warmup-requests",
        str(load.warmup_requests),
        "--max-warmup",
        str(load.max_warmup),
        "--min-requests",
        str(load.min_requests),
        "--max-duration",
        str(load.max_duration),
    ]
    if load.arrival_rate:
        args += ["--arrival-rate", str(load.arrival_rate)]
    if load.no_wait:
        args.append("--no-wait")
    return args


class Gone(Exception):
    """The runner process had exited before the trial was sent to it."""


class Generator:
    """One served runner process, pinned to `cores`."""

    def __init__(self, cores: tuple[int, ...] | None, log: Path, records: Path) -> None:
        self.cores = cores
        self._records = records
        parent = os.getpid()

        def pin() -> None:
            if cores and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, cores)
            confine_child(parent)  # dies with mutbot, even on SIGKILL

        self.spawned = time.time()
        with log.open("ab") as err:  # until the first command: its start-up goes to this log
            self.process = subprocess.Popen(
                [sys.executable, "-P", str(runner_path()), "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=clean_env(**{reaper.MARKER: records.name}),
                start_new_session=True,  # Ctrl-C reaches mutbot, which stops it
                preexec_fn=pin,
            )
        reaper.record_group(records, self.process.pid)
        self._pending = b""
        self.trials = 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, args: list[str], log: Path, cwd: Path, limit: float) -> int:
        """One trial; its exit code. TimeoutError when no answer comes within `limit` seconds;
        Gone when the process had exited, or was exiting, before it read the trial."""
        assert self.process.stdin is not None
        command = {"argv": args, "log": str(log.resolve()), "cwd": str(cwd.resolve())}
        try:
            self.process.stdin.write((json.dumps(command) + "\n").encode())
            self.process.stdin.flush()
        except OSError:  # a broken pipe: nobody reads its stdin any more
            raise Gone from None
        deadline = time.monotonic() + limit
        if self._answer(deadline) is None:  # it had exited, or was exiting, before it read it
            raise Gone
        self.trials += 1
        line = self._answer(deadline)
        if line is None:
            return self._exit_code()
        try:
            reply = json.loads(line)
            return int(reply["code"])
        except (ValueError, KeyError, TypeError):
            self.close()
            return 70

    def _answer(self, deadline: float) -> bytes | None:
        """One line from the runner; None when it exited first."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk or len(self._pending) > REPLY_LIMIT:
                return None
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _exit_code(self) -> int:
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.close()
            return 70

    def close(self) -> None:
        """Kill it (and anything it started) and wait for it; safe to call twice."""
        if self.process.returncode is None:  # not reaped yet: the group id is still its own
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        reaper.forget_group(self._records, self.process.pid)


class _Pool:
    """The runner processes of this process: idle ones wait for the next trial."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[Generator] = []
        self.all: set[Generator] = set()
        self.records: Path | None = None  # the reaper's record of our runner processes
        self.registered = False

    def take(self, cores: tuple[int, ...] | None, log: Path) -> Generator:
        with self.lock:
            while self.idle:
                generator = self.idle.pop()
                if generator.cores == cores and generator.alive():
                    return generator
                self._drop(generator)
            if self.records is None or not self.records.is_dir():
                # mutbot-proc-: the same kind of record the local backend keeps of its services
                self.records = reaper.owned_folder("mutbot-proc-")
            if not self.registered:
                atexit.register(close)
                self.registered = True
            generator = Generator(cores, log, self.records)
            self.all.add(generator)
            return generator

    def give_back(self, generator: Generator) -> None:
        with self.lock:
            if generator in self.all and generator.alive():
                self.idle.append(generator)
            else:
                self._drop(generator)

    def discard(self, generator: Generator) -> None:
        with self.lock:
            self._drop(generator)

    def _drop(self, generator: Generator) -> None:
        generator.close()
        self.all.discard(generator)

    def close(self) -> None:
        with self.lock:
            for generator in list(self.all):
                self._drop(generator)
            self.idle.clear()
            if self.records is not None:
                shutil.rmtree(self.records, ignore_errors=True)
                self.records = None


_pool = _Pool()


def close() -> None:
    """Stop every load generator process this process started. Safe to call twice, and at any
    time: the next trial starts a new one."""
    _pool.close()


@contextlib.contextmanager
def session() -> Iterator[None]:
    """Runner processes for as long as the block lasts: `close()` at its end, however it ends."""
    try:
        yield
    finally:
        close()


def processes() -> list[int]:
    """The pids of the runner processes alive now (for tests and diagnostics)."""
    with _pool.lock:
        return [g.process.pid for g in _pool.all if g.alive()]


def drive(
    url: str, locustfile: Path, load: LoadPlan, out: Path, log: Path, cores: tuple[int, ...] | None
) -> LoadRun:
    called = time.time()
    args = runner_args(url, locustfile, load, out)
    limit = load.max_warmup + load.max_duration + 60  # the runner's own watchdog fires first
    out.unlink(missing_ok=True)  # a file left by an earlier attempt is not this trial's
    generator = _pool.take(cores, log)
    fresh = generator.trials == 0
    try:
        try:
            code = generator.run(args, log, locustfile.parent, limit)
        except Gone:  # it died while idle (killed from outside): the trial never started
            _pool.discard(generator)
            generator = _pool.take(cores, log)
            fresh = True
            code = generator.run(args, log, locustfile.parent, limit)
    except Gone:
        _pool.discard(generator)
        raise LoadError(f"the load generator exited before the trial began; see {log}") from None
    except TimeoutError:
        _pool.discard(generator)
        raise LoadError(f"the load generator did not finish within {limit:g}s; see {log}") from None
    except BaseException:  # interrupted mid-trial: its state is unknown, so it goes
        _pool.discard(generator)
        raise
    answered = time.time()
    _pool.give_back(generator)
    if code != 0 or not out.is_file():
        try:
            tail = log.read_text("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        except OSError:
            tail = ["no output"]
        raise LoadError(f"the load generator failed (exit code {code}): {tail[0][:300]}")
    run = read_result(out)
    timings = {"called": called, **run.timings, "answered": answered, "parsed": time.time()}
    if fresh:
        timings["spawned"] = generator.spawned
    else:
        timings.pop("imported", None)  # paid by an earlier trial
    return LoadRun(
        raw=run.raw,
        loadgen_cpu_fraction=run.loadgen_cpu_fraction,
        errors=run.errors,
        scheduled_in_window=run.scheduled_in_window,
        capped=run.capped,
        timings=timings,
    )


def read_result(out: Path) -> LoadRun:
    """The runner's result file."""
    data = json.loads(out.read_text(encoding="utf-8"))
    raw = RawLoad(
        window_start=float(data["window_start"]),
        window_end=float(data["window_end"]),
        requests=[(float(r[0]), float(r[1]), bool(r[2])) for r in data["requests"]],
    )
    scheduled = data.get("scheduled_in_window")
    found = data.get("timings") or {}
    timings = {k: float(v) for k, v in found.items() if isinstance(v, int | float)}
    timings.update(window_start=raw.window_start, window_end=raw.window_end)
    return LoadRun(
        raw=raw,
        loadgen_cpu_fraction=float(data.get("loadgen_cpu_fraction", 0.0)),
        errors=dict(data.get("errors", {})),
        scheduled_in_window=None if scheduled is None else int(scheduled),
        capped=bool(data.get("capped", False)),
        timings=timings,
    )
