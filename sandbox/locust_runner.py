"""Drive a Locust load test as a library and dump every request's raw timing to JSON.

Runs as its own subprocess because importing locust monkey-patches the process with gevent.

Closed loop (default): plain Locust; each request is recorded as [start_epoch, latency_ms, ok].
Open loop (--arrival-rate R): the users are a worker pool and task k is released at t0 + k/R;
requests are recorded as [intended_start_epoch, latency_ms, ok], latency counted from the intended
start so queueing behind busy workers counts (the coordinated-omission correction, as in wrk2).

The measured window opens once --warmup-requests requests have completed, no earlier than
--warmup and no later than --max-warmup seconds after the start. It lasts at least --duration
seconds and until --min-requests requests started inside it, at most --max-duration seconds:
closed loop extends it while it runs; open loop knows its length up front (min-requests / rate).

`--serve` keeps one process for a whole run (mutbot.load starts it): it reads one command a line
on stdin, `{"argv": [the arguments above], "log": path, "cwd": folder}`, runs that trial on fresh
Locust state (a new Environment, runner and user classes: the locustfile is loaded again, the
modules it imported from its folder are forgotten), with its stdout and stderr going to `log`,
and answers on its own stdout: `{"received": epoch}` at once, then `{"code": exit code}` when
the trial is over, a line each. Codes as the one-shot mode's
exit codes; after any code but 0 and 2 (the locustfile could not be loaded) it exits. It also
exits at the end of stdin.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import resource
import signal
import socket
import struct
import sys
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

import gevent
import gevent.event
import gevent.socket
from locust.env import Environment
from locust.user import User
from locust.util.load_locustfile import load_locustfile

IMPORTED_AT = time.time()  # what a fresh process pays before it can load anything: its imports
MAX_ERROR_KEYS = 20
WATCHDOG_GRACE_S = 30.0
LATE_START_S = 0.010  # an open-loop slot starting later than this found every worker busy


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--locustfile", required=True, type=Path)
    p.add_argument("--host", required=True)
    p.add_argument("--users", required=True, type=int)
    p.add_argument("--spawn-rate", required=True, type=float)
    p.add_argument("--duration", required=True, type=float)
    p.add_argument("--warmup", required=True, type=float)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--max-requests", type=int, default=1_000_000)
    p.add_argument("--arrival-rate", type=float, default=None, help="open loop: tasks/second")
    p.add_argument("--warmup-requests", type=int, default=0, help="completed before the window")
    p.add_argument("--max-warmup", type=float, default=None, help="default: --warmup")
    p.add_argument("--min-requests", type=int, default=0, help="started inside the window")
    p.add_argument("--max-duration", type=float, default=None, help="default: --duration")
    p.add_argument("--no-wait", action="store_true", help="replace the users' wait_time by 0")
    args = p.parse_args(argv)
    if min(args.users, args.max_requests) < 1 or min(args.spawn_rate, args.duration) <= 0:
        p.error("need users, max-requests >= 1 and spawn-rate, duration > 0")
    if args.warmup < 0 or min(args.warmup_requests, args.min_requests) < 0:
        p.error("warmup, warmup-requests and min-requests must be >= 0")
    args.max_warmup = args.warmup if args.max_warmup is None else args.max_warmup
    args.max_duration = args.duration if args.max_duration is None else args.max_duration
    if not (args.warmup <= args.max_warmup < math.inf):
        p.error("max-warmup must be finite and >= warmup")
    if not (args.duration <= args.max_duration < math.inf):
        p.error("max-duration must be finite and >= duration")
    if args.arrival_rate is not None and not (0 < args.arrival_rate < math.inf):
        p.error("arrival-rate must be a finite number > 0")
    return args


LINGER_RESET = struct.pack("ii", 1, 0)  # l_onoff=1, l_linger=0: close() sends a reset


_patched: list[bool] = []


def reset_on_close() -> None:
    """Client sockets close with a reset instead of lingering in TIME_WAIT. A service that closes
    every connection (gunicorn's sync workers) costs one host port per request; a trial of tens
    of thousands of requests otherwise leaves as many TIME_WAIT sockets for 60 s, and the next
    trial's connects crawl hunting for a free port (measured: 2,460 -> 598 req/s, the load
    generator pinned at 100% CPU): the previous trial would decide the next one's figures."""
    if _patched:  # once per process: a served process runs many trials
        return
    _patched.append(True)
    cls = gevent.socket.socket
    original = cls.connect

    def connect(self: Any, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and self.type == socket.SOCK_STREAM:
            self.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        return original(self, address)

    cls.connect = connect


def sleep_until(epoch: float) -> None:
    # Re-check the wall clock: libev timers count from the loop's cached time, which is stale
    # after blocking work (loading the locustfile, runner.start), so one sleep can end early.
    while (left := epoch - time.time()) > 0:
        gevent.sleep(left)


def load_user_classes(path: Path) -> list[type[User]]:
    # load_locustfile already drops abstract classes; also drop ones with nothing to run.
    # It puts the working folder first on sys.path every time it is called: once is enough.
    before = list(sys.path)
    try:
        user_classes, _shapes = load_locustfile(str(path.resolve()))
    finally:
        cwd = os.getcwd()
        sys.path[:] = before if cwd in before else [cwd, *before]
    return [cls for cls in user_classes.values() if getattr(cls, "tasks", None)]


class OpenLoop:
    """A fixed-arrival-rate schedule shared by every user: slot k starts at t0 + k / rate."""

    def __init__(self, t0: float, rate: float) -> None:
        self.t0, self.rate = t0, rate
        self.next_slot = 0  # gevent is cooperative: no lock needed around the counter
        self.current: dict[Any, float] = {}  # greenlet -> intended start of the task it runs
        self.on_time: list[float] = []  # intended starts of slots that began <= LATE_START_S late

    def intended(self, k: int) -> float:
        return self.t0 + k / self.rate

    def first_slot_at(self, epoch: float) -> int:
        """Smallest k whose intended start is >= epoch (same float expression as the records)."""
        k = max(0, math.ceil((epoch - self.t0) * self.rate))
        while k > 0 and self.intended(k - 1) >= epoch:
            k -= 1
        while self.intended(k) < epoch:
            k += 1
        return k

    def take_slot(self) -> None:
        k, self.next_slot = self.next_slot, self.next_slot + 1
        start = self.intended(k)
        self.current[gevent.getcurrent()] = start
        sleep_until(start)
        if time.time() - start <= LATE_START_S:
            self.on_time.append(start)

    def instrument(self, cls: type[User]) -> None:
        # Locust runs on_start, then task, wait_time, task, wait_time, ...: so a slot is taken
        # before every task. The locustfile's own wait_time is replaced (TaskSets that define
        # their own wait_time escape the schedule). on_stop requests belong to no slot.
        orig_start, orig_stop = cls.on_start, cls.on_stop

        def wait_time(_user: User) -> float:
            self.take_slot()
            return 0.0

        def on_start(user: User) -> None:
            orig_start(user)
            self.take_slot()

        def on_stop(user: User) -> None:
            self.current.pop(gevent.getcurrent(), None)
            orig_stop(user)  # type: ignore[no-untyped-call]

        for name, fn in (("wait_time", wait_time), ("on_start", on_start), ("on_stop", on_stop)):
            setattr(cls, name, fn)

    def window_counts(self, start: float, end: float, stopped: float) -> tuple[int, int]:
        """(slots scheduled in [start, end), those that started late or never, though due)."""
        scheduled = self.first_slot_at(end) - self.first_slot_at(start)
        cutoff = min(end, stopped - LATE_START_S)
        due = max(0, self.first_slot_at(cutoff) - self.first_slot_at(start))
        on_time = sum(1 for s in self.on_time if start <= s < cutoff)
        return scheduled, due - on_time


def open_window_seconds(args: argparse.Namespace) -> tuple[float, bool]:
    """Open loop: (window length, whether max-duration cut it short of min-requests)."""
    wanted = args.min_requests / args.arrival_rate
    return min(max(wanted, args.duration), args.max_duration), wanted > args.max_duration


def zero_wait(_user: User) -> float:
    return 0.0


def on_watchdog(_signum: int, _frame: FrameType | None) -> None:
    # os._exit: a wedged hub or a user greenlet swallowing GreenletExit must not keep us alive.
    sys.stderr.write("locust_runner: hard wall-clock deadline exceeded, aborting\n")
    os._exit(3)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # A real SIGALRM (not a gevent timer) so it fires even if the event loop is starved.
    signal.signal(signal.SIGALRM, on_watchdog)
    if argv == ["--serve"]:
        return serve()
    return run(parse_args(argv), time.time())


def serve() -> int:
    """Trials one after the other, as commands on stdin (see the module's docstring)."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # a locustfile's print() goes to the log, never into the replies
    for line in sys.stdin:  # not monkey-patched: blocks the whole hub between trials
        received = time.time()
        replies.write(json.dumps({"received": received}) + "\n")  # the trial has begun
        try:
            command = json.loads(line)
            argv, log, cwd = [str(a) for a in command["argv"]], command["log"], command["cwd"]
            redirect(str(log))
            os.chdir(str(cwd))
        except (ValueError, KeyError, TypeError, OSError) as exc:
            replies.write(json.dumps({"code": 64, "error": f"bad command: {exc}"}) + "\n")
            return 64
        code = serve_one(argv, received)
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(json.dumps({"code": code}) + "\n")
        if code not in (0, 2):
            return code
        gc.collect()  # between trials, not inside the next one
    return 0


def serve_one(argv: list[str], received: float) -> int:
    known = set(sys.modules)
    try:
        return run(parse_args(argv), received)
    except SystemExit as exc:  # argparse: the message is in the log already
        return exc.code if isinstance(exc.code, int) else 2
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        forget_user_modules(known, Path.cwd())


def redirect(log: str) -> None:
    """This trial's stdout and stderr go to its own log."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)


def forget_user_modules(known: set[str], folder: Path) -> None:
    """The next trial imports the locustfile's own modules afresh, as a new process would
    (not the libraries it imported for the first time: those are the installation's)."""
    folder = folder.resolve()
    installed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    for name in set(sys.modules) - known:
        file = getattr(sys.modules.get(name), "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if path.is_relative_to(folder) and not any(path.is_relative_to(p) for p in installed):
            del sys.modules[name]


def run(args: argparse.Namespace, received: float) -> int:
    """One trial; `received`: when this process was asked for it (its timings start there)."""
    signal.setitimer(signal.ITIMER_REAL, args.max_warmup + args.max_duration + WATCHDOG_GRACE_S)

    try:
        classes = load_user_classes(args.locustfile)
    except Exception as exc:  # user code: report one line instead of a traceback
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        print(f"locust_runner: cannot load {args.locustfile}: {first}", file=sys.stderr)
        return 2
    if not classes:
        msg = f"no concrete User classes with tasks in {args.locustfile}"
        print(f"locust_runner: {msg}", file=sys.stderr)
        return 2
    if args.no_wait:  # a capacity ramp: every user sends as fast as the service answers
        for cls in classes:
            cls.wait_time = zero_wait

    reset_on_close()
    env = Environment(user_classes=classes, host=args.host)
    runner = env.create_local_runner()
    records: list[list[float]] = []
    errors: dict[str, int] = {}
    done = gevent.event.Event()
    warm = gevent.event.Event()  # warmup-requests have completed
    enough = gevent.event.Event()  # min-requests started inside the window have completed
    state: dict[str, Any] = {
        "stopped_early": False,
        "warm_at": None,
        "window_start": None,
        "window_end": None,
        "in_window": 0,
        "enough_at": None,
        "warmup_capped": False,
        "capped": False,
    }
    sched: OpenLoop | None = None  # set just before the users start

    def on_request(
        name: str = "",
        response_time: float | None = None,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        if len(records) >= args.max_requests:
            return  # past the cap: in-flight stragglers while quitting are dropped
        rt = float(response_time or 0.0)
        started = start_time if start_time is not None else time.time() - rt / 1000.0
        intended = sched.current.get(gevent.getcurrent()) if sched is not None else None
        if intended is None:  # closed loop (or an open-loop request outside any task)
            started = round(started, 6)
        else:
            # Open loop: latency runs from the task's intended start to completion, including
            # any wait for a free worker. A task making several requests: all of them count
            # from that same intended start. Unrounded, so window comparisons stay exact.
            started, rt = intended, (started + rt / 1000.0 - intended) * 1000.0
        records.append([started, round(rt, 3), 0 if exception else 1])
        now = time.time()
        if not warm.is_set() and len(records) >= args.warmup_requests:
            state["warm_at"] = now
            warm.set()
        opened = state["window_start"]
        if opened is not None and started >= opened:
            state["in_window"] += 1
            if state["in_window"] >= args.min_requests and not enough.is_set():
                state["enough_at"] = now
                enough.set()
        if exception is not None:
            text = (str(exception).strip().splitlines() or [type(exception).__name__])[0]
            key = f"{name} {text}"
            # Bounded so a flood of unique messages can't bloat the file; counts stay in records.
            if key in errors or len(errors) < MAX_ERROR_KEYS:
                errors[key] = errors.get(key, 0) + 1
        if len(records) >= args.max_requests and not done.is_set():
            state["stopped_early"] = True
            done.set()

    env.events.request.add_listener(on_request)  # type: ignore[no-untyped-call]
    samples: dict[str, tuple[float, float]] = {}  # label -> (wall epoch, cpu seconds)

    def sample(label: str) -> None:
        samples.setdefault(label, (time.time(), cpu_seconds()))

    t0 = time.time()
    samples["t0"] = (t0, cpu_seconds())
    if args.warmup_requests == 0:
        state["warm_at"] = t0
        warm.set()
    if args.arrival_rate is not None:
        sched = OpenLoop(t0, args.arrival_rate)
        for cls in classes:
            sched.instrument(cls)
    window_seconds, open_capped = (
        open_window_seconds(args) if sched is not None else (args.duration, False)
    )

    def control() -> None:
        # Absolute epochs throughout, so start() overhead doesn't shift the window.
        sleep_until(t0 + args.warmup)
        warm.wait(timeout=max(0.0, t0 + args.max_warmup - time.time()))
        if warm.is_set():
            start = max(t0 + args.warmup, state["warm_at"])
        else:  # a slow or dead service: never wait past the cap
            start, state["warmup_capped"] = t0 + args.max_warmup, True
        state["window_start"] = start
        sample("start")
        state["in_window"] = sum(1 for r in records if r[0] >= start)
        if sched is not None:
            state["capped"] = open_capped
            state["window_end"] = start + window_seconds
            sleep_until(state["window_end"])
        else:
            if state["in_window"] >= args.min_requests:
                state["enough_at"] = time.time()
                enough.set()
            sleep_until(start + args.duration)
            enough.wait(timeout=max(0.0, start + args.max_duration - time.time()))
            if enough.is_set():
                state["window_end"] = max(start + args.duration, state["enough_at"])
            else:
                state["window_end"], state["capped"] = start + args.max_duration, True
        done.set()

    runner.start(args.users, spawn_rate=args.spawn_rate)
    controller = gevent.spawn(control)
    done.wait()
    sample("end")
    controller.kill(block=False)
    runner.quit()
    runner.greenlet.join(timeout=5)
    stopped = time.time()

    # Stopped early (max-requests) before the window was fixed: the window as planned.
    window_start = state["window_start"] or t0 + args.warmup
    window_end = state["window_end"] or window_start + window_seconds
    # If stopped before the window opened, measure from t0; divide by the real sampled span
    # (≈ duration normally) so a late-running sampler greenlet doesn't skew the fraction.
    begin = samples.get("start", samples["t0"])
    cpu = max(0.0, samples["end"][1] - begin[1])
    span = samples["end"][0] - begin[0]
    scheduled, late = (
        sched.window_counts(window_start, window_end, samples["end"][0]) if sched else [None] * 2
    )
    result = {
        "version": 1,
        "t0": t0,
        "window_start": window_start,
        "window_end": window_end,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "mode": "closed" if sched is None else "open",
        "arrival_rate": args.arrival_rate,
        "scheduled_in_window": scheduled,
        "late_starts": late,
        "warmup_requests": args.warmup_requests,
        "warmup_capped": state["warmup_capped"],
        "min_requests": args.min_requests,
        "max_duration": args.max_duration,
        "window_requests": sum(1 for r in records if window_start <= r[0] < window_end),
        "capped": state["capped"],
        "loadgen_cpu_seconds": round(cpu, 6),
        "loadgen_cpu_fraction": round(cpu / span, 6) if span > 0 else 0.0,
        "stopped_early": state["stopped_early"],
        # epochs: where this process's time went (mutbot.trial's `timings` read them)
        "timings": {
            "imported": IMPORTED_AT,
            "received": received,
            "t0": t0,
            "first_request": min((r[0] for r in records), default=None),
            "stopped": stopped,
        },
        "requests": records,
        "errors": errors,
    }
    tmp = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, separators=(",", ":")))
    os.replace(tmp, args.out)  # atomic: the orchestrator never sees a half-written file
    signal.setitimer(signal.ITIMER_REAL, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
