"""Fuzz every parser of untrusted input with generated hostile inputs and count what happens:
accepted, cleanly rejected (mutbot's own error, a malformed event ignored, a damaged ledger line
counted), crashed (any other exception or warning, or a result of the wrong shape) or hung
(over the time limit). The goal is 0 crashes and 0 hangs. Inputs are structure-aware
(testing.hostile_inputs): valid seeds with wrong types, huge numbers, NaN, deep nesting, YAML
aliases and damaged text.

    python benchmarks/fuzz.py [--inputs 10000] [--seed 1] [--quick] [--target NAME]
                              [--index N] [--limit 2.0]

Input N of a target is a pure function of (seed, target, N): `--target "ledger reader"
--index 123` runs just that one again and shows it. Each target runs in a forked process of its
own; "peak RSS" is that process's peak resident memory, "growth" what the inputs added to it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.fuzz_targets import Target, all_targets

QUICK = 200


class Hang(BaseException):
    """Raised by the alarm: not an Exception, so no `except Exception` in the code swallows it."""


@dataclass
class Tally:
    name: str
    inputs: int = 0
    accepted: int = 0
    rejected: int = 0
    crashes: int = 0
    hangs: int = 0
    slowest: float = 0.0
    slowest_index: int = 0
    baseline_kib: int = 0
    peak_kib: int = 0
    examples: list[str] = field(default_factory=list)


def rng_for(seed: int, target: str, index: int) -> random.Random:
    return random.Random(f"{seed}:{target}:{index}")


def run_one(target: Target, seed: int, index: int, limit: float, tally: Tally) -> None:
    item = target.generate(rng_for(seed, target.name, index))
    signal.setitimer(signal.ITIMER_REAL, limit * 5)  # stop a real hang; `limit` decides
    started = time.perf_counter()
    outcome: str | None = None
    problem = ""
    try:
        outcome = target.run(item)
    except Hang:
        problem = "hang (stopped)"
    except Exception as exc:  # the point: anything that is not mutbot's own clean refusal
        problem = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - started
    tally.inputs += 1
    if elapsed > tally.slowest:
        tally.slowest, tally.slowest_index = elapsed, index
    if problem.startswith("hang") or elapsed > limit:
        tally.hangs += 1
        problem = problem or f"hang ({elapsed:.1f}s)"
    elif problem:
        tally.crashes += 1
    elif outcome == "accepted":
        tally.accepted += 1
    else:
        tally.rejected += 1
    if problem and len(tally.examples) < 5:
        tally.examples.append(f"  index {index}: {problem}\n    input {target.describe(item)}")


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


def table(tallies: list[Tally]) -> str:
    head = ("target", "inputs", "accepted", "rejected", "crashes", "hangs", "slowest", "peak RSS")
    rows = [head] + [
        (
            t.name,
            str(t.inputs),
            str(t.accepted),
            str(t.rejected),
            str(t.crashes),
            str(t.hangs),
            f"{t.slowest * 1000:.0f} ms",
            f"{t.peak_kib / 1024:.0f} MiB (+{(t.peak_kib - t.baseline_kib) / 1024:.0f})",
        )
        for t in tallies
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    count = QUICK if args.quick else args.inputs
    signal.signal(signal.SIGALRM, _alarm)
    warnings.simplefilter("error")  # as pytest runs: a RuntimeWarning from numpy is a crash
    with tempfile.TemporaryDirectory(prefix="mutbot-fuzz-") as folder:
        targets = all_targets(Path(folder))
        chosen = [t for t in targets if args.target in (None, t.name)]
        if not chosen:
            names = ", ".join(repr(t.name) for t in targets)
            print(f"no target {args.target!r}; one of {names}", file=sys.stderr)
            return 2
        if args.index is not None:
            return _show(chosen[0], args.seed, args.index)
        tallies = []
        started = time.perf_counter()
        for target in chosen:
            tallies.append(_in_child(target, args.seed, count, args.limit))
            print(f"{target.name}: {count} inputs done", file=sys.stderr, flush=True)
    print(table(tallies))
    print(f"\nseed {args.seed}, time limit {args.limit:g} s, {time.perf_counter() - started:.0f} s")
    slowest = ", ".join(f"{t.name} #{t.slowest_index}" for t in tallies)
    print(f"slowest inputs (--target NAME --index N): {slowest}")
    for tally in tallies:
        if tally.examples:
            print(f"\n{tally.name}:\n" + "\n".join(tally.examples))
    return 1 if any(t.crashes or t.hangs for t in tallies) else 0


def _in_child(target: Target, seed: int, count: int, limit: float) -> Tally:
    """One target in a forked process: its own peak memory, and a crash that kills the
    interpreter (a segfault) cannot take the others with it."""
    receive, send = multiprocessing.Pipe(duplex=False)

    def work() -> None:
        tally = Tally(target.name, baseline_kib=_rss_kib())
        for index in range(count):
            run_one(target, seed, index, limit, tally)
        tally.peak_kib = _rss_kib()
        send.send(tally)

    child = multiprocessing.get_context("fork").Process(target=work)
    child.start()
    tally: Tally = receive.recv() if receive.poll(None) else Tally(target.name)
    child.join()
    if child.exitcode != 0:
        tally.crashes += 1
        tally.examples.append(f"  the process died (exit code {child.exitcode})")
    return tally


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _show(target: Target, seed: int, index: int) -> int:
    item = target.generate(rng_for(seed, target.name, index))
    print(f"input: {target.describe(item)}")
    print(f"outcome: {target.run(item)}")  # a crash shows its traceback here
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} inputs per target")
    parser.add_argument("--target", help="only this target (its name in the table)")
    parser.add_argument("--index", type=int, help="run and show input N of --target")
    parser.add_argument("--limit", type=float, default=2.0, help="seconds per input (a hang)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
