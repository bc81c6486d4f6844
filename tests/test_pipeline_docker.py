"""A Dockerfile rewrite judged on the image's size, every runtime figure a guardrail (issue 15),
on a sample shaped like a real pipeline (testing/samples/fat-image: its Dockerfile copies the
whole repository, 24 MiB of raw data included, into the image; its config as `mutbot init`
wrote it). Two rewrites, measured in one run against the same baseline:

- "what the service runs" leaves the raw data out: the image is smaller (exact), latency, CPU
  and errors hold, and it is proposed;
- "only the code" leaves out table.json too, which the service reads at start: smaller still,
  but every request then works its answer out, and the latency guardrail rejects it.

The cold build time is a guardrail too (a loose one), so each trial's side is first built
without any cache, and the build times are judged in pairs like every other figure."""

from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest

from mutbot.backends.docker_backend import LABEL
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import ROOT, git, make_repo

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SAMPLE = ROOT / "testing" / "samples" / "fat-image"
CANDIDATES = ROOT / "testing" / "samples" / "fat-image-candidates.json"
RAW_MB = 24
# A fixed open-loop load with short windows keeps the test to about three minutes: 300 requests
# a window, at a tenth of a core. Throughput, CPU per request and errors keep their defaults
# (10%, +0.1 pp). Latency's limits are wider, for what 6 pairs of windows this short resolve
# of a 2-5 ms service on a shared machine: p95 rests on 15 requests a window, p99 on 3 (one run
# here: p95 +6.1%, its 90% bound +31.5%; p99 +9.3%, bound +29.8%). The second rewrite costs
# +143% at p50 and 4x the CPU per request. The build time's limit is loose: it is here to be
# measured, not to decide.
LOAD = "  arrival_rate: 100\n  duration: 3s\n  warmup: 1s\n"
OBJECTIVE = """\
objective:
  primary: image_size_mb
  also: [image_compressed_mb]
  guardrails:
    latency_p50_ms: 0.25
    latency_p95_ms: 0.5
    latency_p99_ms: 1.0
    build_seconds: 1.0
judge:
  alpha: 0.05
  aa_pairs: 2
  confirm_top: 2
  pairs: 6
"""


def test_a_slimmer_image_wins_unless_it_breaks_a_runtime_guardrail(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "repo", SAMPLE)
    raw = project / "data" / "raw" / "survey.bin"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(os.urandom(RAW_MB * 1024**2))  # incompressible: compressed size shrinks too
    config = project / ".mutbot.yml"
    text = config.read_text()
    assert "\nobjective:\n  primary: latency_p95_ms" in text  # as init wrote it
    text = text.replace("locustfile.py # the existing locustfile\n", "locustfile.py\n" + LOAD)
    assert LOAD in text
    config.write_text(text[: text.index("\nobjective:")] + "\n" + OBJECTIVE)
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "raw data; judge the image")

    result = execute(
        RunOptions(project, CANDIDATES, out=tmp_path / "out", backend="docker"),
        RecordingReporter(),
    )

    keep, lean = result.candidates
    figures = {
        c.title: (c.verdict, c.reason, c.build, {n: x.change for n, x in c.comparisons.items()})
        for c in result.candidates
    }
    assert keep.verdict == "propose", figures
    size = keep.comparisons["image_size_mb"]
    base_mb = result.baseline.build.image_size_mb if result.baseline.build else None
    assert base_mb and size.baseline == pytest.approx(base_mb)
    assert size.baseline - size.candidate == pytest.approx(RAW_MB, abs=0.5), figures
    assert size.ci_low == size.ci_high == size.change and size.p_value == 0.0
    compressed = keep.comparisons["image_compressed_mb"]
    assert compressed.baseline - compressed.candidate == pytest.approx(RAW_MB, rel=0.05), figures
    assert compressed.candidate < size.candidate  # the base image's layers compress
    assert keep.judgement is not None
    held = {g.metric: g.status for g in keep.judgement.guardrails}
    assert held["latency_p95_ms"] == "cleared" and held["build_seconds"] == "cleared", held
    # each trial's side was built cold first: paired build times, judged like the rest
    builds = [t.metrics["build_seconds"] for p in keep.pairs for t in (p.baseline, p.candidate)]
    assert len(builds) == 12 and all(0 < s < 120 for s in builds), builds

    assert lean.verdict == "reject" and lean.stage == "guardrail", figures
    assert "latency" in lean.reason, figures
    assert lean.comparisons["image_size_mb"].change < size.change  # smaller still

    client = docker.from_env()
    try:  # the cold builds' images went with the run, like everything else it made
        assert not client.images.list(filters={"label": f"{LABEL}={result.run_id}"})
    finally:
        client.close()
