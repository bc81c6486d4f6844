"""How many pairs does a measured effect need before mutbot proposes it?

Reads the confirmation pairs of real runs (results.json files), then resamples them: for each
pair count it draws that many of the candidate's pairs and as many A/A pairs as the run had, and
judges them as mutbot's judge does (exact one-sided Wilcoxon, Holm over `--holm` confirmed
candidates, the interval against max(judge.min_effect, the A/A noise floor)). Prints the
per-pair spread and, per pair count, the share of resampled runs that would be proposed, whose
estimate is better than the minimum effect, or better at all, and that would be rejected. The
identical copy's pairs (`--copy`) serve as A/A pairs when a run holds one.

    python -m pytest tests/test_sensitivity_docker.py --basetemp /tmp/p1   # one real run
    python benchmarks/decision_power.py /tmp/p*/test_*_0/out/results.json \\
        --candidate "Access log off" --copy "An identical copy" [--pairs 8,12,16,24,30]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.judge import Settings, compare, judge
from mutbot.metric_math import deltas, threshold, to_d
from mutbot.metrics import METRICS
from mutbot.noise_rules import plain_spread, robust_spread
from mutbot.results import Pair, RunResult, Side, Trial


def pairs_of(result: RunResult, title: str, metric: str) -> list[float]:
    found = [c for c in result.candidates if c.title.startswith(title)]
    if not found or not found[0].pairs:
        return []
    return [float(d) for d in deltas(found[0].pairs, metric)]


def synthetic(d: np.ndarray, metric: str) -> list[Pair]:
    """Pairs whose per-pair d on `metric` is `d`: the judge reads nothing else of them."""
    lower = METRICS[metric].better == "lower"

    def side(name: Side, value: float) -> Trial:
        return Trial(
            side=name,
            started_at=0.0,
            healthy_seconds=0.0,
            metrics={metric: value},
            loadgen_cpu_fraction=0.0,
            errors={},
            raw="",
        )

    return [
        Pair(
            index=i,
            order=("baseline", "candidate"),
            baseline=side("baseline", 100.0),
            candidate=side("candidate", 100.0 * math.exp(-x if lower else x)),
        )
        for i, x in enumerate(d)
    ]


def judged(
    d: np.ndarray, aa: np.ndarray, settings: Settings, holm: int
) -> tuple[bool, bool, bool, bool]:
    """(proposed, estimate beyond the minimum effect, estimate better, rejected) for one
    resampled run, as mutbot.judge decides it (Holm over `holm` candidates as equal p-values)."""
    pairs = synthetic(d, settings.primary)
    comp = compare(pairs, settings.primary, settings.alpha)
    spread = robust_spread(list(aa)) if len(aa) > 1 else None
    p_adjusted = min(1.0, holm * comp.p_value)
    outcome = judge(pairs, settings, p_adjusted, spread, (0.0, []), (0.0, []), None)
    estimate = to_d(settings.primary, comp.change)
    beyond = estimate > threshold(settings.primary, settings.min_effect)
    return outcome.verdict == "propose", beyond, estimate > 0, outcome.verdict == "reject"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--candidate", required=True, help="title prefix of the real change")
    parser.add_argument("--copy", help="title prefix of an identical copy (more A/A pairs)")
    parser.add_argument("--metric", help="default: each run's objective.primary")
    parser.add_argument("--pairs", default="8,12,16,20,24,30")
    parser.add_argument("--aa", type=int, default=4, help="A/A pairs per resampled run")
    parser.add_argument("--holm", type=int, default=2, help="confirmed candidates in a run")
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--min-effect", type=float, default=0.05)
    parser.add_argument("--sims", type=int, default=1000)
    args = parser.parse_args()

    effect: list[float] = []
    aa: list[float] = []
    metric = args.metric
    for path in args.results:
        result = RunResult.model_validate(json.loads(path.read_text()))
        metric = metric or str(result.objective["primary"])
        d = pairs_of(result, args.candidate, metric)
        copy = pairs_of(result, args.copy, metric) if args.copy else []
        aa += copy
        if result.noise is not None:
            aa += [float(x) for x in deltas(result.noise.pairs, metric)]
        effect += d
        print(f"{path}: {len(d)} pairs, median d {np.median(d):+.3f}" if d else f"{path}: none")
    if not effect or len(aa) < 2 or metric is None:
        print("no pairs of that candidate, or fewer than 2 A/A pairs", file=sys.stderr)
        return 2
    e, a = np.array(effect), np.array(aa)
    print(
        f"\n{metric}: {len(e)} pairs of the change, mean d {e.mean():+.3f} "
        f"({math.expm1(-e.mean()):+.1%}), sd {plain_spread(effect):.3f}, robust "
        f"{robust_spread(effect):.3f}; {len(a)} A/A pairs, sd {plain_spread(aa):.3f}, "
        f"robust {robust_spread(aa):.3f}"
    )
    # no guardrails and open gates: the question is what the primary's pairs decide
    gates = {"confidence": 0.0, "risk": 11.0, "complexity": 11.0}
    settings = Settings(metric, args.alpha, args.min_effect, {}, gates)
    rng = np.random.default_rng(11)
    print(f"\n| pairs | proposed | estimate beyond {args.min_effect:.0%} | better | rejected |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in (int(x) for x in args.pairs.split(",")):
        runs = [
            judged(rng.choice(e, n), rng.choice(a, args.aa), settings, args.holm)
            for _ in range(args.sims)
        ]
        shares = [sum(r[i] for r in runs) / len(runs) for i in range(4)]
        print(f"| {n} | " + " | ".join(f"{x:.1%}" for x in shares) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
