"""First try: on each sample repository, `mutbot init`, then `mutbot doctor` on the config init
wrote, unchanged.

Each sample (every folder under testing/samples/, and examples/notes) is copied into a fresh git
repository without any mutbot config, `mutbot init` writes one, everything is committed (as a
user would before a run: a run builds the last commit), and `mutbot doctor` runs. Prints, per
sample, whether doctor passed (else the failing step and its diagnosis) and the wall time of
init and of doctor, then "N of M pass unchanged". Exit code 0 when all pass, else 1.

    python benchmarks/first_try.py [--list] [--only NAME]... [--backend docker|local] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testing.repos import git, make_repo  # noqa: E402

SAMPLES = ROOT / "testing" / "samples"
EXAMPLES = (ROOT / "examples" / "notes",)
CONFIGS = (".mutbot.yml", ".github/mutbot.yml", ".github/workflows/mutbot.yml")
DOCTOR_TIMEOUT = 600.0  # seconds; a first build may install dependencies


@dataclass(frozen=True)
class Outcome:
    name: str
    init_seconds: float
    doctor_seconds: float
    passed: bool
    failure: str  # the failed step's line and the diagnosis; "" when it passed


def samples() -> dict[str, Path]:
    found = {p.name: p for p in sorted(SAMPLES.iterdir()) if p.is_dir()}
    for example in EXAMPLES:
        found[f"examples/{example.name}"] = example
    return found


def mutbot(*args: str, timeout: float) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mutbot", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def first_try(name: str, source: Path, scratch: Path, backend: str | None) -> Outcome:
    project = make_repo(scratch / name.replace("/", "-"), source)
    for config in CONFIGS:  # a first try: whatever config the sample ships is not there
        (project / config).unlink(missing_ok=True)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", "without a mutbot config")

    started = time.monotonic()
    code, said = mutbot("init", "--repo", str(project), timeout=120)
    init_seconds = time.monotonic() - started
    if code != 0:
        return Outcome(name, init_seconds, 0.0, False, f"init: exit code {code}: {_last(said)}")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "mutbot init")

    started = time.monotonic()
    chosen = ("--backend", backend) if backend else ()
    try:
        code, said = mutbot("doctor", "--repo", str(project), *chosen, timeout=DOCTOR_TIMEOUT)
    except subprocess.TimeoutExpired:
        code, said = -1, f"✗ doctor did not finish within {DOCTOR_TIMEOUT:g}s"
    doctor_seconds = time.monotonic() - started
    return Outcome(name, init_seconds, doctor_seconds, code == 0, "" if code == 0 else _why(said))


def _why(output: str) -> str:
    """The failed step's line and the diagnosis lines, else the last line said."""
    lines = output.splitlines()
    kept = [line for line in lines if line.startswith(("✗", "→", "mutbot: error"))]
    return " ".join(" ".join(line.split()) for line in kept) or _last(output)


def _last(output: str) -> str:
    rows = [row for row in output.splitlines() if row.strip()]
    return rows[-1] if rows else "no output"


def table(outcomes: list[Outcome]) -> list[str]:
    lines = ["| sample | init | doctor | result |", "|---|---:|---:|---|"]
    for o in outcomes:
        result = "pass" if o.passed else f"FAIL: {o.failure}"
        lines.append(f"| {o.name} | {o.init_seconds:.1f}s | {o.doctor_seconds:.1f}s | {result} |")
    passed = sum(o.passed for o in outcomes)
    lines.append("")
    lines.append(f"{passed} of {len(outcomes)} pass unchanged")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the samples and stop")
    parser.add_argument("--only", action="append", default=[], help="this sample (repeatable)")
    parser.add_argument("--backend", choices=["docker", "local"])
    parser.add_argument("--keep", action="store_true", help="keep the repositories made")
    args = parser.parse_args(argv)

    found = samples()
    if args.list:
        for name, path in found.items():
            print(f"{name}\t{path.relative_to(ROOT)}")
        return 0
    unknown = sorted(set(args.only) - set(found))
    if unknown:
        parser.error(f"no sample {', '.join(unknown)}; --list shows them")
    chosen = {n: p for n, p in found.items() if not args.only or n in args.only}

    scratch = Path(tempfile.mkdtemp(prefix="mutbot-first-try-"))
    outcomes = []
    try:
        for name, source in chosen.items():
            outcome = first_try(name, source, scratch, args.backend)
            print(f"{name}: {'pass' if outcome.passed else 'FAIL'}", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    finally:
        if args.keep:
            print(f"repositories kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(table(outcomes)))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
