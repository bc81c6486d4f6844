"""No secret reaches a process mutbot starts: not through the environment of any process it can
read, nor through a git config its folder leads to (issue: hardening, item 2)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mutbot import hardening, proposers
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from testing.reporters import RecordingReporter
from testing.repos import git
from testing.snoop import DOCKERFILE, reports, write_snoop_repo

TOKEN = "ghs_checkoutTokenThatMustNeverLeak0123456789"
KEY = "sk-ant-apiKeyThatMustNeverLeak0123456789"
RUNTIME = "actionsRuntimeTokenThatMustNeverLeak"
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.slow
def test_a_local_service_and_its_tests_find_no_secret(tmp_path: Path) -> None:
    """As the Action runs it: the tokens in mutbot's environment, the checkout's token in
    .git/config (actions/checkout's extraheader). The service and the tests scan every
    /proc/*/environ they can read and every git config their folder leads to."""
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    repo = write_snoop_repo(tmp_path / "repo", extraheader=f"AUTHORIZATION: basic {basic}")
    out = tmp_path / "out"
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "ANTHROPIC_API_KEY": KEY}
    env["ACTIONS_RUNTIME_TOKEN"] = RUNTIME
    args = ["--repo", str(repo), "--mutations", str(repo / "candidates.json"), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "mutbot", "run", *args, "--backend", "local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr

    found = reports(out / "logs")
    sources = {str(r["log"]) for r in found}
    assert "tests.log" in sources, sources
    assert any(s.endswith(".service.log") for s in sources), sources  # a service answered
    for report in found:
        assert report["environs"], "the scan read no environment at all, not even its own"
        assert report["dot_git"] == [], report["cwd"]
        assert "extraheader" not in str(report["git_config"]).lower()
        if os.geteuid() == 0:  # root children could read any /proc/*/environ
            assert report["uid"] == 65534
    text = json.dumps(found)
    for secret in (TOKEN, basic, KEY, RUNTIME):
        assert secret not in text


@pytest.mark.docker
@pytest.mark.slow
def test_the_docker_build_context_has_no_git(tmp_path: Path, docker_clean: Any) -> None:
    """A worktree's `.git` file leads to the repository's config, and its token."""
    repo = write_snoop_repo(tmp_path / "repo", extraheader=f"AUTHORIZATION: basic {TOKEN}")
    (repo / "Dockerfile").write_text(DOCKERFILE + "RUN test ! -e .git && test -e server.py\n")
    git(repo, "commit", "--quiet", "-am", "check the context")
    result = execute(
        RunOptions(repo, repo / "candidates.json", out=tmp_path / "out", backend="docker"),
        RecordingReporter(),
    )
    [candidate] = result.candidates
    assert [s.name for s in candidate.stages if s.ok][:4] == ["policy", "apply", "build", "tests"]
    assert "tracked files only (no .git)" in result.guarantees


def test_secrets_leave_the_environment_but_mutbot_still_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("SOME_SERVICE_PASSWORD", "hunter2")
    monkeypatch.setenv("MUTBOT_PROPOSER", "search")
    try:
        hardening.take_secrets()
        assert {"ANTHROPIC_API_KEY", "GITHUB_TOKEN", "SOME_SERVICE_PASSWORD"} & set(os.environ) == (
            set()
        )
        assert os.environ["MUTBOT_PROPOSER"] == "search"  # not a secret: stays
        child = subprocess.run(["env"], capture_output=True, text=True, check=True).stdout
        assert TOKEN not in child and KEY not in child and "hunter2" not in child
        assert hardening.environment()["GITHUB_TOKEN"] == TOKEN
        assert proposers.choose(None) == "anthropic"  # the key is still there for mutbot
        assert hardening.held() == ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "SOME_SERVICE_PASSWORD")
    finally:
        hardening.take_secrets()  # hold nothing from this test
    assert proposers.choose(None) == "search"


def test_the_cli_makes_mutbot_non_dumpable() -> None:
    code = (  # --version exits through argparse, after harden()
        "from mutbot import cli, hardening\n"
        "try:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(hardening.dumpable())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr


def _unprivileged_python() -> str:
    found = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if os.geteuid() != 0:
        return sys.executable
    if found is None or not os.access(SRC / "mutbot" / "hardening.py", os.R_OK):
        pytest.skip("no interpreter the unprivileged user can run")
    return found


@pytest.mark.parametrize("harden", [False, True])
def test_a_child_of_the_same_user_cannot_read_a_hardened_mutbots_environment(
    harden: bool,
) -> None:
    """Without root, non-dumpable is what closes /proc/<mutbot>/environ, which still shows the
    environment as it was at exec, whatever os.environ says now."""
    code = f"""
import os, subprocess, sys
sys.path.insert(0, {str(SRC)!r})
from mutbot import hardening
if {harden}:
    hardening.harden()
probe = "open('/proc/%d/environ', 'rb').read()" % os.getpid()
child = subprocess.run([sys.executable, "-c", probe], capture_output=True)
print("read" if child.returncode == 0 else "denied", "GITHUB_TOKEN" in os.environ)
"""
    nobody = 65534 if os.geteuid() == 0 else None
    done = subprocess.run(
        [_unprivileged_python(), "-c", code],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "GITHUB_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        cwd="/",
        user=nobody,
        group=nobody,
        extra_groups=[] if nobody else None,
    )
    assert done.stdout.split() == (["denied", "False"] if harden else ["read", "True"]), done.stderr
