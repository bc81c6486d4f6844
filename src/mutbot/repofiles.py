"""The files of a checkout as mutbot.discover and the packs read them (an edge: git and file
I/O): git's view of the files (ignored ones left out), each read once, at most 1 MiB, never
through a symlink out of the folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import git

from mutbot import untrusted
from mutbot.discover.model import Repo

MAX_READ = 1024**2  # bytes of one file worth reading for guesses

# Never listed at all: caches, dependencies, build output.
_NOISE = {".git", ".mutbot", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox"}
_NOISE |= {".pytest_cache", ".mypy_cache", ".ruff_cache", "site-packages", "dist", "build"}


def repo_at(project: Path) -> Repo:
    return Repo(list_files(project), reader(project))


def list_files(project: Path) -> list[str]:
    """The project's files relative to it: git's view (ignored files left out) when the folder
    is in a work tree, else a walk that skips caches and dependencies."""
    try:
        output = git.Git(project).ls_files("--cached", "--others", "--exclude-standard", "-z")
    except (git.GitCommandError, git.NoSuchPathError):
        output = None
    if output is not None:
        names = [n for n in output.split("\0") if n and (project / n).is_file()]
    else:
        names = []
        for folder, dirs, files in os.walk(project):
            dirs[:] = [d for d in dirs if d not in _NOISE]
            base = Path(folder).relative_to(project)
            names += [(base / f).as_posix() for f in files]
    return sorted(n for n in names if not set(n.split("/")[:-1]) & _NOISE)


def reader(project: Path) -> Callable[[str], str | None]:
    root = project.resolve()

    def read(name: str) -> str | None:
        path = project / name
        try:
            if not path.resolve().is_relative_to(root):
                return None  # a symlink out of the project
            return untrusted.read(path, MAX_READ).decode("utf-8")
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    return read
