"""benchmarks/first_try.py, so it never rots: it lists its samples, and on the bundled notes
example (init, then doctor on the config init wrote) it passes unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "first_try.py"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_it_lists_every_sample_and_the_notes_example() -> None:
    done = run("--list")
    assert done.returncode == 0, done.stderr
    names = [line.split("\t")[0] for line in done.stdout.splitlines()]
    samples = sorted(p.name for p in (ROOT / "testing" / "samples").iterdir() if p.is_dir())
    assert names == [*samples, "examples/notes"]


def test_an_unknown_sample_is_a_usage_error() -> None:
    done = run("--only", "no-such-sample")
    assert done.returncode == 2
    assert "no sample no-such-sample; --list shows them" in done.stderr


@pytest.mark.docker
@pytest.mark.slow
def test_init_then_doctor_passes_unchanged_on_the_notes_example() -> None:
    done = run("--only", "examples/notes", timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["| sample | init | doctor | result |", "|---|---:|---:|---|"]
    assert lines[2].startswith("| examples/notes | ") and lines[2].endswith(" | pass |")
    assert lines[-1] == "1 of 1 pass unchanged"
