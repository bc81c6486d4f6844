"""benchmarks/fuzz.py in its quick form (200 inputs per parser), so it never rots: it runs,
prints its table, and finds no crash and no hang."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_fuzz_run_finds_no_crash_and_no_hang() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--quick", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ")]
    cells = {row[0].strip(): [c.strip() for c in row[1:]] for row in rows[2:]}
    assert len(cells) == 9
    for name, (inputs, accepted, rejected, crashes, hangs, *_) in cells.items():
        assert inputs == "200", name
        assert int(accepted) + int(rejected) == 200, name
        assert (crashes, hangs) == ("0", "0"), name


def test_one_input_can_be_shown_again() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "fuzz.py"),
            "--target=ledger reader",
            "--index=3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("input: b'")
    assert done.stdout.rstrip().endswith(("outcome: accepted", "outcome: rejected"))
