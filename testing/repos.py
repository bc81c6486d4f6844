"""Real temporary git repositories made from the bundled example."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "pricing"
IDENTITY = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, check=True, text=True, capture_output=True
    )
    return result.stdout


def make_repo(dest: Path, source: Path = EXAMPLE, subdir: str = "") -> Path:
    """Copy `source` into a fresh git repo (optionally into a sub-folder) and commit it.

    Returns the project folder (the repo root, or the sub-folder)."""
    dest.mkdir(parents=True, exist_ok=True)
    project = dest / subdir if subdir else dest
    shutil.copytree(
        source, project, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".mutbot", "__pycache__")
    )
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "initial")
    return project


def example_candidates() -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads((EXAMPLE / "candidates.json").read_text())
    return data


def write_candidates(path: Path, titles: list[str]) -> Path:
    """A candidates file holding the example's candidates with these titles, in this order."""
    by_title = {str(c["title"]): c for c in example_candidates()}
    path.write_text(json.dumps([by_title[t] for t in titles], indent=2))
    return path


# Short trials and a lenient alpha, so an end-to-end test takes well under a minute.
QUICK_LOAD = {
    "duration: 3s": "duration: 2s",
    "warmup: 1s": "warmup: 0.5s",
    "alpha: 0.01": "alpha: 0.1",
    "aa_pairs: 3 ": "aa_pairs: 0 ",
    "confirm_top: 2": "confirm_top: 1",
    "  pairs: 8 ": "  pairs: 5 ",
}


def edit_config(project: Path, replace: dict[str, str]) -> None:
    """Rewrite lines of .mutbot.yml and commit, e.g. to shorten the load for a test."""
    config = project / ".mutbot.yml"
    text = config.read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text)
    git(project, "commit", "--quiet", "-am", "test settings")
