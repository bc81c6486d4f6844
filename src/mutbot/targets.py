"""Reading the target files of a project folder (an edge: file I/O), for detectors and
proposers. Only text files the policy would let a candidate change are read."""

from __future__ import annotations

import os
from pathlib import Path

from mutbot.globs import matches
from mutbot.policy import ALWAYS_PROTECTED, DiffRules
from mutbot.proposers.base import TargetFile

MAX_BYTES = 256 * 1024  # larger files are data, not pipeline source


def read_targets(project_dir: Path, rules: DiffRules) -> tuple[TargetFile, ...]:
    found = []
    for folder, dirs, names in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in (".git", ".mutbot"))
        for name in sorted(names):
            path = Path(folder) / name
            relative = path.relative_to(project_dir).as_posix()
            if not _wanted(path, relative, rules):
                continue
            data = path.read_bytes()
            if b"\0" in data:
                continue
            try:
                found.append(TargetFile(relative, data.decode("utf-8")))
            except UnicodeDecodeError:
                continue
    return tuple(found)


def _wanted(path: Path, relative: str, rules: DiffRules) -> bool:
    return (
        matches(relative, rules.targets)
        and (not rules.narrow or matches(relative, rules.narrow))
        and not matches(relative, rules.protected)
        and not matches(relative, ALWAYS_PROTECTED)
        and not path.is_symlink()
        and path.stat().st_size <= MAX_BYTES
    )
