"""Where a server's own files say it listens (pure): gunicorn.conf.py, uWSGI ini files, a Python
module that starts its server, a Node script's `listen(...)`, a pm2 ecosystem file, nginx's
`listen` and a Go program's flags and `ListenAndServe`. Each gives a port with its line, and the
host when one is named."""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mutbot.discover import pyvalues
from mutbot.discover.model import Guess, Repo, Source

_LOCAL = ("127.0.0.1", "localhost", "::1", "[::1]")
_JS_LISTEN = re.compile(r"\.listen\(\s*([^,)]+)")
_JS_ENV = re.compile(r"process\.env\.(\w+)|process\.env\[['\"](\w+)['\"]\]")
_NUMBER = re.compile(r"\b(\d{2,5})\b")
_NGINX_LISTEN = re.compile(r"^\s*listen\s+(?:[\w.\-]+:|\[[^]]*\]:)?(\d+)\b", re.MULTILINE)
_GO_FLAG = re.compile(
    r"flag\.(?:String|Int|Uint)(?:Var)?\([^\"]*\"([\w.-]+)\"\s*,\s*\"?([^\",)]*)\"?"
)
_GO_LISTEN = re.compile(r"ListenAndServe(?:TLS)?\(\s*\"([^\"]*)\"")
_GO_PORT_FALLBACK = re.compile(r"(?:port|addr)\s*=\s*\":?(\d{2,5})\"", re.IGNORECASE)
PORT_FLAGS = ("addr", "address", "listen", "port", "http", "bind", "http-addr", "listen-addr")


@dataclass(frozen=True)
class Bound:
    port: Guess[int] | None
    host: str | None = None  # None: every interface, or not said

    @property
    def local_only(self) -> bool:
        return self.host in _LOCAL


def address(text: str) -> tuple[str | None, int | None]:
    """("0.0.0.0", 5000) from "0.0.0.0:5000", (None, 5000) from ":5000" or "5000", ("unix",
    None) for a socket file."""
    text = text.strip().removeprefix("tcp://").removeprefix("http://")
    if text.startswith(("unix:", "fd://", "/")):
        return "unix", None
    host, colon, port = text.rpartition(":")
    if not colon:
        host, port = ("", text) if text.isdigit() else (text, "")
    number = int(port) if port.isdigit() and 1 <= int(port) <= 65535 else None
    return host or None, number


class Recording(dict[str, str]):
    """An environment that remembers which variables were read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: list[str] = []

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        if key in self:
            self.read.append(key)
        return super().get(key, default)


def gunicorn_conf(repo: Repo, path: str, env: Mapping[str, str]) -> Bound | None:
    tree = pyvalues.parse(repo.read(path))
    if tree is None:
        return None
    names = pyvalues.assignments(tree)
    if "bind" not in names:
        return None
    written = pyvalues.value(names["bind"], names, env)
    if written is None:
        return None
    host, port = address(written)
    where = Source(path, names["bind"].lineno)
    return Bound(Guess(port, f"gunicorn bind = {written!r}", where) if port else None, host)


def uwsgi_ini(repo: Repo, path: str) -> Bound | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    text = repo.read(path) or ""
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    if not parser.has_section("uwsgi"):
        return None
    for key in ("http", "http-socket", "https", "socket"):
        written = parser.get("uwsgi", key, fallback=None)
        if written:
            host, port = address(written.split(",")[0])
            line = next(
                (n for n, row in enumerate(text.splitlines(), 1) if row.strip().startswith(key)),
                None,
            )
            why = f"uwsgi {key} = {written}"
            if key == "socket":
                why += " (uwsgi protocol: a proxy in front speaks it, not HTTP clients)"
            return Bound(Guess(port, why, Source(path, line)) if port else None, host)
    return None


def python_app(repo: Repo, path: str, env: Mapping[str, str]) -> Bound | None:
    """A module that starts its own server: `app.run(port=...)`, `uvicorn.run(..., port=...)`,
    `HTTPServer((host, port), ...)`, `make_server(..., port=...)`."""
    tree = pyvalues.parse(repo.read(path))
    if tree is None:
        return None
    names = pyvalues.assignments(tree)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        called = pyvalues.dotted(call.func).rsplit(".", 1)[-1]
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        port_expr = keywords.get("port")
        host_expr = keywords.get("host")
        if port_expr is None and called.endswith(("HTTPServer", "TCPServer", "make_server")):
            pair = next(
                (a for a in call.args if isinstance(a, ast.Tuple) and len(a.elts) == 2), None
            )
            if pair is not None:
                host_expr, port_expr = pair.elts
        if port_expr is None and called in ("run", "run_app", "serve") and not keywords:
            continue
        if port_expr is None:
            continue
        seen = Recording(env)
        written = pyvalues.value(port_expr, names, seen)
        port = int(written) if written and written.isdigit() and 0 < int(written) < 65536 else None
        if port is None:
            continue
        host = pyvalues.value(host_expr, names, env) if host_expr is not None else None
        via = f" (from {seen.read[0]})" if seen.read else ""
        why = f"{pyvalues.dotted(call.func) or called}(port={port}){via}"
        return Bound(Guess(port, why, Source(path, call.lineno)), host)
    return None


def node_app(
    repo: Repo, path: str, env: Mapping[str, str], sources: Mapping[str, Source | None]
) -> Bound | None:
    """`app.listen(PORT)`: a number, or a variable set from `process.env.X || default`; a
    port from the environment points at where the environment sets it."""
    text = repo.read(path)
    if text is None:
        return None
    for found in _JS_LISTEN.finditer(text):
        expression = found[1].strip()
        line = text.count("\n", 0, found.start()) + 1
        if expression.isdigit():
            return Bound(Guess(int(expression), f"listen({expression})", Source(path, line)))
        definition = _js_definition(text, expression) if re.fullmatch(r"\w+", expression) else None
        source_text = definition[0] if definition else expression
        where = Source(path, definition[1] if definition else line)
        for match in _JS_ENV.finditer(source_text):
            name = match[1] or match[2]
            if name in env and env[name].isdigit():
                port = int(env[name])
                why = f"{name}={port} (read by listen({expression}), {where})"
                return Bound(Guess(port, why, sources.get(name) or where))
        if number := _NUMBER.search(source_text):
            why = f"listen({expression}): {source_text.strip()[:60]}"
            return Bound(Guess(int(number[1]), why, where))
    return None


def _js_definition(text: str, name: str) -> tuple[str, int] | None:
    pattern = re.compile(rf"(?:const|let|var)\s+{re.escape(name)}\s*=\s*([^;\n]+)")
    found = pattern.search(text) or re.search(
        rf"{{[^}}]*\b{re.escape(name)}\s*=\s*(\d+)[^}}]*}}\s*=\s*process\.env", text
    )
    if not found:
        return None
    return found[1], text.count("\n", 0, found.start()) + 1


def pm2_ecosystem(repo: Repo, path: str) -> tuple[str | None, dict[str, tuple[str, Source]]]:
    """The script an ecosystem file runs, and the environment it gives it."""
    text = repo.read(path) or ""
    script = re.search(r"""\bscript\s*:\s*['"]([^'"]+)['"]""", text)
    env: dict[str, tuple[str, Source]] = {}
    for found in re.finditer(r"""['"]?\b([A-Z][A-Z0-9_]*)['"]?\s*:\s*['"]?([\w.:/-]*)""", text):
        if found[1] not in env:
            env[found[1]] = (found[2], Source(path, text.count("\n", 0, found.start()) + 1))
    return (script[1] if script else None), env


def nginx_listen(repo: Repo, paths: list[str]) -> Guess[int] | None:
    for path in paths:
        text = repo.read(path) or ""
        if found := _NGINX_LISTEN.search(text):
            line = text.count("\n", 0, found.start()) + 1
            return Guess(int(found[1]), f"nginx listen {found[1]}", Source(path, line))
    return None


def go_flags(repo: Repo, folder: str) -> dict[str, tuple[str, Source]]:
    """The defaults of the flags a Go program declares (`flag.String("addr", ":8080", ...)`)."""
    found: dict[str, tuple[str, Source]] = {}
    for path in _go_files(repo, folder):
        text = repo.read(path) or ""
        for match in _GO_FLAG.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match[1], (match[2], Source(path, line)))
    return found


def go_listen(repo: Repo, folder: str, env: Mapping[str, str]) -> Bound | None:
    for name, (default, where) in go_flags(repo, folder).items():
        if name in PORT_FLAGS:
            host, port = address(default)
            if port:
                return Bound(Guess(port, f"flag -{name} defaults to {default!r}", where), host)
    for path in _go_files(repo, folder):
        text = repo.read(path) or ""
        for pattern in (_GO_LISTEN, _GO_PORT_FALLBACK):
            if found := pattern.search(text):
                host, port = address(found[1])
                if port:
                    line = text.count("\n", 0, found.start()) + 1
                    why = f"ListenAndServe({found[1]!r})" if pattern is _GO_LISTEN else found[0]
                    if "PORT" in text and env.get("PORT", "").isdigit():
                        port, why = int(env["PORT"]), f"{why}, PORT={env['PORT']}"
                    return Bound(Guess(port, why, Source(path, line)), host)
    return None


def _go_files(repo: Repo, folder: str) -> list[str]:
    files = [f for f in repo.under(folder) if f.endswith(".go") and not f.endswith("_test.go")]
    return sorted(files, key=lambda f: (posixpath.basename(f) != "main.go", f.count("/"), f))[:50]
