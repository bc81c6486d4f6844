"""How often does mutbot call an identical copy of the baseline "better"? (goal: at most 1%)

Each comparison is a full `mutbot run` on the bundled example whose only candidate writes
`log_requests = yes` for `true` in config/server.ini (configparser reads both as True): the
same service, measured against the baseline exactly as a
real candidate would be (fresh containers, paired trials, random order, the judge). Prints the
share wrongly proposed and the pair-to-pair spread seen.

    python benchmarks/aa_false_positives.py [--comparisons 20] [--pairs 8] [--duration 1s]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.judge import deltas
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from mutbot.units import parse_duration
from testing.reporters import RecordingReporter
from testing.repos import edit_config, git, make_repo

SAME = """\
diff --git a/config/server.ini b/config/server.ini
--- a/config/server.ini
+++ b/config/server.ini
@@ -4,7 +4,7 @@ threads = 1
 # Entries in the in-memory LRU of computed prices. 0 = no cache.
 cache_size = 0
 # Log every request to stderr.
-log_requests = true
+log_requests = yes
 # Simulated downstream (database) wait per uncached price, in ms.
 # This models the environment; it is not a tuning knob.
 downstream_ms = 20
"""  # configparser's getboolean reads both as True: the same service, a change the guard accepts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--duration", type=parse_duration, default=1.0)
    parser.add_argument("--warmup", type=parse_duration, default=0.5)
    parser.add_argument("--primary", default="latency_p95_ms")
    parser.add_argument("--aa-pairs", type=int, default=0, help="A/A pairs spread through each run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mutbot-aa-") as tmp:
        project = make_repo(Path(tmp) / "repo")
        edit_config(
            project,
            {
                "duration: 3s": f"duration: {args.duration}s",
                "warmup: 1s": f"warmup: {args.warmup}s",
                "alpha: 0.01": f"alpha: {args.alpha}",
                "aa_pairs: 3 ": f"aa_pairs: {args.aa_pairs} ",
                "confirm_top: 2": "confirm_top: 1",
                "  pairs: 8 ": f"  pairs: {args.pairs} ",
                "primary: latency_p95_ms": f"primary: {args.primary}",
            },
        )
        mutations = Path(tmp) / "same.json"
        mutations.write_text(
            json.dumps(
                [
                    {
                        "title": "An identical copy",
                        "kind": "incremental",
                        "rationale": "A/A",
                        "diff": SAME,
                    }
                ]
            )
        )
        verdicts: list[str] = []
        spreads: list[float] = []
        significant = 0
        started = time.monotonic()
        for i in range(args.comparisons):
            result = execute(
                RunOptions(project, mutations, out=Path(tmp) / f"out-{i}", seed=i),
                RecordingReporter(),
            )
            cand = result.candidates[0]
            verdicts.append(cand.verdict)
            if args.primary not in cand.comparisons:
                print(f"comparison {i + 1:>3}: {cand.verdict} at {cand.stage}: {cand.reason}")
                continue
            comp = cand.comparisons[args.primary]
            significant += comp.p_value <= args.alpha
            d = deltas(cand.pairs, args.primary)
            spreads.append(float(np.std(d, ddof=1)))
            print(
                f"comparison {i + 1:>3}: p = {comp.p_value:.3f}, {comp.change:+.1%} "
                f"(CI {comp.ci_low:+.1%}…{comp.ci_high:+.1%}): {cand.verdict}: {cand.reason}",
                flush=True,
            )
        git(project, "status")  # the repo is still intact

    wrong = verdicts.count("propose") + verdicts.count("needs-review")
    n = len(verdicts)
    # one-sided 95% Clopper-Pearson bound on the rate of a false "better"
    upper = binomtest(wrong, n).proportion_ci(confidence_level=0.90, method="exact").high
    print()
    print(f"primary             {args.primary}")
    print(f"comparisons         {n} x {args.pairs} pairs ({args.warmup:g}s + {args.duration:g}s)")
    print(f"alpha               {args.alpha:g}; A/A pairs per run {args.aa_pairs}")
    print(f"called better       {wrong} of {n} ({wrong / n:.1%}); 95% upper bound {upper:.1%}")
    print(
        "verdicts            "
        + ", ".join(f"{v} {verdicts.count(v)}" for v in sorted(set(verdicts)))
    )
    if spreads:
        print(
            f"pair spread (sd d)  median {np.median(spreads):.3f}, "
            f"range {min(spreads):.3f}-{max(spreads):.3f}"
        )
    print(f"wall time           {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
