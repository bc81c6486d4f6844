"""Drive a Locust load test as a library and dump every request's raw timing to JSON.

Runs as its own subprocess because importing locust monkey-patches the process with gevent.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import gevent
import gevent.event
from locust.env import Environment
from locust.user import User
from locust.util.load_locustfile import load_locustfile

MAX_ERROR_KEYS = 20
WATCHDOG_GRACE_S = 30.0


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
    args = p.parse_args(argv)
    if min(args.users, args.max_requests) < 1 or min(args.spawn_rate, args.duration) <= 0:
        p.error("need users, max-requests >= 1 and spawn-rate, duration > 0")
    if args.warmup < 0:
        p.error("warmup must be >= 0")
    return args


def load_user_classes(path: Path) -> list[type[User]]:
    # load_locustfile already drops abstract classes; also drop ones with nothing to run.
    user_classes, _shapes = load_locustfile(str(path.resolve()))
    return [cls for cls in user_classes.values() if getattr(cls, "tasks", None)]


def on_watchdog(_signum: int, _frame: FrameType | None) -> None:
    # os._exit: a wedged hub or a user greenlet swallowing GreenletExit must not keep us alive.
    sys.stderr.write("locust_runner: hard wall-clock deadline exceeded, aborting\n")
    os._exit(3)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # A real SIGALRM (not a gevent timer) so it fires even if the event loop is starved.
    signal.signal(signal.SIGALRM, on_watchdog)
    signal.setitimer(signal.ITIMER_REAL, args.warmup + args.duration + WATCHDOG_GRACE_S)

    try:
        classes = load_user_classes(args.locustfile)
    except Exception as exc:  # user code: report one line instead of a traceback
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        print(f"locust_runner: cannot load {args.locustfile}: {first}", file=sys.stderr)
        return 2
    if not classes:
        print(
            f"locust_runner: no concrete User classes with tasks in {args.locustfile}",
            file=sys.stderr,
        )
        return 2

    env = Environment(user_classes=classes, host=args.host)
    runner = env.create_local_runner()
    records: list[list[float]] = []
    errors: dict[str, int] = {}
    done = gevent.event.Event()
    state: dict[str, Any] = {"stopped_early": False}

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
        records.append([round(started, 6), round(rt, 3), 0 if exception else 1])
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
    window_start = t0 + args.warmup
    window_end = window_start + args.duration
    samples["t0"] = (t0, cpu_seconds())
    runner.start(args.users, spawn_rate=args.spawn_rate)
    # Schedule against absolute epochs so start() overhead doesn't shift the window.
    start_timer = gevent.spawn_later(max(0.0, window_start - time.time()), sample, "start")
    end_timer = gevent.spawn_later(max(0.0, window_end - time.time()), done.set)
    done.wait()
    sample("end")
    start_timer.kill(block=False)
    end_timer.kill(block=False)
    runner.quit()
    runner.greenlet.join(timeout=5)

    # If stopped before the window opened, measure from t0; divide by the real sampled span
    # (≈ duration normally) so a late-running sampler greenlet doesn't skew the fraction.
    begin = samples.get("start", samples["t0"])
    cpu = max(0.0, samples["end"][1] - begin[1])
    span = samples["end"][0] - begin[0]
    result = {
        "version": 1,
        "t0": t0,
        "window_start": window_start,
        "window_end": window_end,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "loadgen_cpu_seconds": round(cpu, 6),
        "loadgen_cpu_fraction": round(cpu / span, 6) if span > 0 else 0.0,
        "stopped_early": state["stopped_early"],
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
