"""Process edge: keep secrets away from every process mutbot starts.

`harden()` runs first thing in `mutbot`'s main, before any child process or thread exists:

- mutbot's own process becomes non-dumpable, so /proc/<pid>/environ (which shows the
  environment as it was at exec, whatever os.environ says now), /proc/<pid>/mem and ptrace are
  closed to every process of the same user. Root still reads them: that is why the local
  backend runs services as an unprivileged user when mutbot runs as root.
- credentials move from os.environ into memory, so no child (git, the load generator, tests,
  services) inherits them, even by accident. `environment()` is what mutbot's own code reads.

The child-side helpers run in `preexec_fn`, between fork and exec; they call prctl through a
function pointer looked up here, in the parent, so the child only makes system calls.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

from mutbot.secretnames import looks_secret

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3
PR_SET_NO_NEW_PRIVS = 38

_held: dict[str, str] = {}


def _load_prctl() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    function.restype = ctypes.c_int
    return function


_prctl = _load_prctl()


def harden() -> None:
    """Non-dumpable, and the secrets out of os.environ. Call before starting any child."""
    set_dumpable(False)
    take_secrets()


def take_secrets() -> None:
    """Move the credentials in os.environ into memory (replacing what an earlier call held)."""
    _held.clear()
    for name in [n for n in os.environ if looks_secret(n)]:
        _held[name] = os.environ.pop(name)


def environment() -> dict[str, str]:
    """The environment as mutbot's own code sees it: os.environ plus the secrets held."""
    return {**_held, **os.environ}


def held() -> tuple[str, ...]:
    """The names of the secrets taken out of the environment."""
    return tuple(sorted(_held))


def set_dumpable(dumpable: bool) -> None:
    if _prctl is not None:
        _prctl(PR_SET_DUMPABLE, int(dumpable), 0, 0)


def dumpable() -> bool | None:
    """None where the platform cannot tell (not Linux)."""
    if _prctl is None:
        return None
    return bool(_prctl(PR_GET_DUMPABLE, 0, 0, 0))


def confine_child(parent: int) -> None:
    """In a child, before exec: never gain privileges (setuid programs such as sudo do not
    elevate), and die with the parent (a first line of defence; the reaper is the guarantee)."""
    if _prctl is None:
        return
    _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGKILL)
