"""Search that converges: on a sample service, the best confirmed improvement found by
(a) today's single-setting search (`--proposer search`), (b) the closed-loop search
(`--proposer tune`) and (c) a full grid, each a real run in Docker; a convergence table (best
screening estimate so far per screened configuration) and a PNG plot of it.

    python benchmarks/search.py [--sample testing/samples/pool-gthread] [--budget 12]
        [--grid gunicorn.workers=1,2,3,4,5,6 --grid gunicorn.threads=1,2,4,8,16,32]
        [--only a,b,c] [--plot docs/search-convergence.png] [--json out.json]

Goal (issue 14): (b) reaches ≥ 90% of the grid's best improvement in ≤ 25% of the grid's
configurations, and beats (a). Runs one after another on one machine: close together, as
docs/measurement.md asks, but not interleaved; each run has its own baseline pairs, so each
estimate is against a baseline measured beside it."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mutbot.config import load_config  # noqa: E402
from mutbot.guarding import baseline_view  # noqa: E402
from mutbot.packs.model import Value  # noqa: E402
from mutbot.packs.survey import survey  # noqa: E402
from mutbot.results import RunResult  # noqa: E402
from mutbot.run import execute  # noqa: E402
from mutbot.run.options import RunOptions, rules_for  # noqa: E402
from mutbot.targets import read_targets  # noqa: E402
from mutbot.tune import candidate as candidates  # noqa: E402
from mutbot.tune.space import build as build_space  # noqa: E402
from testing.reporters import RecordingReporter  # noqa: E402
from testing.repos import git, make_repo  # noqa: E402

SAMPLE = ROOT / "testing" / "samples" / "pool-gthread"
GRID = ("gunicorn.workers=1,2,3,4,5,6", "gunicorn.threads=1,2,4,8,16,32")


def configure(project: Path, changes: dict[str, dict[str, Any]]) -> None:
    path = project / ".mutbot.yml"
    data = yaml.safe_load(path.read_text())
    for section, values in changes.items():
        data[section] = {**(data.get(section) or {}), **values}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    git(project, "commit", "--quiet", "-am", "benchmark settings")


def grid_candidates(project: Path, grid: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Every configuration of the grid but the baseline's, written by the packs' own edits."""
    config = load_config(project / ".mutbot.yml")
    rules = rules_for(config, project / ".mutbot.yml", project)
    files = {f.path: f.text for f in read_targets(project, rules)}
    space = build_space(survey(baseline_view(project, config, rules, None)), None)
    out = []
    for values in itertools.product(*grid.values()):
        params: dict[str, Value] = space.current() | dict(zip(grid, values, strict=True))
        built = candidates.build(space, params, files, None, rules, "a cell of the full grid")
        if not isinstance(built, str):
            out.append(built.model_dump(exclude_none=True))
    return out


def run(project: Path, out: Path, **options: Any) -> tuple[RunResult, float]:
    started = time.monotonic()
    result = execute(RunOptions(project=project, out=out, **options), RecordingReporter())
    return result, time.monotonic() - started


def curve(result: RunResult) -> list[float]:
    """Best screening estimate of the primary (its own relative change, - = lower) so far,
    per screened configuration, in the order they were screened."""
    if result.search is not None:
        found = [s.change for s in result.search.steps if s.status == "screened"]
    else:
        found = [
            c.selection.screening_change
            for c in result.candidates
            if c.selection is not None and c.selection.screening_change is not None
        ]
    best, out = float("inf"), []
    for change in found:
        if change is not None:
            best = min(best, change)
        out.append(best)
    return out


def confirmed(result: RunResult) -> tuple[float | None, str]:
    primary = str(result.objective["primary"])
    judged = [c for c in result.candidates if c.judgement is not None]
    if not judged:
        return None, "nothing confirmed"
    best = min(judged, key=lambda c: c.comparisons[primary].change)
    settings = ", ".join(f"{s.key.split('.')[-1]}={s.after}" for s in best.settings)
    return best.comparisons[primary].change, f"{best.verdict}: {settings or best.title}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--budget", type=int, default=12, help="configurations for (a), (b)")
    parser.add_argument("--grid", action="append", help="KEY=v1,v2,... (default: workers×threads)")
    parser.add_argument("--only", default="a,b,c")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--screen-pairs", type=int, default=2)
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "search-convergence.png")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--cells",
        type=Path,
        default=SAMPLE.parent / "pool-gthread-grid.json",
        help="where (c) writes each cell's screening estimate (the Docker test reads it)",
    )
    args = parser.parse_args()
    grid = {
        k: [int(v) for v in vs.split(",")]
        for k, vs in (g.split("=", 1) for g in (args.grid or GRID))
    }
    judge = {"screen_pairs": args.screen_pairs, "pairs": 6, "confirm_top": 1, "alpha": 0.05}
    runs: dict[str, tuple[RunResult, float]] = {}
    with tempfile.TemporaryDirectory(prefix="mutbot-search-") as tmp:
        for name in args.only.split(","):
            project = make_repo(Path(tmp) / name, args.sample)
            configure(
                project,
                {"judge": judge, "search": {"trials": args.budget}, "propose": {"count": 8}},
            )
            if name == "a":
                runs["a"] = run(project, Path(tmp) / "out-a", proposer="search", seed=args.seed)
            elif name == "b":
                runs["b"] = run(project, Path(tmp) / "out-b", proposer="tune", seed=args.seed)
            else:
                cells = grid_candidates(project, grid)
                file = Path(tmp) / "grid.json"
                file.write_text(json.dumps(cells))
                configure(project, {"propose": {"count": min(50, len(cells))}})
                runs["c"] = run(project, Path(tmp) / "out-c", mutations=file, seed=args.seed)
            print(f"({name}) done in {runs[name][1] / 60:.1f} min", flush=True)
    return report(runs, args)


LABELS = {"a": "(a) single-setting search", "b": "(b) closed loop (TPE)", "c": "(c) full grid"}


def report(runs: dict[str, tuple[RunResult, float]], args: argparse.Namespace) -> int:
    curves = {name: curve(result) for name, (result, _) in runs.items()}
    print("\nbest screening estimate so far (p95 change vs the baseline), per configuration:")
    longest = max((len(c) for c in curves.values()), default=0)
    print("   n  " + "  ".join(f"{LABELS[n]:>26}" for n in curves))
    for i in range(longest):
        cells = [f"{c[i]:>+26.1%}" if i < len(c) else " " * 26 for c in curves.values()]
        print(f"{i + 1:>4}  " + "  ".join(cells))
    print()
    summary: dict[str, Any] = {}
    for name, (result, seconds) in runs.items():
        change, what = confirmed(result)
        shown = f"{change:+.1%}" if change is not None else "-"
        print(
            f"{LABELS[name]:<28} confirmed {shown:>8}  {what}; {len(curves[name])} screened, "
            f"{seconds / 60:.1f} min"
        )
        summary[name] = {
            "confirmed": change,
            "what": what,
            "curve": curves[name],
            "seconds": seconds,
        }
    if "b" in curves and "c" in curves and curves["c"]:
        best = curves["c"][-1]
        reach = next((i + 1 for i, v in enumerate(curves["b"]) if v <= 0.9 * best), None)
        share = f"{reach / len(curves['c']):.0%}" if reach else "never"
        print(
            f"(b) reached 90% of the grid's best screening improvement ({0.9 * best:+.1%}) "
            f"after {reach or '-'} configurations: {share} of the grid's {len(curves['c'])}"
        )
        summary["reach"] = reach
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if "c" in runs:
        write_cells(runs["c"][0], args.cells)
    plot(curves, args.plot)
    return 0


def write_cells(result: RunResult, path: Path) -> None:
    """Each grid cell's screening estimate of the primary, best first, and which lie within
    10% of the best cell's p95 (the Docker test's yardstick)."""
    cells = []
    for c in result.candidates:
        if c.selection is None or c.selection.screening_change is None:
            continue
        setting = {s.key: s.after for s in c.settings}
        cells.append({"settings": setting, "change": c.selection.screening_change})
    cells.sort(key=lambda cell: cell["change"])
    best = 1 + cells[0]["change"] if cells else 1.0
    for cell in cells:
        cell["within_10pct"] = (1 + cell["change"]) <= 1.1 * best
    data = {
        "measured": f"benchmarks/search.py (c), run {result.run_id}",
        "primary": result.objective["primary"],
        "baseline_p95_ms": result.baseline.summary.get("latency_p95_ms"),
        "cells": cells,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"grid cells: {path}")


def plot(curves: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in curves.items():
        ax.step(
            range(1, len(values) + 1), [v * 100 for v in values], where="post", label=LABELS[name]
        )
    ax.set_xlabel("configurations screened")
    ax.set_ylabel("best p95 change so far (%)")
    ax.set_title("Convergence on testing/samples/pool-gthread")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
