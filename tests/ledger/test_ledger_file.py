import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mutbot.ledger.model import Entry
from mutbot.ledger.store import FileLedger, LedgerError
from testing.ledger_writer import entry
from testing.repos import ROOT


def writer(path: Path, tag: str, count: int, diff_bytes: int = 0) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "testing.ledger_writer",
            str(path),
            tag,
            str(count),
            str(diff_bytes),
        ],
        env=env,
        cwd=ROOT,
    )


def test_a_missing_ledger_reads_as_empty(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / ".mutbot" / "ledger.jsonl")
    assert ledger.read() == []
    assert ledger.damaged == 0


def test_append_adds_lines_and_read_returns_them_in_order(tmp_path: Path) -> None:
    path = tmp_path / ".mutbot" / "ledger.jsonl"
    ledger = FileLedger(path)
    first = [entry("one", 0), entry("one", 1)]
    ledger.append(first)
    before = path.read_bytes()
    ledger.append([entry("two", 2)])
    ledger.append([])

    assert ledger.read() == [*first, entry("two", 2)]
    assert path.read_bytes().startswith(before)  # appended, never rewritten
    assert len(path.read_bytes().splitlines()) == 3


def test_two_processes_appending_200_entries_each_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    writers = [writer(path, tag, 200) for tag in ("a", "b")]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]

    ledger = FileLedger(path)
    entries = ledger.read()
    assert ledger.damaged == 0
    for tag in ("a", "b"):
        # every entry of each writer, in the order that writer appended them
        assert [e.note for e in entries if e.run_id == tag] == [str(i) for i in range(200)]
    assert len(entries) == 400


def test_a_run_killed_mid_line_leaves_a_ledger_that_parses(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = FileLedger(path)
    ledger.append([entry("before", 0)])
    with path.open("ab") as f:  # what a writer killed half way through a line leaves
        f.write(entry("killed", 1).line().encode()[:40])

    assert ledger.read() == [entry("before", 0)]
    assert ledger.damaged == 1
    ledger.append([entry("after", 2)])  # starts on a fresh line: the fragment spoils nothing
    assert ledger.read() == [entry("before", 0), entry("after", 2)]
    assert ledger.damaged == 1


def test_writers_killed_while_appending_leave_a_ledger_that_parses(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    for attempt in range(4):
        size = path.stat().st_size if path.exists() else 0
        proc = writer(path, f"run{attempt}", 10_000, diff_bytes=200_000)
        while proc.poll() is None and (not path.exists() or path.stat().st_size <= size):
            time.sleep(0.001)  # until it has written something; then kill it mid-stream
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    ledger = FileLedger(path)
    entries = ledger.read()
    assert entries  # each writer got at least its first entry in
    assert ledger.damaged <= 4  # at most the one line each kill cut short
    for e in entries:
        assert e.diff == "+" * 200_000
    FileLedger(path).append([entry("survivor", 0)])
    assert FileLedger(path).read()[-1] == entry("survivor", 0)


def test_an_unreadable_ledger_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "ledger.jsonl").mkdir()
    with pytest.raises(LedgerError, match="cannot read the ledger"):
        FileLedger(tmp_path / "ledger.jsonl").read()
    with pytest.raises(LedgerError, match="cannot open the ledger"):
        FileLedger(tmp_path / "ledger.jsonl").append([Entry(event="policy", fingerprint="a" * 12)])
