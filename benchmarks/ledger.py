"""What remembering costs: appends and reads of the local ledger file, and appends to the
`mutbot/ledger` branch through a local bare remote, alone and with two runs racing.

    python benchmarks/ledger.py [--entries 2000] [--branch-appends 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.ledger.branch import BranchLedger
from mutbot.ledger.store import FileLedger
from testing.ledger_writer import entry
from testing.repos import git


def file_figures(root: Path, count: int) -> None:
    ledger = FileLedger(root / "ledger.jsonl")
    samples = []
    for i in range(count):
        started = time.perf_counter()
        ledger.append([entry("bench", i, 2000)])  # a 2 kB diff, like a small real candidate
        samples.append(time.perf_counter() - started)
    started = time.perf_counter()
    read = ledger.read()
    reading = time.perf_counter() - started
    size = (root / "ledger.jsonl").stat().st_size
    print(
        f"file ledger: {count} appends (one entry each, fsync'd): median "
        f"{statistics.median(samples) * 1000:.2f} ms, p95 "
        f"{sorted(samples)[int(0.95 * count)] * 1000:.2f} ms; read {len(read)} entries "
        f"({size / 1e6:.1f} MB) in {reading * 1000:.0f} ms"
    )


def clone(remote: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "--quiet", str(remote), str(dest))
    return dest


def branch_figures(root: Path, count: int) -> None:
    remote = root / "remote.git"
    git(root, "init", "--quiet", "--bare", str(remote))
    seed = root / "seed"
    seed.mkdir()
    git(seed, "init", "--quiet", "-b", "main")
    (seed / "README").write_text("x\n")
    git(seed, "add", "README")
    git(seed, "commit", "--quiet", "-m", "x")
    git(seed, "push", "--quiet", str(remote), "main")
    alone = BranchLedger(clone(remote, root / "a"))
    samples = []
    for i in range(count):
        started = time.perf_counter()
        alone.append([entry("alone", i)])
        samples.append(time.perf_counter() - started)
    print(
        f"branch ledger: {count} appends alone: median {statistics.median(samples) * 1000:.0f} ms "
        "(fetch, plumbing commit, push)"
    )
    racers = [BranchLedger(clone(remote, root / name)) for name in ("b", "c")]
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=lambda lg=lg, tag=tag: [lg.append([entry(tag, i)]) for i in range(count)]
        )
        for lg, tag in zip(racers, ("b", "c"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    entries = alone.read()
    commits = int(
        subprocess.run(
            ["git", "rev-list", "--count", "mutbot/ledger"],
            cwd=remote,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    by_tag = {tag: sum(1 for e in entries if e.run_id == tag) for tag in ("alone", "b", "c")}
    print(
        f"branch ledger: two runs racing, {count} appends each: {took:.1f} s; entries kept "
        f"{by_tag} of {count} each; {commits} commits on the branch (one per append)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--branch-appends", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        file_figures(Path(tmp), args.entries)
        branch_figures(Path(tmp), args.branch_appends)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
