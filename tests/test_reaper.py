"""Nothing outlives a killed run (issue: hardening, item 10): what a run killed with SIGKILL left
(worktrees, copies, service processes, Docker objects) is removed by the next run's reaper."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from mutbot import reaper
from testing.repos import git
from testing.snoop import write_snoop_repo


def owned_by(pid: int) -> list[Path]:
    """The temporary folders whose owner file names this pid."""
    found = []
    for folder in Path("/tmp").glob("mutbot-*"):
        try:
            record = json.loads((folder / reaper.OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        owner = reaper.Owner.parse(record["owner"])
        if owner is not None and owner.pid == pid:
            found.append(folder)
    return found


def wait_for(what: str, check: Callable[[], Any], process: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = Path(str(process.args[-1])) / "run.log"  # type: ignore[index]
            pytest.fail(f"the run ended before {what}: {log.read_text()[-2000:]}")
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"never saw {what}")


def start_run(repo: Path, out: Path, backend: str) -> subprocess.Popen[bytes]:
    """`mutbot run` in its own process; its output goes to out/run.log."""
    out.mkdir()
    with (out / "run.log").open("wb") as log:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "mutbot", "run", "--backend", backend),
                *("--repo", str(repo), "--mutations", str(repo / "candidates.json")),
                *("--out", str(out)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def service_processes(run: subprocess.Popen[bytes]) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(run.pid).children(recursive=True):
        try:
            if process.cmdline()[-1:] == ["server.py"]:
                found.append(process)
        except psutil.Error:  # gone, or a zombie (the tests just ended)
            continue
    return found


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def worktrees(repo: Path) -> int:
    return git(repo, "worktree", "list").count("\n")


@pytest.mark.slow
def test_a_local_run_killed_with_sigkill_is_reaped(tmp_path: Path) -> None:
    # the service forks (as many do): the shell dies with mutbot, its child must be reaped
    repo = write_snoop_repo(
        tmp_path / "repo", command="sh -c 'python server.py & wait'", duration="120s"
    )
    run = start_run(repo, tmp_path / "out", "local")
    try:
        [service] = wait_for("the service", lambda: service_processes(run), run)
        folders = owned_by(run.pid)
        assert {f.name.rsplit("-", 1)[0] for f in folders} == {
            "mutbot-wt",
            "mutbot-copy",
            "mutbot-proc",
        }
        assert worktrees(repo) > 1
    finally:
        run.kill()
        run.wait()

    time.sleep(0.5)
    assert alive(service), "nothing left to reap: this test would prove nothing"
    assert all(f.exists() for f in folders)

    removed = reaper.reap(with_docker=False)

    assert f"process {service.pid}" in removed
    assert not alive(service)
    assert not any(f.exists() for f in folders)
    assert worktrees(repo) == 1
    assert not list((repo / ".git" / "worktrees").glob("*"))


@pytest.mark.docker
@pytest.mark.slow
def test_a_docker_run_killed_with_sigkill_is_reaped(tmp_path: Path, docker_clean: Any) -> None:
    repo = write_snoop_repo(tmp_path / "repo", duration="120s")
    run = start_run(repo, tmp_path / "out", "docker")

    def mine(kind: str) -> list[Any]:
        objects = getattr(docker_clean, kind).list(
            **({"all": True} if kind == "containers" else {}),
            filters={"label": reaper.OWNER_LABEL},
        )
        owners = [(o.labels if kind != "networks" else o.attrs["Labels"]) for o in objects]
        return [o for o, labels in zip(objects, owners, strict=True) if _pid(labels) == run.pid]

    def measuring() -> bool:  # both images built, a service running on the run's network
        running = [c for c in mine("containers") if c.status == "running"]
        return len(mine("images")) == 2 and bool(mine("networks")) and bool(running)

    try:
        try:
            wait_for("a trial", measuring, run)
            folders = owned_by(run.pid)
            assert folders and worktrees(repo) > 1
        finally:
            run.kill()
            run.wait()
        time.sleep(2)  # the engine finishes what the run had asked of it (a build, say)
        assert mine("images") and mine("containers") and mine("networks"), "nothing to reap"

        reaper.reap(with_docker=True)

        assert mine("containers") == [] and mine("networks") == [] and mine("images") == []
    finally:
        reaper.reap(with_docker=True)  # whatever happened above: leave nothing to later tests
    assert not any(f.exists() for f in folders)
    assert worktrees(repo) == 1
    # docker_clean: no container, network or image of any run is left


def _pid(labels: dict[str, str] | None) -> int | None:
    owner = reaper.Owner.parse((labels or {}).get(reaper.OWNER_LABEL, ""))
    return owner.pid if owner else None


def test_a_live_owner_keeps_its_folder_and_a_reused_pid_does_not(tmp_path: Path) -> None:
    live = reaper.owned_folder("mutbot-test-")
    impostor = reaper.owned_folder("mutbot-test-")
    me = reaper.me()
    # same host and pid, another start time: the pid was reused, the owner is dead
    reused = reaper.Owner(me.host, me.pid, (me.started or 0) - 3600)
    (impostor / reaper.OWNER_FILE).write_text(json.dumps({"owner": reused.label(), "repo": None}))
    try:
        removed = reaper.reap_folders()
        assert str(impostor) in removed and not impostor.exists()
        assert live.exists()
    finally:
        shutil.rmtree(live, ignore_errors=True)
        shutil.rmtree(impostor, ignore_errors=True)


def test_owners_of_other_hosts_and_unreadable_folders_are_left_alone(tmp_path: Path) -> None:
    other = reaper.owned_folder("mutbot-test-")
    stranger = Path(os.path.join("/tmp", "mutbot-test-no-owner-file"))
    stranger.mkdir(exist_ok=True)
    (other / reaper.OWNER_FILE).write_text(json.dumps({"owner": "elsewhere:1:1.00"}))
    try:
        removed = reaper.reap_folders()
        assert other.exists() and stranger.exists()
        assert str(other) not in removed
        assert reaper.Owner.parse("host:12") == reaper.Owner("host", 12, None)  # older labels
        assert reaper.Owner.parse("nonsense") is None
    finally:
        shutil.rmtree(other, ignore_errors=True)
        shutil.rmtree(stranger, ignore_errors=True)


def test_a_group_whose_leader_is_gone_loses_only_the_marked_members() -> None:
    folder = reaper.owned_folder("mutbot-proc-")
    record = json.loads((folder / reaper.OWNER_FILE).read_text())
    marked = {**os.environ, reaper.MARKER: folder.name}
    sleepers = [
        subprocess.Popen(["sleep", "60"], start_new_session=True, env=env)
        for env in (marked, dict(os.environ))
    ]
    try:
        for sleeper in sleepers:
            reaper.record_group(folder, sleeper.pid)
            path = folder / f"{reaper.GROUP_PREFIX}{sleeper.pid}.json"
            data = json.loads(path.read_text())
            data["started"] -= 60  # another leader, now gone, once had this group id
            path.write_text(json.dumps(data))
        dead = reaper.Owner.parse(record["owner"])
        assert dead is not None
        record["owner"] = reaper.Owner(dead.host, dead.pid, (dead.started or 0) - 3600).label()
        (folder / reaper.OWNER_FILE).write_text(json.dumps(record))

        removed = reaper.reap_folders()

        assert f"process {sleepers[0].pid}" in removed
        assert not psutil.pid_exists(sleepers[0].pid)  # killed, and waited for by the reaper
        assert sleepers[1].poll() is None, "an unmarked group that reuses the id is not ours"
        assert not folder.exists()
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()
        shutil.rmtree(folder, ignore_errors=True)
