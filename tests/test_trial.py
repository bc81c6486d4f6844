from __future__ import annotations

import re
from pathlib import Path

import pytest

from mutbot.errors import TrialInvalid
from mutbot.load import LoadRun
from mutbot.metrics import RawLoad
from mutbot.pipeline import RunOptions
from mutbot.run import execute
from mutbot.trial import check_valid
from testing.reporters import RecordingReporter
from testing.repos import QUICK_LOAD, edit_config, git, make_repo, write_candidates


def load_run(cpu: float, sent: int, scheduled: int | None) -> LoadRun:
    requests = [(10.0 + i * 0.01, 5.0, True) for i in range(sent)]
    return LoadRun(
        raw=RawLoad(10.0, 20.0, requests),
        loadgen_cpu_fraction=cpu,
        errors={},
        scheduled_in_window=scheduled,
    )


def test_a_saturated_load_generator_or_a_missed_arrival_rate_invalidates_a_trial() -> None:
    check_valid(load_run(0.5, 100, None))
    check_valid(load_run(0.9, 97, 100))
    with pytest.raises(TrialInvalid, match=r"load generator saturated \(93% CPU\)"):
        check_valid(load_run(0.93, 100, None))
    with pytest.raises(TrialInvalid, match="achieved 96% of the target arrival rate"):
        check_valid(load_run(0.5, 96, 100))


BUSY_TASK = """

    @task(50)
    def burn(self) -> None:  # keeps the load generator itself busy
        end = time.perf_counter() + 0.2
        while time.perf_counter() < end:
            pass
"""


@pytest.mark.slow
def test_invalid_pairs_are_measured_again_then_the_candidate_is_rejected(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo")
    locustfile = project / "loadtest" / "locustfile.py"
    locustfile.write_text("import time\n" + locustfile.read_text() + BUSY_TASK)
    git(project, "commit", "-qam", "a load generator that saturates its own core")
    rerun_once = {"judge:\n": "judge:\n  max_reruns: 1\n", "users: 20": "users: 4"}
    edit_config(project, {**QUICK_LOAD, **rerun_once})
    mutations = write_candidates(tmp_path / "c.json", ["Serve requests from 8 worker threads"])
    result = execute(
        RunOptions(project, mutations, out=tmp_path / "out", backend="local"), RecordingReporter()
    )
    cand = result.candidates[0]
    assert (cand.verdict, cand.stage) == ("reject", "load")
    # Which pair gives up depends on how busy the machine is; that one pair failed twice does not.
    found = re.match(
        r"confirm pair (\d+) invalid 2 times: load generator saturated \(", cand.reason
    )
    assert found, cand.reason
    pair = int(found.group(1)) - 1
    assert [t.pair for t in cand.invalid_trials][-2:] == [pair, pair]
    assert all(t.reason.startswith("load generator saturated") for t in cand.invalid_trials)
