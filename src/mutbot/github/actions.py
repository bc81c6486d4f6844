"""GitHub Actions workflow commands (an edge: writes to stdout and the runner's files).

Everything the bot prints goes to stdout, one stream, so a `::stop-commands::` line always
reaches the runner before the untrusted text it guards."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def command(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def mask(value: str) -> None:
    """The runner replaces the value with *** in every later log line."""
    for line in value.splitlines():
        if line.strip():
            command(f"::add-mask::{line}")


@contextmanager
def group(title: str) -> Iterator[None]:
    command(f"::group::{' '.join(title.split())}")
    try:
        yield
    finally:
        command("::endgroup::")


@contextmanager
def untrusted() -> Iterator[None]:
    """Model output, diffs and repository text printed inside cannot run workflow commands:
    the runner ignores every `::command::` until the random token ends the block."""
    token = secrets.token_hex(16)
    command(f"::stop-commands::{token}")
    try:
        yield
    finally:
        command(f"::{token}::")


def set_outputs(path: Path | None, outputs: dict[str, str]) -> None:
    """Step outputs in the runner's multi-line format, with a delimiter no value contains."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as out:
        for name, value in outputs.items():
            delimiter = f"mutbot_{secrets.token_hex(8)}"
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def add_summary(path: Path | None, markdown: str) -> None:
    if path is not None:
        with path.open("a", encoding="utf-8") as out:
            out.write(markdown.rstrip("\n") + "\n")
