"""The propose step: detection, the proposer, its failure and the search fallback, without
a sandbox (`mutbot propose`), against real git repos and an in-process Messages API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutbot.candidates import load_candidates
from mutbot.cli import main
from mutbot.results import BaselineResult
from mutbot.run.options import RunOptions
from mutbot.run.propose import last_baseline, measured_baseline, propose_only
from testing.fake_anthropic import overloaded, serve_anthropic
from testing.records import pairs, run
from testing.repos import edit_config, make_repo

KEY = "sk-ant-test-SECRET-proposing-0042"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_search_proposes_from_the_committed_files(project: Path) -> None:
    notes: list[str] = []
    (project / "config" / "server.ini").write_text("[server]\nthreads = 64\n")  # not committed
    record, proposal = propose_only(RunOptions(project, proposer="search"), notes.append)

    assert record.proposer == record.requested == "search"
    assert record.failure is None and record.usage is None
    assert record.baseline_source is None
    assert [(o.category, o.path, o.line) for o in record.opportunities] == [
        ("single-worker", "config/server.ini", 3),
        ("cache-disabled", "config/server.ini", 5),
        ("verbose-logging", "config/server.ini", 7),
        ("root-user", "Dockerfile", 1),
    ]
    assert proposal.candidates[0].title == "Raise server.threads from 1 to 4"
    assert record.candidates == len(proposal.candidates) <= 8
    assert "no earlier results.json under .mutbot/runs: proposing without baseline figures" in notes
    assert any(n.startswith("opportunity: single-worker at config/server.ini:3:") for n in notes)


def test_an_llm_outage_is_recorded_and_search_takes_over(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".mutbot.yml").write_text(
        (project / ".mutbot.yml").read_text() + "llm: {max_retries: 1}\n"
    )
    edit_config(project, {})  # commit
    with serve_anthropic(overloaded(), overloaded(), api_key=KEY) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        notes: list[str] = []
        record, proposal = propose_only(RunOptions(project), notes.append)

    assert len(fake.messages()) == 2  # the first try and one retry, then no more
    assert record.requested == "anthropic" and record.proposer == "search"
    assert record.failure is not None
    assert record.failure.startswith("anthropic proposer failed: Anthropic API request failed:")
    assert "529" in record.failure and "overloaded" in record.failure
    assert proposal.candidates, "the search proposer still proposed"
    out = capsys.readouterr()
    for text in (record.model_dump_json(), "\n".join(notes), out.out, out.err):
        assert KEY not in text


def test_propose_command_writes_a_candidates_file_run_can_read(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "candidates.json"
    assert main(["propose", "--repo", str(project), "--out", str(out), "--count", "3"]) == 0
    listed = load_candidates(out)
    assert [c.title for c in listed] == [
        "Raise server.threads from 1 to 4",
        "Raise server.cache_size from 0 to 1024",
        "All 3 fixes together",
    ]
    assert json.loads(out.read_text())[0]["category"] == "single-worker"
    printed = capsys.readouterr().out
    assert f"3 candidates in {out}; measure them with `mutbot run --proposer file:{out}`" in printed


def test_anthropic_without_a_key_exits_with_the_proposer_code(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    args = ["propose", "--repo", str(project), "--out", str(tmp_path / "c.json")]
    assert main([*args, "--proposer", "anthropic"]) == 8
    assert "needs an API key in ANTHROPIC_API_KEY" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main([*args, "--proposer", "gpt"])
    assert usage.value.code == 2
    assert "unknown proposer 'gpt'" in capsys.readouterr().err


def test_baseline_figures_come_from_the_a_a_trials_or_the_newest_results(project: Path) -> None:
    measured = measured_baseline(pairs(1.0, n=3))
    assert measured.source == "measured in this run (6 baseline trials)"
    assert measured.metrics["latency_p95_ms"] > 0

    assert last_baseline(project) is None
    runs = project / ".mutbot" / "runs"
    for run_id, p95 in (("20260101T000000Z-aaaaaa", 100.0), ("20260102T000000Z-bbbbbb", 90.0)):
        record = run([], []).model_copy(
            update={
                "run_id": run_id,
                "baseline": BaselineResult(stages=[], build=None, summary={"latency_p95_ms": p95}),
            }
        )
        (runs / run_id).mkdir(parents=True)
        (runs / run_id / "results.json").write_text(record.model_dump_json())
    (runs / "20260103T000000Z-cccccc").mkdir()
    (runs / "20260103T000000Z-cccccc" / "results.json").write_text("{not json")  # skipped
    (runs / "20260104T000000Z-dddddd").mkdir()
    (runs / "20260104T000000Z-dddddd" / "results.json").write_bytes(b"\xff\xfe{")  # not UTF-8
    found = last_baseline(project)
    assert found is not None
    assert found.metrics == {"latency_p95_ms": 90.0}
    assert found.source == "run 20260102T000000Z-bbbbbb (commit 0123456)"
