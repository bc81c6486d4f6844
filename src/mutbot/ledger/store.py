"""Where the ledger lives: the protocol every store follows, and the local file store
(`.mutbot/ledger.jsonl`). Appending never rewrites what is there."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from mutbot.errors import LedgerError
from mutbot.ledger.model import Entry, dump, parse
from mutbot.statedir import make_folder

LOCAL_PATH = Path(".mutbot") / "ledger.jsonl"  # relative to the project


class Ledger(Protocol):
    where: str  # for messages: a path, or remote:branch:path
    damaged: int  # after read(): lines skipped because they are not a valid entry
    newer: int  # after read(): lines skipped because a newer mutbot wrote them

    def read(self) -> list[Entry]: ...

    def append(self, entries: Sequence[Entry]) -> None: ...


class FileLedger:
    """A JSON-lines file. Each append is one write of whole lines to a file opened O_APPEND,
    under an exclusive lock and followed by fsync, so concurrent runs interleave whole appends
    and a killed run can at worst leave one incomplete last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self.damaged = 0
        self.newer = 0

    def read(self) -> list[Entry]:
        try:
            with self.path.open("rb") as f:
                fcntl.flock(f, fcntl.LOCK_SH)  # never see an append half way
                data = f.read()
        except FileNotFoundError:
            data = b""
        except OSError as exc:
            raise LedgerError(f"cannot read the ledger {self.where}: {exc.strerror}") from None
        parsed = parse(data)
        self.damaged, self.newer = parsed.damaged, parsed.newer
        return parsed.entries

    def append(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        payload = dump(entries)
        try:
            make_folder(self.path.parent)  # .mutbot/.gitignore first
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot open the ledger {self.where}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _ends_mid_line(fd):
                payload = b"\n" + payload  # keep a killed run's fragment off our first line
            _write_all(fd, payload)
            os.fsync(fd)
        except OSError as exc:
            raise LedgerError(f"cannot append to the ledger {self.where}: {exc.strerror}") from None
        finally:
            os.close(fd)  # releases the lock


def _ends_mid_line(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _write_all(fd: int, data: bytes) -> None:
    # one write in practice; the loop only matters if the kernel returns a short count
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
