"""The production-like example, examples/notes, end to end: a candidate measured against the
baseline with a PostgreSQL service fresh for every trial, so no data written by one trial's
load is there when the next trial starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import ROOT, edit_config, git, make_repo

pytestmark = [pytest.mark.docker, pytest.mark.slow]

NOTES = ROOT / "examples" / "notes"
REUSE = "Reuse database connections for 60 s"
# three pairs of short trials; alpha 0.4 is the least the judge accepts for three pairs
QUICK = {
    "duration: 3s": "duration: 2s",
    "warmup: 1s": "warmup: 0.5s",
    "aa_pairs: 3": "aa_pairs: 0",
    "confirm_top: 2": "confirm_top: 1",
    "  pairs: 8": "  pairs: 3",
    "alpha: 0.01": "alpha: 0.4",
}
FRESH = "migrate: applied 2 (0001_create_notes, 0002_note_tags); 0 already; notes: 0"


def test_a_candidate_runs_end_to_end_and_every_trial_starts_on_an_empty_database(
    tmp_path: Path,
) -> None:
    project = make_repo(tmp_path / "repo", NOTES)
    edit_config(project, QUICK)
    listed = json.loads((NOTES / "candidates.json").read_text())
    mutations = tmp_path / "one.json"
    mutations.write_text(json.dumps([c for c in listed if c["title"] == REUSE]))
    out = tmp_path / "out"

    result = execute(RunOptions(project, mutations, out=out), RecordingReporter())

    (candidate,) = result.candidates
    assert all(stage.ok for stage in candidate.stages), candidate.reason
    assert len(candidate.pairs) == 3  # measured, whatever the verdict
    logs = sorted((out / "logs").rglob("*.service.log"))
    assert len(logs) == 6  # both sides of three pairs
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert FRESH in text, log.name  # the database every trial starts on is empty ...
        assert '"POST /notes HTTP/1.1" 201' in text, log.name  # ... though each trial writes
    databases = sorted((out / "logs").rglob("*.service.db.log"))
    assert len(databases) == 6  # a Postgres of its own for every trial, its log kept
    assert git(project, "status", "--porcelain") == ""
