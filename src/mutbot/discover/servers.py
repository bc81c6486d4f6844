"""Where each server mutbot knows listens, from its flags, settings files and environment (pure):
gunicorn, uvicorn, hypercorn, daphne, uWSGI, waitress, `flask run`, Node and pm2, nginx, and any
program with an address flag (a Go service's `-addr :9090`) or a Go program's own defaults."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable

from mutbot.discover import serverfiles
from mutbot.discover.model import Guess, Source
from mutbot.discover.process import (
    Listen,
    Process,
    bind,
    default,
    env_port,
    expand,
    listening,
    options,
    split,
    values,
)
from mutbot.discover.serverfiles import Bound


def _gunicorn(proc: Process, argv: list[str], source: Source) -> Listen:
    read: tuple[str, ...] = ()
    bound = bind("gunicorn", proc, argv, source, ("-b", "--bind"))
    if bound is None and "GUNICORN_CMD_ARGS" in proc.env:
        value, where = proc.env["GUNICORN_CMD_ARGS"]
        bound = bind("GUNICORN_CMD_ARGS:", proc, split(value), where or source, ("-b", "--bind"))
    conf = (options(argv, "-c", "--config") or ["gunicorn.conf.py"])[0]
    path = proc.locate(conf) if not conf.startswith("python:") else None
    if path:
        read = (path,)
        bound = bound or serverfiles.gunicorn_conf(proc.repo, path, values(proc.env))
    if bound is None and (from_env := env_port(proc, "PORT", "gunicorn")):
        bound = Bound(from_env.port, "0.0.0.0")  # gunicorn binds 0.0.0.0:$PORT when PORT is set
    return listening("gunicorn", bound or default("gunicorn", "127.0.0.1", 8000, source), read)


def _uvicorn(proc: Process, argv: list[str], source: Source) -> Listen:
    if options(argv, "--uds", "--fd"):
        return listening("uvicorn", Bound(None, "unix"))
    bound = bind("uvicorn", proc, argv, source, ("--port",), port_only=True)
    bound = bound or env_port(proc, "UVICORN_PORT", "uvicorn")
    bound = bound or default("uvicorn", "", 8000, source)
    host = (options(argv, "--host") or [proc.env.get("UVICORN_HOST", ("127.0.0.1", None))[0]])[0]
    return listening("uvicorn", Bound(bound.port, expand(host, proc.env)[0]))


def _hypercorn(proc: Process, argv: list[str], source: Source) -> Listen:
    bound = bind("hypercorn", proc, argv, source, ("-b", "--bind"))
    return listening("hypercorn", bound or default("hypercorn", "127.0.0.1", 8000, source))


def _daphne(proc: Process, argv: list[str], source: Source) -> Listen:
    for raw in options(argv, "-e", "--endpoint"):
        if found := re.search(r"tcp:(?:port=)?(\d+)", raw):
            interface = re.search(r"interface=([^:]+)", raw)
            port = Guess(int(found[1]), f"daphne -e {raw}", source)
            return listening("daphne", Bound(port, interface[1] if interface else None))
    bound = bind("daphne", proc, argv, source, ("-p", "--port"), port_only=True)
    host = (options(argv, "-b", "--bind") or ["127.0.0.1"])[0]
    bound = bound or default("daphne", host, 8000, source)
    return listening("daphne", Bound(bound.port, host))


def _uwsgi(proc: Process, argv: list[str], source: Source) -> Listen:
    for flag in ("--http", "--http-socket", "--socket"):
        if bound := bind("uwsgi", proc, argv, source, (flag,)):
            found = listening("uwsgi", bound)
            if flag == "--socket":
                return Listen("uwsgi", found.port, "uwsgi --socket speaks uwsgi, not HTTP")
            return found
    ini = (options(argv, "--ini") or [a for a in argv[1:] if a.endswith(".ini")] or [""])[0]
    path = proc.locate(ini) if ini else None
    bound = serverfiles.uwsgi_ini(proc.repo, path) if path else None
    if path is None or bound is None:
        return Listen("uwsgi", None, "no --http, --http-socket or ini file says where it listens")
    found = listening("uwsgi", bound, (path,))
    if bound.port and "uwsgi protocol" in bound.port.why:
        return Listen("uwsgi", found.port, "uwsgi `socket` speaks uwsgi, not HTTP", (path,))
    return found


def _waitress(proc: Process, argv: list[str], source: Source) -> Listen:
    bound = bind("waitress-serve", proc, argv, source, ("--listen",))
    bound = bound or bind("waitress-serve", proc, argv, source, ("--port",), port_only=True)
    return listening("waitress", bound or default("waitress-serve", "0.0.0.0", 8080, source))


def _flask(proc: Process, argv: list[str], source: Source) -> Listen | None:
    if "run" not in argv:
        return None
    bound = bind("flask run", proc, argv, source, ("-p", "--port"), port_only=True)
    bound = bound or env_port(proc, "FLASK_RUN_PORT", "flask run")
    bound = bound or default("flask run", "", 5000, source)
    env_host = proc.env.get("FLASK_RUN_HOST", ("127.0.0.1", None))[0]
    return listening(
        "flask run", Bound(bound.port, (options(argv, "-h", "--host") or [env_host])[0])
    )


def _node(proc: Process, argv: list[str], source: Source) -> Listen | None:
    script = next((a for a in argv[1:] if not a.startswith("-")), None)
    path = proc.locate(script) if script not in (None, ".") else _package_main(proc)
    if script and (path is None or not path.endswith((".js", ".mjs", ".cjs", ".ts"))):
        path = proc.locate(f"{script}.js") or proc.locate(f"{script}/index.js")
    sources = {name: where for name, (_, where) in proc.env.items()}
    bound = serverfiles.node_app(proc.repo, path, values(proc.env), sources) if path else None
    return listening("node", bound or env_port(proc, "PORT", "node") or Bound(None))


def _package_main(proc: Process) -> str | None:
    path = proc.locate("package.json")
    try:
        main = json.loads(proc.repo.read(path) or "{}").get("main") if path else None
    except (ValueError, AttributeError):
        main = None
    return proc.locate(main if isinstance(main, str) else "index.js")


def _pm2(proc: Process, argv: list[str], source: Source) -> Listen | None:
    words = [w for w in argv[1:] if not w.startswith("-") and w != "start"]
    path = proc.locate(words[0]) if words else None
    if path is None:
        return None
    if not re.search(r"(ecosystem|process|pm2)[\w.-]*\.(c?js|json|ya?ml)$", path):
        return _node(proc, ["node", words[0]], source)
    script, env = serverfiles.pm2_ecosystem(proc.repo, path)
    found = _node(proc.with_env({**proc.env, **env}), ["node", script], source) if script else None
    port = found.port if found else None
    if port is None and "PORT" in env and env["PORT"][0].isdigit():
        port = Guess(int(env["PORT"][0]), f"pm2 env PORT: {env['PORT'][0]}", env["PORT"][1])
    return Listen("pm2", port, found.doubt if found else None, (path,))


def _nginx(proc: Process, argv: list[str], source: Source) -> Listen:
    confs = [f for f in proc.repo.under(proc.context) if f.endswith(".conf")]
    confs.sort(key=lambda f: ("nginx" not in f, f))
    port = serverfiles.nginx_listen(proc.repo, confs)
    return Listen("nginx", port, None, (port.source.path,) if port and port.source else ())


def generic(proc: Process, argv: list[str], source: Source) -> Listen | None:
    """A program with an address flag (`-addr :9090`, `--port=8000`), or a Go program whose
    flag defaults and `ListenAndServe` say."""
    program = posixpath.basename(argv[0])
    for name in serverfiles.PORT_FLAGS:
        if bound := bind(program, proc, argv, source, (f"-{name}", f"--{name}")):
            return listening(program, bound)
    if any(f.endswith(".go") for f in proc.repo.under(proc.context)):
        bound = serverfiles.go_listen(proc.repo, proc.context, values(proc.env))
        return listening(program, bound) if bound else None
    return None


SERVERS: dict[str, Callable[[Process, list[str], Source], Listen | None]] = {
    "gunicorn": _gunicorn,
    "uvicorn": _uvicorn,
    "hypercorn": _hypercorn,
    "daphne": _daphne,
    "uwsgi": _uwsgi,
    "waitress-serve": _waitress,
    "flask": _flask,
    "node": _node,
    "nodemon": _node,
    "ts-node": _node,
    "pm2": _pm2,
    "pm2-runtime": _pm2,
    "pm2-docker": _pm2,
    "nginx": _nginx,
}
