"""The records discovery works with (pure): a repository seen as files and a reader, a place in
a file, and a guess that says where it was read and whether to check it."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Reader = Callable[[str], str | None]


@dataclass(frozen=True)
class Source:
    """A place in the repository: a file and (1-based) line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Guess(Generic[T]):
    """A value init writes, what it was read from (`why` in `source`), and, when there is a real
    doubt, why to check it. A default has no source."""

    value: T
    why: str
    source: Source | None = None
    doubt: str | None = None

    def comment(self) -> str:
        said = f"{self.why} in {self.source}" if self.source else self.why
        return f"CHECK: {said}; {self.doubt}" if self.doubt else said


class Repo:
    """The repository's files (relative, `/`-separated) and a reader that gives a file's text,
    or None when it cannot be read. Each text is read once."""

    def __init__(self, files: Iterable[str], reader: Reader) -> None:
        self.files = tuple(files)
        self.fileset = frozenset(self.files)
        self._reader = reader
        self._texts: dict[str, str | None] = {}

    def read(self, path: str) -> str | None:
        path = posixpath.normpath(path).removeprefix("./")
        if path not in self._texts:
            self._texts[path] = self._reader(path) if path in self.fileset else None
        return self._texts[path]

    def under(self, folder: str) -> list[str]:
        """The files below `folder` ("." for all), relative to the repository."""
        return [f for f in self.files if inside(f, folder)]


def join(folder: str, name: str) -> str:
    """A repository path: `name` relative to `folder`, normalised ("." for the top)."""
    return posixpath.normpath(posixpath.join(folder or ".", name)).removeprefix("./")


def inside(path: str, folder: str) -> bool:
    folder = posixpath.normpath(folder or ".")
    return folder == "." or path == folder or path.startswith(folder + "/")
