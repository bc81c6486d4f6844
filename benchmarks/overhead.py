"""Overhead of a run on the bundled example: wall time / time spent under load.

Time under load (warm-up + measured window of every trial the run made, read from the raw
files, so trials set aside or invalid count too) is the irreducible part of a run; everything
else — worktrees, builds, tests, the capacity ramp, container starts, health waits, the load
generator's start, collecting, tear-downs, waits for a calm machine — is overhead. Prints the
ratio, where each trial's seconds went (results.json's per-trial `timings`: mean, median and
max over the trials) and where the rest of the run's time went.

    python benchmarks/overhead.py [--duration 3s] [--warmup 1s] [--pairs 8] [--backend docker]
                                  [--load fixed|calibrated] [--candidates N] [--json FILE]
                                  [--keep DIR]

`--load fixed` (the default) keeps the example's closed loop of 20 users with the warm-up and
window given; `--load calibrated` deletes `users`, `duration` and `warmup` from the example's
config, so the run measures the baseline's capacity first and sizes windows by request counts
(mutbot's default for a config that fixes no load). It imports `mutbot` from the path, so it
measures whichever checkout is first there (PYTHONPATH=/other/src python benchmarks/overhead.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.results import RunResult, Trial
from mutbot.units import parse_duration

try:  # where a run starts, in this checkout or in an older one
    from mutbot.run.execute import execute
    from mutbot.run.options import RunOptions
except ImportError:
    from mutbot.pipeline import RunOptions  # type: ignore[no-redef]
    from mutbot.run import execute  # type: ignore[no-redef]
from testing.reporters import RecordingReporter
from testing.repos import EXAMPLE, edit_config, make_repo

# the steps of a trial, in the order they happen (trial.trial_timings); unknown ones go last
ORDER = [
    "calm_wait",
    "start",
    "healthy",
    "sampling_start",
    "loadgen_spawn",
    "loadgen_command",
    "loadgen_setup",
    "warmup",
    "window",
    "loadgen_quit",
    "loadgen_write",
    "parse",
    "sampling_stop",
    "failure_check",
    "teardown",
    "metrics",
]
UNDER_LOAD = ("warmup", "window")
PREPARING = ("policy", "apply", "build", "tests")
SAY = {
    "calm_wait": "waiting for a calm machine (before the trial)",
    "start": "container (and its services) started",
    "healthy": "until the health path answers",
    "sampling_start": "resource sampling started",
    "loadgen_spawn": "a new load generator process: interpreter, imports",
    "loadgen_command": "the trial's command reaches the load generator",
    "loadgen_setup": "locustfile loaded, fresh Locust environment",
    "warmup": "warm-up (under load)",
    "window": "measured window (under load)",
    "loadgen_quit": "users stopped",
    "loadgen_write": "raw file written, answer read",
    "parse": "raw file read back",
    "sampling_stop": "resource sampling stopped",
    "failure_check": "crash / OOM check",
    "teardown": "container killed, log saved, removed",
    "metrics": "metrics computed",
    "unaccounted": "between the steps above",
}


def trials_of(result: RunResult) -> list[Trial]:
    pairs = [p for c in result.candidates for p in (*c.screening, *c.pairs)]
    pairs += list(result.noise.pairs) if result.noise else []
    return [t for p in pairs for t in (p.baseline, p.candidate)]


def under_load(raw: Path) -> tuple[float, int]:
    """Seconds under load (first request's t0 to the window's end) over the trials' raw files
    (not the capacity ramp), and how many there were."""
    total, count = 0.0, 0
    for path in raw.rglob("*.json"):
        if path.name == "calibration.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        total += float(data["window_end"]) - float(data["t0"])
        count += 1
    return total, count


def breakdown(trials: list[Trial]) -> dict[str, dict[str, float]]:
    """Per step: mean, median, max seconds over the trials that recorded it."""
    steps: dict[str, list[float]] = defaultdict(list)
    for trial in trials:
        steps["calm_wait"].append(trial.calm_wait)
        if not trial.timings:
            continue
        timed = {k: v for k, v in trial.timings.items() if k != "total"}
        for name, seconds in timed.items():
            steps[name].append(seconds)
        if "total" in trial.timings:
            steps["unaccounted"].append(trial.timings["total"] - sum(timed.values()))
            steps["total"].append(trial.timings["total"] + trial.calm_wait)
    known = [n for n in ORDER if n in steps]
    rest = sorted(n for n in steps if n not in ORDER and n not in ("unaccounted", "total"))
    names = [*known, *rest, *(n for n in ("unaccounted", "total") if n in steps)]
    return {
        name: {
            "mean": statistics.fmean(steps[name]),
            "median": statistics.median(steps[name]),
            "max": max(steps[name]),
            "trials": len(steps[name]),
        }
        for name in names
    }


def settled_seconds(result: RunResult) -> float:
    found = (re.search(r"\(([\d.]+) s\)$", text) for text in result.settled)
    return sum(float(m.group(1)) for m in found if m)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=parse_duration, default=3.0)
    parser.add_argument("--warmup", type=parse_duration, default=1.0)
    parser.add_argument("--pairs", type=int, default=8, help="confirmation pairs")
    parser.add_argument("--backend", choices=["docker", "local"])
    parser.add_argument("--load", choices=["fixed", "calibrated"], default="fixed")
    parser.add_argument("--candidates", type=int, help="only the first N of candidates.json")
    parser.add_argument("--json", type=Path, help="save the figures here")
    parser.add_argument("--keep", type=Path, help="copy the run's output folder here")
    args = parser.parse_args()

    load_edits = (
        {"duration: 3s": f"duration: {args.duration}s", "warmup: 1s": f"warmup: {args.warmup}s"}
        if args.load == "fixed"
        else {"  users: 20\n": "", "  duration: 3s\n": "", "  warmup: 1s\n": ""}
    )
    loadavg_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mutbot-bench-") as tmp:
        project = make_repo(Path(tmp) / "repo")
        edit_config(project, {**load_edits, "  pairs: 8 ": f"  pairs: {args.pairs} "})
        out = Path(tmp) / "out"
        candidates = EXAMPLE / "candidates.json"
        if args.candidates is not None:
            chosen = json.loads(candidates.read_text())[: args.candidates]
            candidates = Path(tmp) / "candidates.json"
            candidates.write_text(json.dumps(chosen))
        started = time.monotonic()
        result = execute(
            RunOptions(project, candidates, out=out, backend=args.backend), RecordingReporter()
        )
        wall = time.monotonic() - started
        loaded, raw_files = under_load(out / "raw")
        if args.keep:
            shutil.copytree(out, args.keep, dirs_exist_ok=True)
    loadavg_after = os.getloadavg()

    trials = trials_of(result)
    steps = breakdown(trials)
    stages: dict[str, float] = defaultdict(float)  # preparing: the measuring ones hold trials
    for record in [*result.baseline.stages, *(s for c in result.candidates for s in c.stages)]:
        if record.name in PREPARING:
            stages[record.name] += record.seconds
    ramp = float(result.calibration["ramp_seconds"]) if result.calibration else 0.0
    settle = settled_seconds(result)
    in_trials = sum(t.calm_wait + t.timings.get("total", 0.0) for t in trials)
    timed = all("total" in t.timings for t in trials)
    run_rows = {f"stage {name}": seconds for name, seconds in stages.items()}
    run_rows.update({"capacity ramp": ramp, "settling after builds": settle})
    if timed:
        run_rows["trials (calm wait + trial)"] = in_trials
    run_rows["everything else"] = wall - sum(run_rows.values())

    print(f"backend             {result.backend}")
    print(f"load                {args.load}: {result.load['model']}, {result.load['users']} users")
    print(f"                    warm-up {result.load['warmup']}, window {result.load['duration']}")
    print(f"candidates          {len(result.candidates)} ({len(result.ranking)} proposed)")
    print(f"trials              {len(trials)} in results.json, {raw_files} run (raw files)")
    print(f"wall time           {wall:7.1f} s")
    print(f"time under load     {loaded:7.1f} s  (warm-up + measured window of every trial run)")
    print(f"overhead ratio      {wall / loaded:7.2f}  (wall / under load)")
    # someone else's load makes mutbot wait for a calm machine: the ratio without that wait
    shortest = min((t.calm_wait for t in trials), default=0.0)
    excess = sum(t.calm_wait - shortest for t in trials)
    calm = (wall - excess) / loaded
    print(f"  calm waits at the shortest {calm:.2f}  ({excess:.1f} s of waiting for others' load)")
    over = (wall - loaded - sum(stages.values()) - ramp - settle) / raw_files
    print(f"per-trial overhead  {over:7.2f} s  (wall - under load - stages - ramp - settle) / runs")
    print(f"load average        {loadavg_before[0]:.2f} before, {loadavg_after[0]:.2f} after")
    print()
    print(f"per trial, seconds  {'mean':>7} {'median':>7} {'max':>7}")
    for name, figures in steps.items():
        if name == "total":
            continue
        print(
            f"  {name:<17} {figures['mean']:7.3f} {figures['median']:7.3f} {figures['max']:7.3f}"
            f"  {SAY.get(name, '')}"
        )
    if "total" in steps:
        total = steps["total"]
        loaded_mean = sum(steps[n]["mean"] for n in UNDER_LOAD if n in steps)
        print(f"  {'= trial':<17} {total['mean']:7.3f} {total['median']:7.3f} {total['max']:7.3f}")
        print(
            f"  not under load    {total['mean'] - loaded_mean:7.3f}"
            f"  (ratio inside trials {total['mean'] / loaded_mean:.2f})"
        )
    else:
        print("  (no per-trial timings: this checkout does not record them)")
    print()
    print("run, seconds")
    for name, seconds in sorted(run_rows.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28} {seconds:7.1f}")

    if args.json:
        figures: dict[str, Any] = {
            "load": args.load,
            "wall": wall,
            "under_load": loaded,
            "ratio": wall / loaded,
            "ratio_calm": calm,
            "busy_wait": excess,
            "trials": len(trials),
            "raw_files": raw_files,
            "per_trial": steps,
            "run": run_rows,
            "loadavg": {"before": loadavg_before, "after": loadavg_after},
        }
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
