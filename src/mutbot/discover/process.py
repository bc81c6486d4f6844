"""A command's surroundings and what reading it gives (pure): the environment, how image paths
map to repository files, and the helpers every server reader shares (options, addresses, `$VAR`
expansion)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from mutbot.discover.model import Guess, Repo, Source
from mutbot.discover.serverfiles import Bound, address

_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")

Env = Mapping[str, tuple[str, Source | None]]


@dataclass(frozen=True)
class Process:
    """Where a command runs: the image's environment (and the sandbox's), how a path in the
    image maps to a repository file, and the image's CMD (an entrypoint's `exec "$@"`)."""

    repo: Repo
    env: Env
    locate: Callable[[str], str | None]
    cmd: tuple[list[str], Source] | None = None
    context: str = "."

    def with_env(self, env: Env) -> Process:
        return Process(self.repo, env, self.locate, self.cmd, self.context)


@dataclass(frozen=True)
class Launch:
    """The command line that starts the server: its words as the shell passes them, where
    they are written, and the environment the server sees."""

    program: str  # "gunicorn", "node", "./server"
    argv: tuple[str, ...]
    source: Source
    env: Env


@dataclass(frozen=True)
class Listen:
    server: str
    port: Guess[int] | None
    doubt: str | None = None  # bound to the loopback, a socket, ...
    read: tuple[str, ...] = field(default=())  # scripts and settings files followed on the way
    launch: Launch | None = None

    def also_read(self, read: tuple[str, ...]) -> Listen:
        return replace(self, read=read + self.read)


def expand(word: str, env: Env) -> tuple[str | None, list[str]]:
    """`word` with `$VAR`, `${VAR}` and `${VAR:-default}` replaced (None when a variable has
    neither a value nor a default), and the variables that had a value."""
    used: list[str] = []
    missing = False

    def one(found: re.Match[str]) -> str:
        nonlocal missing
        name = found[1] or found[3]
        if name in env:
            used.append(name)
            return env[name][0]
        if found[2] is not None:
            return found[2]
        missing = True
        return ""

    text = _VARIABLE.sub(one, word)
    return (None if missing else text), used


def values(env: Env) -> dict[str, str]:
    return {k: v for k, (v, _) in env.items()}


def split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def options(argv: list[str], *names: str) -> list[str]:
    """Values of the named options: `--bind X`, `--bind=X`, `-b X`, `-bX`."""
    return [value for _, value in flagged(argv, *names)]


def flagged(argv: list[str], *names: str) -> list[tuple[str, str]]:
    """(option as written, value) of the named options."""
    found = []
    for i, word in enumerate(argv):
        for name in names:
            if word == name and i + 1 < len(argv):
                found.append((name, argv[i + 1]))
            elif name.startswith("-") and word.startswith(name + "=") and len(name) > 2:
                found.append((name, word.split("=", 1)[1]))
            elif len(name) == 2 and word.startswith(name) and len(word) > 2 and word[2] != "-":
                found.append((name, word[2:].lstrip("=")))
    return found


def bind(
    server: str, proc: Process, argv: list[str], source: Source, flags: tuple[str, ...],
    port_only: bool = False,
) -> Bound | None:  # fmt: skip
    """Where the first of `flags` found says the server listens."""
    for flag, raw in flagged(argv, *flags):
        text, used = expand(raw, proc.env)
        if text is None:
            continue
        host, port = (None, int(text)) if port_only and text.isdigit() else address(text)
        why = f"{server} {flag} {raw}" + _via(used, proc.env)
        if port is not None or host == "unix":
            return Bound(Guess(port, why, source) if port else None, host)
    return None


def _via(used: list[str], env: Env) -> str:
    if not used:
        return ""
    value, where = env[used[0]]
    return f" with {used[0]}={value}" + (f" from {where}" if where else "")


def listening(server: str, bound: Bound, read: tuple[str, ...] = ()) -> Listen:
    doubt = None
    if bound.host == "unix":
        doubt = f"{server} listens on a socket file, not a TCP port"
    elif bound.local_only:
        doubt = f"{server} binds {bound.host}: nothing outside the container reaches it"
    return Listen(server, bound.port, doubt, read)


def env_port(proc: Process, name: str, server: str) -> Bound | None:
    if name in proc.env and proc.env[name][0].isdigit():
        value, where = proc.env[name]
        return Bound(Guess(int(value), f"{server} reads {name}={value}", where))
    return None


def default(server: str, host: str, port: int, source: Source) -> Bound:
    return Bound(Guess(port, f"{server}'s default port, {server} in {source}"), host)
