"""Which server a container's command starts and where it listens (pure). The command is read
through what wraps it (`exec`, `tini --`, `gosu user`, `sh -c`, `python -m`, `poetry run`,
`npm start`, entrypoint scripts and their `exec "$@"`) down to a server `servers` knows."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import replace

from mutbot.discover import serverfiles
from mutbot.discover.model import Guess, Repo, Source
from mutbot.discover.process import Launch, Listen, Process, expand, listening, values
from mutbot.discover.serverfiles import Bound, address
from mutbot.discover.servers import SERVERS, generic
from mutbot.shellwords import simple_commands

_WRAPPERS = {"exec", "nohup", "env", "sudo", "time", "dumb-init", "tini", "--"}
_WITH_USER = {"gosu", "su-exec", "chpst", "setpriv"}
_SHELLS = {"sh", "bash", "dash", "ash", "zsh"}
_ASSIGN = re.compile(r"(?:export\s+)?([A-Za-z_]\w*)=(\S*)\s*$")
_NOT_SERVERS = {
    "set", "echo", "cd", "mkdir", "rm", "cp", "mv", "chown", "chmod", "sleep", "test", "[", "if",
    "then", "fi", "until", "while", "do", "done", "export", "printf", "trap", "wait", "true",
    "false", "source", ".", "shift", "cat", "ls", "nc", "curl", "wget",
}  # fmt: skip
MAX_DEPTH = 6


def listen(proc: Process, argv: list[str], source: Source, depth: int = 0) -> Listen | None:
    """The server `argv` starts and where it listens; None when it starts none mutbot knows."""
    argv = _unwrap(argv)
    if not argv or depth > MAX_DEPTH:
        return None
    program = posixpath.basename(argv[0])
    if program in _SHELLS:
        if "-c" in argv[1:-1]:
            return script_text(proc, argv[argv.index("-c") + 1], source, depth)
        script = next((a for a in argv[1:] if not a.startswith("-")), None)
        return _script(proc, script, depth) if script else None
    if re.fullmatch(r"python[\d.]*", program):
        return _python(proc, argv, source, depth)
    if program in ("poetry", "pipenv", "uv", "pdm", "hatch") and argv[1:2] == ["run"]:
        return listen(proc, argv[2:], source, depth + 1)
    if program in ("npm", "yarn", "pnpm"):
        return _npm(proc, argv, depth)
    handler = SERVERS.get(program)
    if handler is not None:
        return _launched(handler(proc, argv, source), proc, argv, source)
    located = proc.locate(argv[0])
    if located and (located.endswith(".sh") or _shebang(proc.repo, located)):
        return _script(proc, argv[0], depth)
    if located and located.endswith(".py"):
        return _python(proc, ["python", *argv], source, depth)
    return _launched(generic(proc, argv, source), proc, argv, source)


def _launched(
    found: Listen | None, proc: Process, argv: list[str], source: Source
) -> Listen | None:
    if found is None or found.launch is not None:
        return found
    launch = Launch(posixpath.basename(argv[0]), tuple(argv), source, proc.env)
    return replace(found, launch=launch)


def _unwrap(argv: list[str]) -> list[str]:
    while argv:
        head = posixpath.basename(argv[0])
        if head in _WRAPPERS or re.fullmatch(r"[A-Za-z_]\w*=.*", argv[0]):
            argv = argv[1:]
        elif head in _WITH_USER:
            argv = argv[2:]
        elif argv[0].startswith("-") and len(argv) > 1:
            argv = argv[1:]  # an option of a wrapper: `tini -g --`
        else:
            break
    return argv


def _script(proc: Process, name: str, depth: int) -> Listen | None:
    path = proc.locate(name)
    text = proc.repo.read(path) if path else None
    if path is None or text is None:
        return None
    found = script_text(proc, text, Source(path, 0), depth)
    if found is None:
        return Listen("a script", None, f"{path} starts no server mutbot knows", (path,))
    return found.also_read((path,))


def script_text(proc: Process, text: str, where: Source, depth: int) -> Listen | None:
    """The server a piece of shell starts. `where.line` 0: a whole file (lines count from 1);
    else the text is one command written on that line."""
    env = dict(proc.env)
    passes_on = None
    for number, row in enumerate(text.replace("\\\n", " \n").splitlines(), 1):
        at = Source(where.path, number) if where.line == 0 else where
        row = row.strip()
        if not row or row.startswith("#"):
            continue
        if assigned := _ASSIGN.fullmatch(row):
            value, _ = expand(assigned[2].strip("\"'"), env)
            if value is not None:
                env[assigned[1]] = (value, at)
            continue
        for words in simple_commands(row, wrappers=("exec", "sudo", "env", "nohup")):
            if any(w in ('"$@"', "$@", "${@}") for w in words):
                passes_on = at
            elif posixpath.basename(words[0]) not in _NOT_SERVERS:
                found = listen(proc.with_env(env), words, at, depth + 1)
                if found is not None and found.port is not None:
                    return found
    if passes_on is not None and proc.cmd is not None:
        return listen(proc.with_env(env), proc.cmd[0], proc.cmd[1], depth + 1)
    return None


def _shebang(repo: Repo, path: str) -> bool:
    first = (repo.read(path) or "").split("\n", 1)[0]
    return first.startswith("#!") and bool(re.search(r"\b(sh|bash|dash|ash)\b", first))


def _python(proc: Process, argv: list[str], source: Source, depth: int) -> Listen | None:
    rest = argv[1:]
    while rest and rest[0].startswith("-") and rest[0] != "-m":
        rest = rest[1:]  # -u, -O, -B
    if rest[:1] == ["-m"] and len(rest) >= 2:
        return listen(proc, [rest[1], *rest[2:]], source, depth + 1)
    if not rest:
        return None
    if posixpath.basename(rest[0]) == "manage.py":
        return _runserver(rest[1:], source) if "runserver" in rest else None
    path = proc.locate(rest[0])
    if path is None:
        return None
    bound = serverfiles.python_app(proc.repo, path, values(proc.env))
    return listening(f"python {rest[0]}", bound) if bound else None


def _runserver(args: list[str], source: Source) -> Listen:
    after = args[args.index("runserver") + 1 :]
    spot = next((a for a in after if not a.startswith("-")), "127.0.0.1:8000")
    host, port = address(spot if not spot.isdigit() else f"127.0.0.1:{spot}")
    bound = Bound(Guess(port, f"manage.py runserver {spot}", source) if port else None, host)
    return listening("Django's runserver", bound)


def _npm(proc: Process, argv: list[str], depth: int) -> Listen | None:
    words = [w for w in argv[1:] if not w.startswith("-")]
    script = words[1] if words[:1] in (["run"], ["run-script"]) and len(words) > 1 else None
    script = script or (words[0] if words and words[0] in ("start", "serve") else None)
    path = proc.locate("package.json")
    if script is None or path is None:
        return None
    try:
        scripts = json.loads(proc.repo.read(path) or "{}").get("scripts") or {}
    except (ValueError, AttributeError):
        scripts = {}
    command = scripts.get(script) if isinstance(scripts, dict) else None
    if not isinstance(command, str):
        command = "node server.js" if script == "start" else None  # npm's own default
    line = _line_of(proc.repo.read(path) or "", f'"{script}"')
    return script_text(proc, command, Source(path, line), depth + 1) if command else None


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None
