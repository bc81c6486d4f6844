"""`mutbot doctor`'s probes (edge): what a service that failed its start looks like from outside
— how likely health paths answer, which TCP ports it listens on, why it stopped, its last log
lines. Every probe answers what it can and never raises."""

from __future__ import annotations

import contextlib
import http.client
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mutbot.backends.base import Instance
from mutbot.diagnose import Socket, listening

ANSWER_TIMEOUT = 2.0  # seconds per probe
LOG_LINES = 15
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # terminal colours say nothing; other escapes show


def answers(url: str, paths: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each path's answer: its HTTP status, or what went wrong ("refused", "timeout", ...)."""
    found: list[tuple[str, str]] = []
    for path in dict.fromkeys(paths):  # in order, once each
        found.append((path, _answer(url + path)))
    return tuple(found)


def _answer(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=ANSWER_TIMEOUT) as response:
            return str(response.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except urllib.error.URLError as exc:
        return _why(exc.reason)
    except (OSError, http.client.HTTPException) as exc:
        return _why(exc)


def _why(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "refused"
    if isinstance(reason, TimeoutError):
        return "timeout"
    if isinstance(reason, ConnectionResetError | http.client.RemoteDisconnected):
        return "connection closed without an answer"
    return type(reason).__name__


def stopped(instance: Instance) -> tuple[int | None, bool]:
    """(exit code, killed for memory) once the instance itself stopped; (None, False) while it
    runs (or when only a service it needs stopped)."""
    try:
        failure = instance.failure() or ""
    except Exception:  # the engine went away: say nothing rather than something wrong
        return None, False
    if failure.startswith("killed for memory"):
        return None, True
    # "crashed: exit code 3"; not "service db exited (exit code 1)", a dependency's
    code = re.match(r"crashed: exit code (-?\d+)", failure)
    return (int(code[1]) if code else None), False


def sockets(instance: Instance) -> tuple[Socket, ...] | None:
    """The TCP sockets the instance's container listens on: read inside it (`cat /proc/net/tcp`)
    or, when the image has no `cat` (distroless, scratch), from the host's /proc of its main
    process. None when neither works (another backend, a remote engine, an exited container)."""
    container = getattr(instance, "container", None)
    if container is None:
        return None
    text = _inside(container)
    if text is None:
        text = _from_host(container)
    return None if text is None else listening(text)


def _inside(container: Any) -> str | None:
    try:
        code, output = container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"])
    except Exception:  # docker.errors.APIError: not running; exec refused
        return None
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else ""
    # tcp6 is absent when IPv6 is off: cat exits 1 yet prints tcp
    return text if "local_address" in text and code in (0, 1) else None


def _from_host(container: Any) -> str | None:
    """/proc/<pid>/net shows the network namespace of that process: the container's, when this
    host runs the engine. The pid is checked to be the container's (its cgroup names the id),
    so a remote engine or another pid namespace never gives a stranger's sockets."""
    try:
        container.reload()
        pid = int(container.attrs["State"]["Pid"])
        if pid <= 0:
            return None
        proc = Path("/proc") / str(pid)
        if container.id not in (proc / "cgroup").read_text(encoding="utf-8"):
            return None
        parts = []
        for name in ("tcp", "tcp6"):
            with contextlib.suppress(OSError):
                parts.append((proc / "net" / name).read_text(encoding="utf-8"))
        return "\n".join(parts) if parts else None
    except Exception:  # docker errors, no such process, no permission
        return None


def tail(path: Path, lines: int = LOG_LINES) -> tuple[str, ...]:
    """The last non-empty lines of a log file without colour codes, each cut to 300
    characters."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ()
    rows = [row.rstrip()[:300] for row in _COLOUR.sub("", text).splitlines() if row.strip()]
    return tuple(rows[-lines:])
