"""gunicorn: its settings where they are written (the command line, `GUNICORN_CMD_ARGS`,
`WEB_CONCURRENCY`, gunicorn.conf.py), their documented defaults, and what is wrong with them:
one sync worker by default, a worker count taken from the host's CPUs, keep-alive that sync
workers ignore, debug logging. Worker classes move only to one installed that fits the app."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mutbot.discover.process import Launch
from mutbot.packs import cmdline, envsites
from mutbot.packs.model import Edit, Finding, Move, Seen, Setter, Setting, Site, Value, make_move
from mutbot.packs.pyserver import (
    Found,
    Option,
    app_kind,
    command_adder,
    conf_adder,
    env_adder,
    from_args_env,
    from_command,
    from_conf,
    from_env,
    located,
    seen,
    workers,
)
from mutbot.packs.view import View

NAME = "gunicorn"
ARGS = "GUNICORN_CMD_ARGS"
_HOST_CPUS = re.compile(r"cpu_count|sched_getaffinity|nproc")
_ASYNC = ("gevent", "eventlet", "tornado")
UVICORN_WORKER = "uvicorn.workers.UvicornWorker"
CLASSES = ("sync", "gthread", "gevent", "eventlet", "tornado", UVICORN_WORKER)
LEVELS = ("debug", "info", "warning", "error", "critical")


def _option(
    setting: Setting, flags: tuple[str, ...], env: str | None = None, switch: bool = False
) -> Option:
    return Option(setting, flags, setting.name, env, switch)


OPTIONS = (
    _option(Setting("workers", "int", 1, "worker processes", unit="processes", low=1, high=256,
                    interacts=("threads", "cpus", "memory"),
                    default_note="WEB_CONCURRENCY when set"),
            ("--workers", "-w"), env="WEB_CONCURRENCY"),
    _option(Setting("threads", "int", 1, "threads per worker (above 1 a sync worker becomes "
                    "gthread)", low=1, high=64, interacts=("workers", "worker_class")),
            ("--threads",)),
    _option(Setting("worker_class", "str", "sync", "the worker type; async ones need their "
                    "package", choices=CLASSES,
                    interacts=("installed packages", "WSGI or ASGI app")),
            ("--worker-class", "-k")),
    _option(Setting("worker_connections", "int", 1000, "clients one gevent or eventlet worker "
                    "serves", unit="connections", low=1, high=100_000),
            ("--worker-connections",)),
    _option(Setting("timeout", "int", 30, "seconds a silent worker lives before it is "
                    "restarted", unit="s", low=0, high=3600),
            ("--timeout", "-t")),
    _option(Setting("graceful_timeout", "int", 30, "seconds a worker has to finish on restart",
                    unit="s", low=0, high=3600),
            ("--graceful-timeout",)),
    _option(Setting("keepalive", "int", 2, "seconds a connection waits for its next request "
                    "(sync workers ignore it)", unit="s", low=0, high=300,
                    interacts=("worker_class",)),
            ("--keep-alive",)),
    _option(Setting("max_requests", "int", 0, "requests before a worker restarts (0: never)",
                    low=0, high=10_000_000),
            ("--max-requests",)),
    _option(Setting("max_requests_jitter", "int", 0, "random extra requests before that "
                    "restart", low=0, high=10_000_000),
            ("--max-requests-jitter",)),
    _option(Setting("backlog", "int", 2048, "connections the listening socket queues",
                    unit="connections", low=1, high=65535),
            ("--backlog",)),
    _option(Setting("preload_app", "bool", False, "load the app once before forking the "
                    "workers"),
            ("--preload",), switch=True),
    _option(Setting("loglevel", "enum", "info", "the error log's level", choices=LEVELS),
            ("--log-level",)),
    _option(Setting("accesslog", "str", None, "where each request is logged (not set: "
                    "nowhere)"),
            ("--access-logfile",)),
    _option(Setting("reload", "bool", False, "restart workers when code changes "
                    "(development only)"),
            ("--reload",), switch=True),
    _option(Setting("bind", "str", "127.0.0.1:8000", "the address it listens on",
                    safety="never", default_note="0.0.0.0:$PORT when PORT is set"),
            ("--bind", "-b")),
    _option(Setting("certfile", "str", None, "TLS certificate", safety="never"),
            ("--certfile",)),
    _option(Setting("keyfile", "str", None, "TLS key", safety="never"), ("--keyfile",)),
    _option(Setting("user", "str", None, "the user workers run as", safety="never"),
            ("--user", "-u")),
    _option(Setting("group", "str", None, "the group workers run as", safety="never"),
            ("--group", "-g")),
)  # fmt: skip


class Gunicorn:
    name = NAME
    settings: Mapping[str, Setting] = {o.setting.name: o.setting for o in OPTIONS}

    def scan(self, view: View) -> list[Seen]:
        launch = view.launch
        if launch is None or launch.program != NAME:
            return []
        conf = _conf_path(view, launch)
        found: dict[str, Found] = {}
        env = {o.setting.name: o for o in OPTIONS if o.env}
        found.update(from_env(view, list(env.values())))
        if conf is not None:
            found.update(from_conf(view, conf, OPTIONS))
        found.update(from_args_env(view, ARGS, OPTIONS))
        found.update(from_command(view, launch, OPTIONS))
        out = []
        for option in OPTIONS:
            adders = [
                command_adder(view, launch, option),
                _env_site(view, option.env),
                None if option.switch else _args_adder(view, option),
                conf_adder(view, conf, option) if conf else None,
            ]
            item = seen(NAME, option, found.get(option.setting.name), adders, view)
            if item is not None:
                out.append(item)
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        by = {s.setting.name: s for s in seen}
        out: list[Finding] = []
        count = by.get("workers")
        kind = str(by["worker_class"].value) if "worker_class" in by else "sync"
        if count is not None:
            out += _workers(view, count, kind)
        keepalive = by.get("keepalive")
        threads = by["threads"].value if "threads" in by else 1
        if keepalive and keepalive.written and kind == "sync" and threads == 1:
            out.append(_keepalive(view, keepalive, by.get("worker_class")))
        level = by.get("loglevel")
        if level and level.written and level.value == "debug":
            fix = tuple(_move(level, "info", "gunicorn's default level"))
            out.append(
                Finding(
                    "verbose-logging",
                    NAME,
                    _site(level),
                    f"{level.raw}: every request logs at debug level",
                    "gunicorn: debug logging",
                    fix,
                    level.key,
                )
            )
        reload = by.get("reload")
        if reload and reload.written and reload.value is True:
            fix = tuple(_move(reload, False, "production servers do not watch their code"))
            why = f"{reload.raw}: a development mode that watches every file"
            out.append(
                Finding(
                    "verbose-logging",
                    NAME,
                    _site(reload),
                    why,
                    "gunicorn: --reload in production",
                    fix,
                    reload.key,
                )
            )
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        by = {s.setting.name: s for s in seen}
        kind = str(by["worker_class"].value) if "worker_class" in by else "sync"
        moves: list[Move] = []
        if count := by.get("workers"):
            best, rule = _worker_rule(view, kind)
            moves += _move(count, best, rule)
            moves += _move(count, max(2, best // 2), f"half of {rule}")
        threads = by.get("threads")
        if threads and kind in ("sync", "gthread") and threads.value in (1, None):
            moves += _move(threads, 4, "4 threads a worker: I/O-bound requests overlap")
        keepalive = by.get("keepalive")
        if keepalive and kind != "sync" and isinstance(keepalive.value, int):
            moves += _move(keepalive, 5, "5 s: a client's next request reuses its connection")
        if cls := by.get("worker_class"):
            for name, why in worker_classes(view, cls.value):
                moves += _move(cls, name, why)
        return moves


def worker_classes(view: View, current: Value) -> list[tuple[str, str]]:
    """Worker classes that fit the app (WSGI or ASGI) and whose package is installed."""
    launch = view.launch
    kind = app_kind(view, launch) if launch else None
    out: list[tuple[str, str]] = []
    if kind == "wsgi":
        out.append(("gthread", "threads share a worker; built into gunicorn"))
        out += [
            (c, f"{c} is installed: one worker serves many waiting clients")
            for c in ("gevent", "eventlet")
            if c in view.packages
        ]
    elif kind == "asgi" and "uvicorn" in view.packages:
        out.append((UVICORN_WORKER, "an ASGI app needs an ASGI worker; uvicorn is installed"))
    return [(c, why) for c, why in out if c != current]


def _worker_rule(view: View, kind: str) -> tuple[int, str]:
    if kind in _ASYNC or "Uvicorn" in kind:
        return workers(view, 1, 0, 2)  # an event loop a CPU
    return workers(view, 2, 1, 2)  # gunicorn's own advice for sync workers


def _workers(view: View, count: Seen, kind: str) -> list[Finding]:
    best, rule = _worker_rule(view, kind)
    raw = count.raw or ""
    if count.written and count.value is None and _HOST_CPUS.search(raw):
        why = (
            f"{raw} counts the host's CPUs, not the container's limit of {view.sandbox.cpus:g}:"
            f" a 64-core runner starts {_host_example(raw)} workers"
        )
        title = "gunicorn: workers from the CPU limit, not the host's CPU count"
        return [
            Finding(
                "limits-unseen",
                NAME,
                _site(count),
                why,
                title,
                tuple(_move(count, best, rule)),
                count.key,
            )
        ]
    if count.value != 1:
        return []
    if count.written:
        why = f"{raw}: one {kind} worker serves every request"
    else:
        why = (
            f"gunicorn starts one {kind} worker: nothing sets --workers, WEB_CONCURRENCY "
            "or workers in a config file"
        )
    title = f"gunicorn: {best} workers instead of 1" if best > 1 else "gunicorn: one worker"
    fix = tuple(_move(count, best, rule)) if best > 1 else ()
    return [Finding("single-worker", NAME, _site(count), why, title, fix, count.key)]


def _host_example(raw: str) -> str:
    return "129" if "* 2 + 1" in raw or "*2+1" in raw else "64 or more"


def _keepalive(view: View, keepalive: Seen, cls: Seen | None) -> Finding:
    why = (
        f"{keepalive.raw}: sync workers close every connection after one response, so "
        "keep-alive is ignored"
    )
    fix: tuple[Move, ...] = ()
    if cls is not None and any(c == "gthread" for c, _ in worker_classes(view, cls.value)):
        fix = tuple(_move(cls, "gthread", "gthread keeps connections alive; WSGI-safe"))
    title = "gunicorn: keep-alive is ignored by sync workers"
    return Finding("tiny-pool", NAME, _site(keepalive), why, title, fix, keepalive.key)


def _move(seen: Seen, value: Value, rule: str) -> list[Move]:
    move = make_move(seen, value, rule)
    return [move] if move else []


def _site(seen: Seen) -> Site:
    return seen.site or Site(".mutbot.yml", 1, "config")


def _conf_path(view: View, launch: Launch) -> str | None:
    written = cmdline.flag(view, launch, ("--config", "-c"))
    args = envsites.env_site(view, ARGS)
    if written is None and args is not None:
        written = cmdline.args_flag(args.value, ("--config", "-c"))
    name = written.value if written and written.value else "gunicorn.conf.py"
    if name.startswith("python:"):
        return None
    return located(view, name.removeprefix("file:"))


def _env_site(view: View, name: str | None) -> tuple[Site, Setter] | None:
    setter = env_adder(view, name)
    site = envsites.add_site(view)
    return (site, setter) if setter is not None and site is not None else None


def _args_adder(view: View, option: Option) -> tuple[Site, Setter] | None:
    """Into `GUNICORN_CMD_ARGS`: where it is written, else a new `ENV` line."""
    site = envsites.env_site(view, ARGS)
    if site is not None:
        text = view.repo.read(site.path) if site.path else None
        if site.span is None or text is None or text[slice(*site.span)] != site.value:
            return None
        if site.path is None or not view.editable(site.path) or site.site is None:
            return None

        def into(v: Value) -> tuple[Edit, ...]:
            new = cmdline.set_in_args(site.value, option.flags, v)
            return (envsites.set_env(view, ARGS, new) or ()) if new is not None else ()

        return site.site, into
    setter = env_adder(view, ARGS, option.flags[0])
    add = envsites.add_site(view)
    return (add, setter) if setter is not None and add is not None else None


PACK = Gunicorn()
