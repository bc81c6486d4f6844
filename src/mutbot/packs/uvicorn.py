"""uvicorn: its settings where they are written (the command line, `WEB_CONCURRENCY`, the
`UVICORN_*` variables its command line reads), their documented defaults, and what is wrong
with them: one process by default, `--reload` (a development mode) in production, debug
logging. `--http` and `--loop` move only to the implementations installed."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mutbot.packs import envsites
from mutbot.packs.model import Finding, Move, Seen, Setter, Setting, Site, Value, make_move
from mutbot.packs.pyserver import (
    Found,
    Option,
    command_adder,
    env_adder,
    from_command,
    from_env,
    seen,
    workers,
)
from mutbot.packs.view import View

NAME = "uvicorn"
LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_STANDARD = re.compile(r"^\s*uvicorn\[[^\]]*standard", re.IGNORECASE | re.MULTILINE)


def _option(
    setting: Setting, flags: tuple[str, ...], off: tuple[str, ...] = (), switch: bool = False,
    env: str | None = None,
) -> Option:  # fmt: skip
    """uvicorn reads every option from `UVICORN_<NAME>` too (click's auto_envvar_prefix)."""
    variable = env or f"UVICORN_{setting.name.upper()}"
    return Option(setting, flags, None, variable, switch or bool(off), off)


OPTIONS = (
    _option(Setting("workers", "int", 1, "worker processes", unit="processes", low=1, high=256,
                    interacts=("cpus", "memory", "reload"),
                    default_note="WEB_CONCURRENCY when set"),
            ("--workers",), env="WEB_CONCURRENCY"),
    _option(Setting("timeout_keep_alive", "int", 5, "seconds an idle kept-alive connection "
                    "stays open", unit="s", low=1, high=600),
            ("--timeout-keep-alive",)),
    _option(Setting("limit_concurrency", "int", None, "connections or tasks at once before "
                    "answering 503 (not set: no limit)", unit="connections", low=1,
                    high=100_000),
            ("--limit-concurrency",)),
    _option(Setting("limit_max_requests", "int", None, "requests before a worker restarts "
                    "(not set: never)", low=1, high=10_000_000),
            ("--limit-max-requests",)),
    _option(Setting("backlog", "int", 2048, "connections the listening socket queues",
                    unit="connections", low=1, high=65535),
            ("--backlog",)),
    _option(Setting("http", "enum", "auto", "HTTP implementation (auto: httptools when "
                    "installed)", choices=("auto", "h11", "httptools"),
                    interacts=("installed packages",)),
            ("--http",)),
    _option(Setting("loop", "enum", "auto", "event loop (auto: uvloop when installed)",
                    choices=("auto", "asyncio", "uvloop", "none"),
                    interacts=("installed packages",)),
            ("--loop",)),
    _option(Setting("log_level", "enum", "info", "the log's level", choices=LEVELS),
            ("--log-level",)),
    _option(Setting("access_log", "bool", True, "one log line per request"),
            ("--access-log",), off=("--no-access-log",)),
    _option(Setting("reload", "bool", False, "restart when code changes (development only; "
                    "ignores --workers)"),
            ("--reload",), switch=True),
    _option(Setting("host", "str", "127.0.0.1", "the address it listens on", safety="never"),
            ("--host",)),
    _option(Setting("port", "int", 8000, "the port it listens on", safety="never", low=0,
                    high=65535),
            ("--port",)),
    _option(Setting("uds", "str", None, "a Unix socket to listen on", safety="never"),
            ("--uds",)),
    _option(Setting("ssl_keyfile", "str", None, "TLS key", safety="never"), ("--ssl-keyfile",)),
    _option(Setting("ssl_certfile", "str", None, "TLS certificate", safety="never"),
            ("--ssl-certfile",)),
    _option(Setting("proxy_headers", "bool", True, "trust X-Forwarded-* from the allowed "
                    "proxies", safety="never"),
            ("--proxy-headers",), off=("--no-proxy-headers",)),
    _option(Setting("forwarded_allow_ips", "str", "127.0.0.1", "the proxies trusted",
                    safety="never"),
            ("--forwarded-allow-ips",)),
    _option(Setting("root_path", "str", "", "the path prefix behind a proxy", safety="never"),
            ("--root-path",)),
)  # fmt: skip


class Uvicorn:
    name = NAME
    settings: Mapping[str, Setting] = {o.setting.name: o.setting for o in OPTIONS}

    def scan(self, view: View) -> list[Seen]:
        launch = view.launch
        if launch is None or launch.program != NAME:
            return []
        found: dict[str, Found] = {}
        found.update(from_env(view, OPTIONS))
        found.update(from_command(view, launch, OPTIONS))
        out = []
        for option in OPTIONS:
            adders = [command_adder(view, launch, option), _env_adder(view, option)]
            item = seen(NAME, option, found.get(option.setting.name), adders, view)
            if item is not None:
                out.append(item)
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        by = {s.setting.name: s for s in seen}
        out: list[Finding] = []
        reload = by.get("reload")
        reloading = bool(reload and reload.value is True)
        count = by.get("workers")
        if count is not None and count.value == 1:
            out.append(_single_worker(view, count, reloading))
        if reload is not None and reloading:
            fix = tuple(_move(reload, False, "production servers do not watch their code"))
            why = f"{reload.raw}: a development mode that watches every file and runs one process"
            out.append(Finding("verbose-logging", NAME, _site(reload), why,
                               "uvicorn: --reload in production", fix, reload.key))  # fmt: skip
        level = by.get("log_level")
        if level and level.written and level.value in ("debug", "trace"):
            fix = tuple(_move(level, "info", "uvicorn's default level"))
            why = f"{level.raw}: every request logs at {level.value} level"
            out.append(Finding("verbose-logging", NAME, _site(level), why,
                               f"uvicorn: {level.value} logging", fix, level.key))  # fmt: skip
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        by = {s.setting.name: s for s in seen}
        moves: list[Move] = []
        if (count := by.get("workers")) and not (by.get("reload") and by["reload"].value):
            best, rule = workers(view, 1, 0, 2)
            moves += _move(count, best, rule)
            moves += _move(count, best * 2, f"twice {rule}")
        installed = implementations(view)
        if (http := by.get("http")) and http.value == "h11" and "httptools" in installed:
            moves += _move(http, "httptools", "httptools is installed: a faster HTTP parser")
        if (loop := by.get("loop")) and loop.value == "asyncio" and "uvloop" in installed:
            moves += _move(loop, "uvloop", "uvloop is installed: a faster event loop")
        if (keep := by.get("timeout_keep_alive")) and keep.value == 5:
            moves += _move(keep, 15, "15 s: clients behind a proxy reuse their connections")
        if (log := by.get("access_log")) and log.value is True:
            moves += _move(log, False, "no log line per request on the hot path")
        return moves


def implementations(view: View) -> set[str]:
    """httptools and uvloop when installed (`uvicorn[standard]` brings both)."""
    found: set[str] = {p for p in ("httptools", "uvloop") if p in view.packages}
    for path in view.repo.under(view.sandbox.context):
        name = path.rsplit("/", 1)[-1]
        manifest = name.startswith("requirements") or name in ("pyproject.toml", "Pipfile")
        if manifest and _STANDARD.search(view.repo.read(path) or ""):
            found |= {"httptools", "uvloop"}
    return found


def _single_worker(view: View, count: Seen, reloading: bool) -> Finding:
    best, rule = workers(view, 1, 0, 2)
    if count.written:
        why = f"{count.raw}: one process serves every request"
    else:
        why = "uvicorn runs one process: nothing sets --workers or WEB_CONCURRENCY"
    if reloading:
        why += "; --reload also ignores --workers"
    fix = () if reloading or best < 2 else tuple(_move(count, best, rule))
    title = f"uvicorn: {best} workers instead of 1" if best > 1 else "uvicorn: one worker"
    return Finding("single-worker", NAME, _site(count), why, title, fix, count.key)


def _env_adder(view: View, option: Option) -> tuple[Site, Setter] | None:
    setter = env_adder(view, option.env) if not option.switch else None
    site = envsites.add_site(view)
    return (site, setter) if setter is not None and site is not None else None


def _move(seen: Seen, value: Value, rule: str) -> list[Move]:
    move = make_move(seen, value, rule)
    return [move] if move else []


def _site(seen: Seen) -> Site:
    return seen.site or Site(".mutbot.yml", 1, "config")


PACK = Uvicorn()
