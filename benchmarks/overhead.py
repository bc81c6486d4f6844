"""Overhead of a run on the bundled example: wall time / time spent under load.

Time under load (warm-up + measured window of every trial) is the irreducible part of a run;
everything else — worktrees, builds, tests, container starts, health waits, tear-downs — is
overhead. Prints the ratio and where the rest of the time went.

    python benchmarks/overhead.py [--duration 3s] [--warmup 1s] [--pairs 8] [--backend docker]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.pipeline import RunOptions
from mutbot.run import execute
from mutbot.units import parse_duration
from testing.reporters import RecordingReporter
from testing.repos import EXAMPLE, edit_config, make_repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=parse_duration, default=3.0)
    parser.add_argument("--warmup", type=parse_duration, default=1.0)
    parser.add_argument("--pairs", type=int, default=8, help="confirmation pairs")
    parser.add_argument("--backend", choices=["docker", "local"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mutbot-bench-") as tmp:
        project = make_repo(Path(tmp) / "repo")
        edit_config(
            project,
            {
                "duration: 3s": f"duration: {args.duration}s",
                "warmup: 1s": f"warmup: {args.warmup}s",
                "  pairs: 8 ": f"  pairs: {args.pairs} ",
            },
        )
        started = time.monotonic()
        result = execute(
            RunOptions(
                project, EXAMPLE / "candidates.json", out=Path(tmp) / "out", backend=args.backend
            ),
            RecordingReporter(),
        )
        wall = time.monotonic() - started

    pairs = sum(len(c.screening) + len(c.pairs) for c in result.candidates)
    pairs += len(result.noise.pairs) if result.noise else 0
    trials = 2 * pairs
    under_load = trials * (args.warmup + args.duration)
    stages: dict[str, float] = defaultdict(float)
    for record in [*result.baseline.stages, *(s for c in result.candidates for s in c.stages)]:
        stages[record.name] += record.seconds
    preparing = sum(stages[name] for name in ("policy", "apply", "build", "tests"))
    per_trial = (wall - preparing - under_load) / trials if trials else float("nan")

    print(f"backend             {result.backend}")
    print(f"candidates          {len(result.candidates)} ({len(result.ranking)} proposed)")
    print(f"trials              {trials} ({args.warmup:g}s warm-up + {args.duration:g}s each)")
    print(f"wall time           {wall:7.1f} s")
    print(f"time under load     {under_load:7.1f} s")
    print(f"overhead ratio      {wall / under_load:7.2f}  (wall / under load)")
    print(f"per-trial overhead  {per_trial:7.2f} s  (start, health, collect, tear down, judge)")
    for name, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  stage {name:<10} {seconds:7.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
