"""`mutbot ledger` and `mutbot export` over a local ledger file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutbot.cli import main
from mutbot.ledger.model import evaluated
from mutbot.ledger.store import LOCAL_PATH, FileLedger
from testing.records import candidate, run


def test_ledger_and_export_read_the_local_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = candidate("good", factor=0.6)
    bad = candidate("bad", title="Break it", rejected_at=("build", "boom"))
    bad = bad.model_copy(update={"fingerprint": "abcdefabcdef"})
    FileLedger(tmp_path / LOCAL_PATH).append(evaluated(run([good, bad], ["good"])))

    assert main(["ledger", "--repo", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "Use 4 workers" in table and "Break it" in table and "reject" in table

    assert main(["ledger", "--repo", str(tmp_path), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert sorted(r["verdict"] for r in records) == ["propose", "reject"]

    out = tmp_path / "dataset.jsonl"
    assert main(["export", "--repo", str(tmp_path), "--format", "jsonl", "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2 and {line["labels"]["verdict"] for line in lines} == {
        "propose",
        "reject",
    }
    assert all(line["completion"].startswith("diff --git") for line in lines)
