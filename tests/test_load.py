from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mutbot.calibrate import fixed_plan
from mutbot.config import Load
from mutbot.errors import LoadError
from mutbot.load import drive, runner_path


def test_the_orchestrator_never_imports_locust_or_gevent() -> None:
    """Locust monkey-patches the whole process with gevent; it must stay in its own process."""
    code = (
        "import sys, mutbot.cli, mutbot.run, mutbot.load, mutbot.backends; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_runner_ships_with_the_package() -> None:
    assert runner_path().is_file()


def test_a_broken_locustfile_is_a_load_error_with_its_reason(tmp_path: Path) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text("from locust import HttpUser\n")  # no concrete user class
    load = fixed_plan(Load(locustfile="locustfile.py", users=1, duration=1, warmup=0), "")
    assert load is not None
    with pytest.raises(LoadError) as info:
        drive(
            "http://127.0.0.1:9",
            locustfile,
            load,
            tmp_path / "out.json",
            tmp_path / "locust.log",
            None,
        )
    assert str(info.value) == (
        "the load generator failed (exit code 2): locust_runner: no concrete User classes "
        f"with tasks in {locustfile}"
    )
