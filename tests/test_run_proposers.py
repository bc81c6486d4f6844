"""A whole run whose candidates come from a proposer: the A/A trials feed the proposer, the
detectors' findings and the proposal land in results.json, the best candidate is proposed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import QUICK_LOAD, edit_config, make_repo


@pytest.mark.slow
def test_search_proposer_run_on_the_local_backend(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    edit_config(project, QUICK_LOAD)
    edit_config(project, {"aa_pairs: 0 ": "aa_pairs: 1 ", "screen_pairs: 3": "screen_pairs: 2"})
    reporter = RecordingReporter()
    options = RunOptions(project, out=tmp_path / "out", backend="local", proposer="search", count=3)

    result = execute(options, reporter)

    record = result.proposal
    assert record is not None
    assert (record.proposer, record.requested, record.failure) == ("search", "search", None)
    assert record.baseline_source == "measured in this run (2 baseline trials)"
    assert {o.category for o in record.opportunities} >= {"single-worker", "cache-disabled"}
    assert [c.title for c in result.candidates] == [
        "Raise server.threads from 1 to 4",
        "Raise server.cache_size from 0 to 1024",
        "All 3 fixes together",
    ]
    assert [c.category for c in result.candidates][:2] == ["single-worker", "cache-disabled"]
    assert result.noise is not None and len(result.noise.pairs) == 1
    assert result.ranking, "the combined fix cuts p95 latency by far more than the noise"
    best = next(c for c in result.candidates if c.slug == result.ranking[0])
    assert best.comparisons["latency_p95_ms"].change < -0.3
    pr = (tmp_path / "out" / f"pr-{best.slug}.md").read_text()
    assert "proposed by search" in pr
    assert any("opportunity: single-worker at config/server.ini:3" in n for n in reporter.notes)
