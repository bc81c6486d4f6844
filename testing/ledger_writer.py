"""A separate process appending to a file ledger, for the concurrency and crash tests:
`python -m testing.ledger_writer PATH TAG COUNT [DIFF_BYTES]` appends COUNT entries one at a time,
each with run_id TAG and note = its index."""

from __future__ import annotations

import sys
from pathlib import Path

from mutbot.ledger.model import Entry
from mutbot.ledger.store import FileLedger

AT = "2024-01-01T00:00:00+00:00"  # fixed, so tests can compare the entries they wrote


def entry(tag: str, index: int, diff_bytes: int = 0) -> Entry:
    return Entry(
        at=AT,
        event="evaluated",
        fingerprint=f"{index:012x}",
        run_id=tag,
        note=str(index),
        diff="+" * diff_bytes or None,
    )


def main(argv: list[str]) -> int:
    path, tag, count = Path(argv[0]), argv[1], int(argv[2])
    diff_bytes = int(argv[3]) if len(argv) > 3 else 0
    ledger = FileLedger(path)
    for index in range(count):
        ledger.append([entry(tag, index, diff_bytes)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
