"""How sensitive are mutbot's decisions on services shaped like real ones? (issue 13)

For each service shape — the stdlib example (examples/pricing), Flask under gunicorn sync
workers (testing/samples/gunicorn-sync), an ASGI app under uvicorn (testing/samples/asgi-uvicorn)
— copies the service into a temporary git repository, runs a real `mutbot run` with one
candidate that is an identical copy of the baseline (a comment in a file the image copies in),
and prints:

- the A/A spread of the primary metric: sd of the per-pair ln ratio and a robust version
  (1.4826 × MAD), from the A/A block (results.json `noise.pairs`), from the identical
  candidate's confirmation pairs, and from both;
- the smallest effect 8 pairs (`--power-pairs`) detect with 95% power: per-pair d ~ Normal(δ, σ),
  exact one-sided Wilcoxon signed-rank test at alpha 0.01 (scipy), as a % change;
- the run's wall time, and per pair measured;
- the verdict the identical candidate got.

It imports only `mutbot`, so it measures whichever checkout is first on the path:

    python benchmarks/sensitivity.py [--shapes pricing,gunicorn,uvicorn] [--pairs 8]
    PYTHONPATH=/work/before/src python benchmarks/sensitivity.py --json before.json

`--load fixed` (the default) fixes the load the issue reports (20 users, 2 s warm-up, 5 s
windows); `--load default` removes those keys so the checkout's own defaults apply (newer
mutbot calibrates the load when `load.users` is not set; older code requires it).
`--config-overrides key=value ...` sets any other config key (dotted path; `key=` deletes it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]


@dataclass(frozen=True)
class Shape:
    name: str
    source: Path
    same_file: str  # the file the identical copy changes (the image copies it in)
    old: str
    new: str  # the same behaviour: a setting written out at the value it already has


SHAPES = {
    "pricing": Shape(
        "pricing",
        ROOT / "examples" / "pricing",
        "config/server.ini",
        "log_requests = true\n",
        "log_requests = yes\n",  # configparser's getboolean reads both as True
    ),
    "gunicorn": Shape(
        "gunicorn",
        ROOT / "testing/samples/gunicorn-sync",
        "gunicorn.conf.py",
        "timeout = 30\n",
        'timeout = 30\nloglevel = "info"\n',  # gunicorn's default level
    ),
    "uvicorn": Shape(
        "uvicorn",
        ROOT / "testing/samples/asgi-uvicorn",
        "Dockerfile",
        '"--port", "8080"]',
        '"--port", "8080", "--log-level", "info"]',  # uvicorn's default level
    ),
}
# A comment-only change is no candidate: the packs' guard rejects it before it is measured.
# The configuration issue 13 reports: fixed closed-loop load, short windows.
FIXED_LOAD: dict[str, Any] = {"load.users": 20, "load.warmup": "2s", "load.duration": "5s"}
DEFAULT_LOAD: dict[str, Any] = {
    "load.users": None,
    "load.spawn_rate": None,
    "load.warmup": None,
    "load.duration": None,
}


@dataclass
class Spread:
    pairs: int
    sd: float
    robust: float


@dataclass
class Figures:
    shape: str
    mutbot: str
    edits: dict[str, Any]
    wall_seconds: float
    pairs_measured: int
    seconds_per_pair: float
    verdict: str
    reason: str
    primary: str
    aa_block: Spread
    identical: Spread
    pooled: Spread
    power_pairs: int
    detectable_sd: float | None  # smallest detectable change (fraction), with σ = sd
    detectable_robust: float | None  # ... with σ = 1.4826 × MAD
    uptime_before: str
    uptime_after: str
    notes: list[str] = field(default_factory=list)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, check=True, text=True, capture_output=True
    )
    return done.stdout


def uptime() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"


def set_key(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted key in the config (None deletes it; an emptied section goes too)."""
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        if value is None and not isinstance(node.get(part), dict):
            return
        node = node.setdefault(part, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def parse_override(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected key=value")
    return key, (yaml.safe_load(raw) if raw else None)


def make_project(shape: Shape, dest: Path, edits: dict[str, Any]) -> tuple[Path, Path]:
    """The shape in a fresh git repo with the config edits committed, and its candidates file."""
    shutil.copytree(
        shape.source, dest, ignore=shutil.ignore_patterns(".mutbot", "__pycache__", ".github")
    )
    config_path = dest / ".mutbot.yml"
    config = yaml.safe_load(config_path.read_text())
    for key, value in edits.items():
        set_key(config, key, value)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "initial")
    # The identical copy, as git diffs it.
    target = dest / shape.same_file
    original = target.read_text()
    if original.count(shape.old) != 1:
        raise SystemExit(f"{shape.source / shape.same_file} no longer holds {shape.old!r} once")
    target.write_text(original.replace(shape.old, shape.new))
    diff = git(dest, "diff", "--", shape.same_file)
    target.write_text(original)
    candidate = {"title": "An identical copy", "kind": "incremental", "rationale": "A/A"}
    mutations = dest.parent / "same.json"
    mutations.write_text(json.dumps([{**candidate, "diff": diff}], indent=2))
    return dest, mutations


def log_ratios(pairs: list[dict[str, Any]], metric: str) -> NDArray[np.float64]:
    out = []
    for pair in pairs:
        base = pair["baseline"]["metrics"].get(metric)
        cand = pair["candidate"]["metrics"].get(metric)
        if base and cand and base > 0 and cand > 0:
            out.append(math.log(cand / base))
    return np.asarray(out, dtype=np.float64)


def spread(d: NDArray[np.float64]) -> Spread:
    if len(d) < 2:
        return Spread(len(d), math.nan, math.nan)
    mad = float(np.median(np.abs(d - np.median(d))))
    return Spread(len(d), float(np.std(d, ddof=1)), 1.4826 * mad)


def critical_value(n: int, alpha: float) -> int:
    """Largest W+ (sum of the ranks of positive d) that the exact one-sided test ('less')
    rejects at alpha; -1 when none does. Without ties p depends only on W+, so scipy is asked
    once per possible W+, with signed ranks that sum to it."""
    ranks = np.arange(1, n + 1, dtype=np.float64)
    best = -1
    for w in range(n * (n + 1) // 2 + 1):
        signs = -np.ones(n)
        left = w
        for r in range(n, 0, -1):  # greedy: every W+ in 0..n(n+1)/2 is a sum of distinct ranks
            if r <= left:
                signs[r - 1] = 1
                left -= r
        p = stats.wilcoxon(signs * ranks, alternative="less", method="exact").pvalue
        if p <= alpha:
            best = w
        else:
            break
    return best


def power(
    delta: float, sigma: float, n: int, crit: int, sims: int, rng: np.random.Generator
) -> float:
    """Share of simulated n-pair blocks (d ~ Normal(-delta, sigma)) the test calls better."""
    if crit < 0:
        return 0.0
    d = rng.normal(-delta, sigma, size=(sims, n))
    ranks = np.abs(d).argsort(axis=1).argsort(axis=1) + 1
    w_plus = np.where(d > 0, ranks, 0).sum(axis=1)
    return float(np.mean(w_plus <= crit))


def detectable(sigma: float, n: int, alpha: float, target: float, sims: int) -> float | None:
    """Smallest improvement (a fraction, e.g. -0.08 = 8% lower) detected with `target` power."""
    if not math.isfinite(sigma) or sigma <= 0:
        return None
    crit = critical_value(n, alpha)
    if crit < 0:
        return None
    rng = np.random.default_rng(13)
    low, high = 0.0, 10 * sigma
    if power(high, sigma, n, crit, sims, rng) < target:
        return None
    for _ in range(30):  # bisection on δ, in units of ln ratio
        mid = (low + high) / 2
        if power(mid, sigma, n, crit, sims, rng) >= target:
            high = mid
        else:
            low = mid
    return math.exp(-high) - 1


def pct(x: float | None) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:+.1%}"


def run_shape(shape: Shape, args: argparse.Namespace, tmp: Path) -> Figures:
    from mutbot.run.execute import execute
    from mutbot.run.options import RunOptions

    edits: dict[str, Any] = dict(FIXED_LOAD if args.load == "fixed" else DEFAULT_LOAD)
    edits |= {
        "judge.pairs": args.pairs,
        "judge.aa_pairs": args.aa_pairs,
        "judge.confirm_top": 1,  # one candidate; 3 would need more pairs at alpha 0.01
    }
    notes = []
    alpha = args.alpha
    least = 2 * 0.5**args.pairs  # the smallest alpha the config accepts for this many pairs
    if alpha < least:
        alpha = float(f"{least * 1.01:.3g}")
        notes.append(f"alpha raised to {alpha:g}: {args.pairs} pairs cannot reach {args.alpha:g}")
    edits["judge.alpha"] = alpha
    edits |= dict(args.config_overrides)
    project, mutations = make_project(shape, tmp / shape.name / "repo", edits)
    out = tmp / shape.name / "out"
    before = uptime()
    started = time.monotonic()
    try:
        execute(
            RunOptions(project, mutations, out=out, backend="docker", seed=args.seed), Reporter()
        )
    except Exception as exc:  # a run that cannot measure its baseline is a figure too
        notes.append(f"the run failed: {type(exc).__name__}: {exc}")
    wall = time.monotonic() - started
    after = uptime()
    if not (out / "results.json").is_file():
        empty = Spread(0, math.nan, math.nan)
        return Figures(
            shape.name, mutbot_origin(), edits, round(wall, 1), 0, math.nan, "failed",
            notes[-1], "", empty, empty, empty, args.power_pairs, None, None, before,
            uptime(), notes,
        )  # fmt: skip
    result = json.loads((out / "results.json").read_text())
    if args.keep:
        kept = Path(args.keep) / shape.name
        shutil.copytree(out, kept, dirs_exist_ok=True)
        notes.append(f"results kept in {kept}")
    primary = result["objective"]["primary"]
    noise = (result.get("noise") or {}).get("pairs", [])
    (cand,) = result["candidates"]
    aa = log_ratios(noise, primary)
    same = log_ratios(cand.get("pairs", []), primary)
    pooled = np.concatenate([aa, same])
    measured = len(noise) + len(cand.get("screening", [])) + len(cand.get("pairs", []))
    both = spread(pooled)
    figures = Figures(
        shape=shape.name,
        mutbot=mutbot_origin(),
        edits=edits,
        wall_seconds=round(wall, 1),
        pairs_measured=measured,
        seconds_per_pair=round(wall / measured, 1) if measured else math.nan,
        verdict=cand["verdict"],
        reason=cand.get("reason") or "",
        primary=primary,
        aa_block=spread(aa),
        identical=spread(same),
        pooled=both,
        power_pairs=args.power_pairs,
        detectable_sd=detectable(both.sd, args.power_pairs, 0.01, 0.95, args.sims),
        detectable_robust=detectable(both.robust, args.power_pairs, 0.01, 0.95, args.sims),
        uptime_before=before,
        uptime_after=after,
        notes=notes,
    )
    return figures


class Reporter:
    """Prints the run's notes; the stages only as dots, to show it is alive."""

    def stage(self, slug: str, text: str) -> None:
        print(".", end="", flush=True)

    def note(self, text: str) -> None:
        print(f"\n  note: {text}", flush=True)


def mutbot_origin() -> str:
    import mutbot

    mutbot_sandbox = importlib.import_module("mutbot_sandbox")  # installed under this name
    return (
        f"{Path(str(mutbot.__file__)).resolve().parent}, "
        f"load runner {Path(str(mutbot_sandbox.__file__)).resolve().parent}"
    )


def same_checkout_runner(tmp: Path) -> None:
    """Run the load with the sandbox runner of the checkout `mutbot` comes from: PYTHONPATH
    can point at another checkout's src/, but mutbot_sandbox is its sandbox/ folder under
    another name, so it would otherwise come from the installed checkout."""
    import mutbot

    sandbox = Path(str(mutbot.__file__)).resolve().parents[2] / "sandbox"
    if not (sandbox / "locust_runner.py").is_file():
        return  # an installed mutbot: its runner is installed with it
    link = tmp / "runner-path" / "mutbot_sandbox"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(sandbox, target_is_directory=True)
    sys.path.insert(0, str(link.parent))
    sys.modules.pop("mutbot_sandbox", None)
    importlib.invalidate_caches()


def show(f: Figures) -> None:
    def line(label: str, s: Spread) -> str:
        return f"  {label:<28} {s.pairs:>2} pairs  sd {s.sd:.3f}  robust {s.robust:.3f}"

    print(f"\n{f.shape}  ({f.primary})")
    print(f"  config edits                 {f.edits}")
    print(line("A/A spread, A/A block", f.aa_block))
    print(line("A/A spread, identical cand.", f.identical))
    print(line("A/A spread, both", f.pooled))
    print(
        f"  detectable with {f.power_pairs} pairs      {pct(f.detectable_sd)} (σ = sd), "
        f"{pct(f.detectable_robust)} (σ = robust)  [95% power, one-sided Wilcoxon, alpha 0.01]"
    )
    print(
        f"  wall time                    {f.wall_seconds:.0f} s, {f.pairs_measured} pairs, "
        f"{f.seconds_per_pair:.1f} s per pair"
    )
    print(f"  identical candidate          {f.verdict}: {f.reason}")
    print(f"  machine                      before: {f.uptime_before}; after: {f.uptime_after}")
    for note in f.notes:
        print(f"  note                         {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes", default=",".join(SHAPES), help="comma-separated: " + ", ".join(SHAPES)
    )
    parser.add_argument("--pairs", type=int, default=8, help="confirmation pairs (judge.pairs)")
    parser.add_argument("--aa-pairs", type=int, default=4, help="A/A block pairs (judge.aa_pairs)")
    parser.add_argument("--alpha", type=float, default=0.01, help="judge.alpha")
    parser.add_argument("--load", choices=("fixed", "default"), default="fixed")
    parser.add_argument(
        "--config-overrides", nargs="*", type=parse_override, default=[], metavar="KEY=VALUE"
    )
    parser.add_argument("--power-pairs", type=int, default=8)
    parser.add_argument("--sims", type=int, default=4000, help="simulated blocks per power step")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="save the figures here")
    parser.add_argument("--keep", help="copy each run's output folder under this folder")
    args = parser.parse_args()
    names = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = [n for n in names if n not in SHAPES]
    if unknown:
        parser.error(f"unknown shapes {unknown}; known: {', '.join(SHAPES)}")

    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="mutbot-sensitivity-") as tmp:
        same_checkout_runner(Path(tmp))
        print(f"mutbot from {mutbot_origin()}; {uptime()}; {os.cpu_count()} CPUs")
        for name in names:
            print(f"\n{name}: running", end="", flush=True)
            results.append(run_shape(SHAPES[name], args, Path(tmp)))
            show(results[-1])
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in results], indent=2) + "\n")
        print(f"\nfigures saved to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
