"""Decisions on a service shaped like a real one (issue 13): Flask under gunicorn with two sync
workers, its access log on stdout, a slow graceful stop (testing/samples/gunicorn-sync), under
the calibrated open-loop load. A real improvement (the access log off, judged on CPU per
request) is proposed; an identical copy of the baseline is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import ROOT, git, make_repo

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SAMPLE = ROOT / "testing" / "samples" / "gunicorn-sync"
CANDIDATES = ROOT / "testing" / "samples" / "gunicorn-sync-candidates.json"
ACCESS_LOG = "Access log off: drop --access-logfile -"
# The sample's config as init writes it (calibrated open-loop load, windows sized by request
# count), with the fewest pairs alpha 0.01 allows for two confirmed candidates, so the test
# stays within a few minutes.
JUDGE = "\njudge:\n  alpha: 0.01\n  aa_pairs: 3\n  confirm_top: 2\n  pairs: 8\n"
# What the access log costs is CPU: at half the service's capacity (the calibrated load) its
# p95 gain is small (measured -2.9%, CI -11.7%...+0.2%: inconclusive), CPU per request -13.4%.
PRIMARY = ("primary: latency_p95_ms", "primary: cpu_ms_per_request")


def test_the_access_log_change_is_proposed_and_an_identical_copy_is_not(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo", SAMPLE)
    config = project / ".mutbot.yml"
    text = config.read_text()
    assert "\n  users:" not in text and "\njudge:" not in text
    assert PRIMARY[0] in text
    config.write_text(text.replace(*PRIMARY) + JUDGE)
    git(project, "commit", "--quiet", "-am", "test settings")

    result = execute(
        RunOptions(project, CANDIDATES, out=tmp_path / "out", backend="docker"),
        RecordingReporter(),
    )

    by_title = {c.title: c for c in result.candidates}
    access, same = by_title[ACCESS_LOG], next(c for t, c in by_title.items() if t != ACCESS_LOG)
    figures = {
        c.title: (c.verdict, c.reason, c.comparisons.get("cpu_ms_per_request"))
        for c in result.candidates
    }
    assert access.verdict == "propose", figures
    assert same.verdict != "propose", figures
