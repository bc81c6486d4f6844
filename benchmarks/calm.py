"""How often and how long wait_calm waits on this machine, and what settle costs after a build.

Four scenes, each with the default thresholds (src/mutbot/calm_rules.py):
  idle      wait() every second with one MachineQuiet, as before each trial of a run: how
            often calm, how long (patience included)
  teardown  a container of python:3.11-slim killed and removed, then wait() at once (the Docker
            daemons' own CPU seconds in that wait, to tell the teardown from other load)
  hog       one and then one-per-core CPU loops running: wait() must report them
  build     examples/pricing built with no cache (plus --extra-mb of random data in a RUN
            layer, like a dependency install), then settle(); the image is removed after

    python benchmarks/calm.py [--looks 20] [--extra-mb 0 300] [--no-docker]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.calm import Calm, MachineQuiet

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"mutbot.benchmark": "calm"}
DAEMONS = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "runc")
HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


def line(name: str, calm: Calm, extra: str = "") -> None:
    print(f"  {name:<22} waited {calm.waited:5.1f} s  {calm.note}{extra}")


def idle(quiet: MachineQuiet, looks: int) -> None:
    print(f"idle: wait() {looks} times, 1 s apart")
    results = []
    for _ in range(looks):
        results.append(quiet.wait())
        time.sleep(1.0)
    waits = sorted(calm.waited for calm in results)
    calm = sum(calm.calm for calm in results)
    print(
        f"  calm {calm}/{looks}; waited median {statistics.median(waits):.1f} s, "
        f"max {waits[-1]:.1f} s, total {sum(waits):.1f} s"
    )
    reasons = Counter(c.note.split(" after ")[0] if not c.calm else "calm" for c in results)
    for note, count in reasons.most_common(5):
        print(f"  {count:3d} × {note}")


def daemon_seconds() -> float:
    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if process.info["name"] in DAEMONS and times is not None:
            total += times.user + times.system
    return total


def teardown(client: Any, rounds: int = 5) -> None:
    print(f"teardown: kill + remove a python:3.11-slim container, then wait() ({rounds}×)")
    for index in range(rounds):
        container = client.containers.run(
            "python:3.11-slim", ["python", "-m", "http.server"], detach=True, labels=LABELS
        )
        time.sleep(2.0)
        started = time.monotonic()
        container.kill()
        container.remove(force=True)
        removed = time.monotonic() - started
        before = daemon_seconds()
        calm = MachineQuiet().wait()  # fresh: no patience used up by earlier scenes
        daemons = daemon_seconds() - before
        line(
            f"round {index + 1} (rm {removed:.2f} s)",
            calm,
            f"; docker daemons {daemons / max(calm.waited, 1e-9):.0%} of a core meanwhile",
        )


def hog() -> None:
    print("hog: CPU loops running while wait() looks")
    cores = os.cpu_count() or 1
    for count in sorted({1, cores}):
        hogs = [
            subprocess.Popen([sys.executable, "-c", HOG.format(seconds=30)]) for _ in range(count)
        ]
        try:
            time.sleep(0.3)
            calm = MachineQuiet().wait()
        finally:
            for process in hogs:
                process.kill()
                process.wait()
        line(f"{count} of {cores} cores", calm)


def build(client: Any, extra_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mutbot-calm-") as tmp:
        context = Path(tmp) / "pricing"
        shutil.copytree(ROOT / "examples" / "pricing", context)
        if extra_mb:
            dockerfile = (context / "Dockerfile").read_text()
            layer = f"RUN head -c {extra_mb * 1_000_000} /dev/urandom > /layer.bin\n"
            (context / "Dockerfile").write_text(dockerfile.replace("CMD", layer + "CMD", 1))
        tag = f"mutbot-calm-bench:{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        try:
            for chunk in client.api.build(
                path=str(context), tag=tag, nocache=True, rm=True, forcerm=True, decode=True
            ):
                if "error" in chunk:
                    raise SystemExit(f"build failed: {chunk['error']}")
            built = time.monotonic() - started
            settled = MachineQuiet().settle()
        finally:
            client.images.remove(tag, force=True, noprune=False)
    written = f"{settled.written_mb:.0f} MB" if settled.written_mb is not None else "not measured"
    seen = settled.figures.describe() if settled.figures else "no look"
    print(
        f"  +{extra_mb:>4} MB layer: build {built:5.1f} s, settle {settled.waited:4.1f} s "
        f"({settled.looks} looks, {written} written while settling, "
        f"sync {'done' if settled.synced else 'failed'}): {settled.note}; last: {seen}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--looks", type=int, default=20, help="idle wait() calls")
    parser.add_argument("--extra-mb", type=int, nargs="*", default=[0, 300])
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()

    quiet = MachineQuiet()
    limits = quiet.limits
    print(
        f"thresholds: CPU busy ≤ {limits.cpu_busy:.0%}, I/O pressure ≤ {limits.io_some:.0%}, "
        f"disk writes ≤ {limits.write_mb_s:g} MB/s; {limits.sample:g} s looks, "
        f"wait ≤ {limits.max_wait:g} s, settle ≤ {limits.max_settle:g} s"
    )
    print(f"PSI: {'yes' if Path('/proc/pressure/io').exists() else 'no'}; cores: {os.cpu_count()}")
    idle(quiet, args.looks)
    hog()
    if not args.no_docker:
        import docker

        client = docker.from_env(timeout=300)
        teardown(client)
        print("build + settle")
        for extra in args.extra_mb:
            build(client, extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
