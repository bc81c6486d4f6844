"""Reaper edge: removes what runs killed too hard to clean up (SIGKILL, power loss) left here.

Everything a run makes names its owner as host:pid:start-time, so a reused pid does not keep a
dead run's leftovers alive: Docker containers, networks and images carry it as a label; the
run's temporary folders (worktrees, the copies services run in, the local backend's process
records) carry it in an owner file. Every run reaps the leftovers of dead runs when it starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import psutil

OWNER_LABEL = "mutbot.owner"
OWNER_FILE = ".mutbot-owner.json"
FOLDER_PREFIX = "mutbot-"
GROUP_PREFIX = "group-"
MARKER = "MUTBOT_SANDBOX"  # in the environment of every process the local backend starts
CLOCK_SLACK = 1.0  # seconds: start times are read from /proc/stat's boot time, which can drift


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: float | None  # None: an owner written before start times were recorded

    def label(self) -> str:
        return f"{self.host}:{self.pid}" + ("" if self.started is None else f":{self.started:.2f}")

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        host, _, rest = text.partition(":")
        pid, _, started = rest.partition(":")
        if not host or not pid.isdigit():
            return None
        try:
            return cls(host, int(pid), float(started) if started else None)
        except ValueError:
            return None

    def dead(self) -> bool:
        """True only when sure: this host, and no such process (or another one on its pid)."""
        if self.host != os.uname().nodename:
            return False
        return not _running(self.pid, self.started)


def me() -> Owner:
    return Owner(os.uname().nodename, os.getpid(), psutil.Process().create_time())


def _running(pid: int, started: float | None) -> bool:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(process.create_time() - started) <= CLOCK_SLACK
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # cannot tell: never reap what might be alive


def owned_folder(prefix: str, repo: Path | None = None, mode: int = 0o700) -> Path:
    """A fresh temporary folder that names this process as its owner (and the repository whose
    worktrees it holds, for `git worktree prune`)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    record = {"owner": me().label(), "repo": str(repo) if repo else None}
    path = folder / OWNER_FILE
    path.write_text(json.dumps(record), encoding="utf-8")
    path.chmod(0o600)
    folder.chmod(mode)
    return folder


def record_group(folder: Path, pid: int) -> None:
    """Note a process group started in its own session (pgid == pid) with `MARKER` set to the
    folder's name in its environment, and its leader's start time."""
    with contextlib.suppress(psutil.NoSuchProcess):
        started = psutil.Process(pid).create_time()
        (folder / f"{GROUP_PREFIX}{pid}.json").write_text(
            json.dumps({"pgid": pid, "started": started}), encoding="utf-8"
        )


def forget_group(folder: Path, pid: int) -> None:
    (folder / f"{GROUP_PREFIX}{pid}.json").unlink(missing_ok=True)


def reap(with_docker: bool) -> list[str]:
    """Everything of dead runs on this host; returns what it removed, for the log."""
    removed = reap_folders()
    if with_docker:
        import docker  # only where Docker is used
        import requests.exceptions

        # best effort: an engine that stops answering here fails the run at its first build
        with contextlib.suppress(
            docker.errors.DockerException, requests.exceptions.RequestException
        ):
            removed += reap_docker(docker.from_env(timeout=60))
    return removed


def reap_folders(root: Path | None = None) -> list[str]:
    removed = []
    for folder in sorted((root or Path(tempfile.gettempdir())).glob(f"{FOLDER_PREFIX}*")):
        try:
            record = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
            owner = Owner.parse(str(record["owner"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or not ours to judge
        if owner is None or not owner.dead():
            continue
        for path in folder.glob(f"{GROUP_PREFIX}*.json"):
            removed += _kill_group(path)
        shutil.rmtree(folder, ignore_errors=True)
        if record.get("repo"):  # forget the worktrees the folder held
            with contextlib.suppress(git.GitCommandError, OSError):
                git.Git().execute(["git", f"--git-dir={record['repo']}", "worktree", "prune"])
        removed.append(str(folder))
    return removed


def _kill_group(path: Path) -> list[str]:
    """SIGKILL to what is left of a recorded group: all of it while its leader is the same
    process; once the leader is gone, the members that carry the group's marker (its id may
    have been reused by an unrelated group since)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pgid, started = int(data["pgid"]), float(data["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
    ours = _running(pgid, started)
    members = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) != pgid or process.create_time() < started - CLOCK_SLACK:
                continue
            if ours or process.environ().get(MARKER) == path.parent.name:
                members.append(process)
    for process in members:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGKILL)
    psutil.wait_procs(members, timeout=2)
    return [f"process {p.pid}" for p in members]


def reap_docker(client: Any) -> list[str]:
    """Containers first, then networks and images (an image in use cannot be removed)."""
    import docker.errors  # only where Docker is used

    selector = {"label": OWNER_LABEL}
    removed = []
    for container in client.containers.list(all=True, filters=selector):
        if _dead(container.labels):
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
                removed.append(str(container.name))
    for network in client.networks.list(filters=selector):
        if _dead(network.attrs.get("Labels")):
            with contextlib.suppress(docker.errors.APIError):
                network.remove()
                removed.append(str(network.name))
    for image in client.images.list(filters=selector):
        if _dead(image.labels):
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(image.id, force=True)
                removed.append(f"image {(image.tags or [image.short_id])[0]}")
    return removed


def _dead(labels: dict[str, str] | None) -> bool:
    owner = Owner.parse(str((labels or {}).get(OWNER_LABEL, "")))
    return owner is not None and owner.dead()
