"""A candidate's own limits on the local backend: its memory watchdog holds the candidate's
memory limit as it holds the config's; a CPU limit has nothing to enforce it, so the backend
refuses to measure one."""

from __future__ import annotations

import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from mutbot.backends.base import CorePlan, Limits
from mutbot.backends.local_backend import LocalBackend
from mutbot.config_sandbox import Sandbox
from mutbot.trial import wait_healthy
from testing.services import write_service

MIB = 1024**2


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A folder the unprivileged user can reach (when the tests run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="test-local-limits-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def make() -> LocalBackend:
    sandbox = Sandbox.model_validate({"local_command": "python server.py", "memory": "1g"})
    return LocalBackend(sandbox, "t-local-limits", CorePlan(None, None))


def test_a_cpu_limit_of_its_own_cannot_be_measured_here() -> None:
    backend = make()
    try:
        assert backend.refuses(Limits(1.0, 96 * MIB)) is None  # memory: the watchdog's
        assert backend.refuses(Limits(0.5, 1024 * MIB)) == (
            "the local backend has no CPU quota: a CPU limit of 0.5 cannot be measured here; "
            "measure with --backend docker"
        )
    finally:
        backend.close()


def test_the_watchdog_holds_the_candidates_own_memory_limit(
    tmp_path: Path, reachable: Path
) -> None:
    backend = make()
    project = write_service(reachable / "svc")
    try:
        built = backend.build(project, "x", tmp_path / "b.log")
        instance = backend.start(replace(built, limits=Limits(1.0, 96 * MIB)), tmp_path / "s.log")
        wait_healthy(instance, "/", 10)
        with pytest.raises(OSError):
            urllib.request.urlopen(instance.url + "/hog", timeout=10).read()
        deadline = time.monotonic() + 5
        while instance.failure() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert instance.failure() == "killed for memory (limit 96m)"  # not the config's 1g
    finally:
        backend.close()
