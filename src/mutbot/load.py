"""Load edge: runs sandbox/locust_runner.py in its own process (Locust monkey-patches with gevent)
and reads back every request it made."""

from __future__ import annotations

import importlib.resources
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mutbot.backends.local_backend import clean_env
from mutbot.errors import LoadError
from mutbot.hardening import confine_child
from mutbot.metrics import RawLoad

if TYPE_CHECKING:
    from mutbot.calibrate import LoadPlan


@dataclass(frozen=True)
class LoadRun:
    raw: RawLoad
    loadgen_cpu_fraction: float
    errors: dict[str, int]
    scheduled_in_window: int | None  # open-loop: arrivals planned inside the window
    capped: bool = False  # the window reached max_duration before min_requests


def runner_path() -> Path:
    return Path(str(importlib.resources.files("mutbot_sandbox") / "locust_runner.py"))


def drive(
    url: str, locustfile: Path, load: LoadPlan, out: Path, log: Path, cores: tuple[int, ...] | None
) -> LoadRun:
    args = [
        sys.executable,
        "-P",
        str(runner_path()),
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

    parent = os.getpid()

    def pin() -> None:
        if cores and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cores)
        confine_child(parent)  # dies with mutbot, even on SIGKILL

    limit = load.max_warmup + load.max_duration + 60  # the runner's own watchdog fires first
    with log.open("ab") as err:
        process = subprocess.Popen(
            args,
            stdout=err,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=clean_env(),
            cwd=locustfile.parent,
            preexec_fn=pin,
        )
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            message = f"the load generator did not finish within {limit:g}s; see {log}"
            raise LoadError(message) from None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if code != 0 or not out.is_file():
        tail = log.read_text("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise LoadError(f"the load generator failed (exit code {code}): {tail[0][:300]}")
    data = json.loads(out.read_text(encoding="utf-8"))
    raw = RawLoad(
        window_start=float(data["window_start"]),
        window_end=float(data["window_end"]),
        requests=[(float(r[0]), float(r[1]), bool(r[2])) for r in data["requests"]],
    )
    scheduled = data.get("scheduled_in_window")
    return LoadRun(
        raw=raw,
        loadgen_cpu_fraction=float(data.get("loadgen_cpu_fraction", 0.0)),
        errors=dict(data.get("errors", {})),
        scheduled_in_window=None if scheduled is None else int(scheduled),
        capped=bool(data.get("capped", False)),
    )
