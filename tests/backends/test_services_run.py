"""A whole run of a service that needs Redis: fresh state in every trial, tests with their own
Redis, and a throwaway secret that is the same in every trial and written nowhere."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import make_repo
from testing.service_apps import write_service_app

CONFIG = """\
version: 1
targets: [config.ini]
sandbox:
  health: /healthz
  memory: 128m
  startup_timeout: 20s
  build: {target: app}
  env: {STORE: redis, FINGERPRINT: SESSION_SECRET}
  throwaway_env: [SESSION_SECRET]
  services:
    cache:
      image: redis:7
      health: {port: 6379, timeout: 20s}
tests:
  command: python store.py
load:
  locustfile: locustfile.py
  users: 2
  spawn_rate: 2
  duration: 1s
  warmup: 0.5s
judge:
  alpha: 0.25
  aa_pairs: 0
  confirm_top: 1
  pairs: 3
"""

LOCUSTFILE = """\
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.01)

    @task
    def health(self) -> None:
        self.client.get("/healthz")
"""

CANDIDATE = {
    "title": "Greet with b",
    "rationale": "a change that builds another image",
    "kind": "incremental",
    "risk": 1,
    "diff": "diff --git a/config.ini b/config.ini\n--- a/config.ini\n+++ b/config.ini\n"
    "@@ -1,2 +1,2 @@\n [app]\n-threads = 1\n+threads = 2\n",
}


def secret_windows(text: str, fingerprint: str, size: int = 32) -> list[str]:
    """Every `size`-character piece of `text` whose hash is the secret's fingerprint."""
    return [
        text[i : i + size]
        for i in range(len(text) - size + 1)
        if hashlib.sha256(text[i : i + size].encode()).hexdigest()[:16] == fingerprint
    ]


@pytest.mark.docker
@pytest.mark.slow
def test_a_run_with_redis_starts_it_fresh_for_every_trial_and_writes_no_secret(
    tmp_path: Path, docker_clean: Any
) -> None:
    source = write_service_app(tmp_path / "source")
    (source / ".mutbot.yml").write_text(CONFIG)
    (source / "locustfile.py").write_text(LOCUSTFILE)
    (source / "config.ini").write_text("[app]\nthreads = 1\n")  # a tuning setting the guard knows
    project = make_repo(tmp_path / "repo", source)
    mutations = tmp_path / "candidates.json"
    mutations.write_text(json.dumps([CANDIDATE]))
    out = tmp_path / "out"

    result = execute(RunOptions(project, mutations, out=out, dry_run=True), RecordingReporter())

    candidate = result.candidates[0]
    assert len(candidate.pairs) == 3, (candidate.stage, candidate.reason)
    assert "services cache on its network (fresh for every trial)" in result.guarantees
    logs = sorted((out / "logs").rglob("*.service.log"))
    assert len(logs) == 6
    texts = [log.read_text() for log in logs]
    assert all(re.search(r"^seen 1$", text, re.M) for text in texts)  # no state crossed
    fingerprints = {re.findall(r"^fingerprint (\w+)$", text, re.M)[0] for text in texts}
    assert len(fingerprints) == 1  # both sides, every trial: one value for the run
    assert len(list((out / "logs").rglob("*.service.cache.log"))) == 6
    for tests_log in (out / "logs").rglob("tests.log"):  # tests ran with their own Redis
        assert tests_log.read_text().strip() == "seen 1"
    fingerprint = fingerprints.pop()
    made_up = "Q" * 31 + "_"
    found = secret_windows(f"KEY={made_up}\n", hashlib.sha256(made_up.encode()).hexdigest()[:16])
    assert found == [made_up]  # the search itself finds a secret where there is one
    for path in out.rglob("*"):
        if path.is_file():
            assert secret_windows(path.read_text(errors="replace"), fingerprint) == [], path
