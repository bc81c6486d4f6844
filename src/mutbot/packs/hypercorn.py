"""Hypercorn (pure): its options on the command line (`-w 4`, `--workers=4`) and in the config
file it loads (`-c hypercorn.toml`, `-c file:hypercorn_conf.py`; a `python:` module is not
read). The command line wins over the file. A missing option is added to the command line,
else to the config file. Addresses, TLS, the user and the paths it serves are never changed."""

from __future__ import annotations

import ast
import itertools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

from mutbot.discover.process import Launch
from mutbot.edits import EditError
from mutbot.packs import cmdline, pyserver
from mutbot.packs.appsettings import proven
from mutbot.packs.model import Edit, Finding, Move, Seen, Setter, Setting, Site, Value, make_move
from mutbot.packs.pyserver import workers
from mutbot.packs.view import View
from mutbot.packs.webapps_modules import parse

NAME = "hypercorn"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)
_KEY = re.compile(r"[ \t]*(?P<key>[A-Za-z_][\w]*)[ \t]*=[ \t]*")

# Hypercorn's own defaults (hypercorn.config.Config).
SETTINGS: dict[str, Setting] = {
    "workers": Setting("workers", "int", 1, "worker processes", low=1,
                       interacts=("cpus", "memory")),
    "worker_class": Setting("worker_class", "enum", "asyncio", "the event loop of a worker",
                            choices=("asyncio", "uvloop", "trio"),
                            interacts=("packages", "app type")),
    "keep_alive_timeout": Setting("keep_alive_timeout", "float", 5.0,
                                  "seconds an idle keep-alive connection stays open", unit="s",
                                  low=0),
    "backlog": Setting("backlog", "int", 100, "connections waiting to be accepted", low=1),
    "graceful_timeout": Setting("graceful_timeout", "float", 3.0,
                                "seconds to finish requests on shutdown", unit="s", low=0),
    "read_timeout": Setting("read_timeout", "int", None, "seconds to wait for a request's data",
                            unit="s", low=1, default_note="no limit"),
    "loglevel": Setting("loglevel", "enum", "INFO", "how much it logs", choices=LEVELS),
    "accesslog": Setting("accesslog", "str", None, "where a line per request goes",
                         default_note="no access log"),
    "debug": Setting("debug", "bool", False, "asyncio's debug mode: slow"),
    **{
        name: Setting(name, "str", None, "where it listens, TLS, who it runs as", "never")
        for name in ("bind", "insecure_bind", "quic_bind", "certfile", "keyfile",
                     "keyfile_password", "ca_certs", "ciphers", "verify_mode", "user", "group",
                     "umask", "root_path", "server_names", "pid_path")
    },
}  # fmt: skip
# Option names on the command line (the first is the form added), by setting.
FLAGS: dict[str, tuple[str, ...]] = {
    "workers": ("--workers", "-w"), "worker_class": ("--worker-class", "-k"),
    "keep_alive_timeout": ("--keep-alive",), "backlog": ("--backlog",),
    "graceful_timeout": ("--graceful-timeout",), "read_timeout": ("--read-timeout",),
    "loglevel": ("--log-level",), "accesslog": ("--access-logfile", "--access-log"),
    "debug": ("--debug",), "bind": ("--bind", "-b"), "insecure_bind": ("--insecure-bind",),
    "quic_bind": ("--quic-bind",), "certfile": ("--certfile",), "keyfile": ("--keyfile",),
    "keyfile_password": ("--keyfile-password",), "ca_certs": ("--ca-certs",),
    "ciphers": ("--ciphers",), "verify_mode": ("--verify-mode",), "user": ("--user", "-u"),
    "group": ("--group", "-g"), "umask": ("--umask", "-m"), "root_path": ("--root-path",),
    "server_names": ("--server-name",), "pid_path": ("--pid", "-p"),
}  # fmt: skip
_SWITCHES = ("--debug", "--reload")


@dataclass(frozen=True)
class Config:
    """The config file the server loads: top-level settings as written, where to add one."""

    path: str
    python: bool  # a Python file, else TOML
    written: dict[str, tuple[int, int, int, object]]  # name -> (line, start, end, value)
    add_at: int  # after the last top-level setting


def config_of(view: View) -> Config | None:
    launch = view.launch
    if launch is None or launch.program != "hypercorn":
        return None
    argv = list(launch.argv[1:])
    named = [b for a, b in itertools.pairwise(argv) if a in ("-c", "--config")]
    named += [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
    for name in named[-1:]:
        if name.startswith("python:"):
            return None
        path = view.in_image(name.removeprefix("file:"))
        text = view.repo.read(path) if path else None
        if path and text is not None:
            return _read_python(path, text) if name.startswith("file:") else _read_toml(path, text)
    return None


def _read_toml(path: str, text: str) -> Config:
    table = _TABLE.search(text)
    top = text[: table.start()] if table else text
    written: dict[str, tuple[int, int, int, object]] = {}
    offset, add_at = 0, 0
    for number, line in enumerate(top.splitlines(keepends=True), 1):
        found = _KEY.match(line)
        rest = line[found.end() :].rstrip("\r\n") if found else ""
        for cut in [i for i, c in enumerate(rest) if c == "#"] + [len(rest)]:
            raw = rest[:cut].rstrip()
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                continue
            if found:
                start = offset + found.end()
                written[found["key"]] = (number, start, start + len(raw), value)
                add_at = offset + len(line)  # a new key goes after the last one
            break
        offset += len(line)
    return Config(path, False, written, add_at)


def _read_python(path: str, text: str) -> Config:
    mod = parse(path, text)
    written: dict[str, tuple[int, int, int, object]] = {}
    for name, value in mod.names.items() if mod else ():
        if mod is not None and value.lineno == value.end_lineno:
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                literal = ast.get_source_segment(text, value)
            written[name] = (value.lineno, *mod.span(value), literal)
    return Config(path, True, written, len(text))


class HypercornPack:
    name = NAME
    settings: Mapping[str, Setting] = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        launch = view.launch
        if launch is None or launch.program != "hypercorn":
            return []
        config = config_of(view)
        switches = cmdline.flags(view, launch, _SWITCHES)
        out = []
        for name, setting in SETTINGS.items():
            if setting.type == "bool":  # a switch: `--debug`
                flag = next((f for f in reversed(switches) if f.name in FLAGS[name]), None)
            else:
                flag = cmdline.flag(view, launch, FLAGS[name])
            if flag is not None:
                out.append(_from_flag(view, launch, setting, flag))
            elif config is not None and name in config.written:
                out.append(_from_config(view, setting, config))
            elif setting.safety == "tune":
                out.append(_missing(view, launch, setting, config))
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        by_name = {s.setting.name: s for s in seen}
        out: list[Finding] = []
        if not by_name:
            return out
        count = by_name["workers"]
        if count.value == 1:
            n, rule = workers(view, 1, 0, 2)  # an event loop a CPU, at least 2
            why = f"{_said(count)}: one worker process serves every request"
            out.append(_finding(view, "single-worker", count, n, rule, why, fix=n > 1))
        level = by_name["loglevel"]
        if str(level.value).upper() == "DEBUG":
            why = f"{_said(level)}: logs at debug level"
            out.append(_finding(view, "verbose-logging", level, "INFO", "log at INFO", why))
        debug = by_name["debug"]
        if debug.value is True:
            why = f"{_said(debug)}: asyncio's debug mode slows every request"
            out.append(_finding(view, "verbose-logging", debug, False, "debug mode off", why))
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        out = []
        for s in seen:
            if s.setter is None:
                continue
            name, value = s.setting.name, s.value
            steps: list[tuple[Value, str]] = []
            if name == "workers" and isinstance(value, int):
                steps = [(value * 2, "double it"), (value + 1, "one more")]
                steps.append((value - 1, "one fewer"))
            elif name == "worker_class" and value == "asyncio" and "uvloop" in view.packages:
                steps = [("uvloop", "uvloop is installed: a faster asyncio event loop")]
            elif name in ("keep_alive_timeout", "backlog") and isinstance(value, int | float):
                steps = [(value * 2, "double it")]
            tried = {value}
            for new, rule in steps:
                if new not in tried and (not isinstance(new, int) or new >= 1):
                    tried.add(new)
                    if move := make_move(s, new, rule):
                        out.append(move)
        return out


def _said(seen: Seen) -> str:
    if seen.written:
        return f"{seen.setting.name} = {seen.raw}"
    return f"no {seen.setting.name} (default {seen.value!r})"


def _finding(
    view: View, category: str, seen: Seen, value: Value, rule: str, why: str, fix: bool = True
) -> Finding:
    move = make_move(seen, value, rule) if fix else None
    change = (move or Move(seen, value, rule, ())).change
    if isinstance(value, bool):
        change = f"turn {seen.setting.name} {'on' if value else 'off'}"
    site = seen.site or Site(view.sandbox.dockerfile, 1, "file")
    return Finding(
        category,
        NAME,
        site,
        why,
        change[:1].upper() + change[1:],
        (move,) if move else (),
        seen.key,
    )


def _parse(setting: Setting, text: str | None) -> Value:
    if setting.type == "bool":
        return True if text is None else text.lower() not in ("false", "0", "no", "off")
    if text is not None and re.fullmatch(r"\d+", text):
        return _typed(setting, int(text))
    if text is not None and re.fullmatch(r"\d*\.\d+|\d+\.\d*", text):
        return _typed(setting, float(text))
    return _typed(setting, text)


def _typed(setting: Setting, value: object) -> Value:
    """`value` when it is in the setting's domain; None: known only when it runs."""
    if isinstance(value, str) and setting.choices == LEVELS:
        value = value.upper()
    if setting.choices:
        return value if value in setting.choices else None
    if setting.type == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if setting.type == "int":
        return value if isinstance(value, int) else None
    if setting.type == "float":
        return value if isinstance(value, int | float) else None
    return value if isinstance(value, str) else None


def _text(value: Value, like: str | None = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).lower() if like and like.islower() else str(value)


def _from_flag(view: View, launch: Launch, setting: Setting, flag: cmdline.Flag) -> Seen:
    site = Site(flag.path, flag.line or 1, "flag") if flag.path else None
    reaches = pyserver.reaches(view, flag.path, "flag") if flag.path else "command"
    setter = None
    value = flag.value
    if value is None and setting.type != "bool":  # `--access-logfile -`: "-" is its value
        at = launch.argv.index(flag.name) if flag.name in launch.argv else -1
        value = launch.argv[at + 1] if 0 <= at < len(launch.argv) - 1 else None
    elif setting.safety == "tune" and value is not None and site is not None:
        setter = _flag_setter(view, launch, FLAGS[setting.name], value)
    raw = flag.name if value is None else value
    return Seen(NAME, setting, _parse(setting, value), True, site, raw, reaches, setter)


def _flag_setter(
    view: View, launch: Launch, names: tuple[str, ...], like: str | None = None
) -> Setter | None:
    if cmdline.set_flag(view, launch, names, "1") is None:
        return None

    def setter(value: Value) -> tuple[Edit, ...]:
        edits = cmdline.set_flag(view, launch, names, _text(value, like))
        if edits is None:
            raise EditError(f"hypercorn {names[0]}: the command line cannot be edited safely")
        return edits

    return setter


def _literal(config: Config, value: Value) -> str:
    if config.python:
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _from_config(view: View, setting: Setting, config: Config) -> Seen:
    line, start, end, value = config.written[setting.name]
    text = view.repo.read(config.path) or ""
    setter = None
    if setting.safety == "tune" and view.editable(config.path):

        def setter(new: Value) -> tuple[Edit, ...]:
            edits = (Edit(config.path, start, end, _literal(config, new)),)
            proven(config.path, text, edits, setting.name, new)
            return edits

    shown = _typed(setting, value)
    return Seen(
        NAME,
        setting,
        shown,
        True,
        Site(config.path, line, "file"),
        text[start:end],
        view.reaches(config.path),
        setter,
    )


def _missing(view: View, launch: Launch, setting: Setting, config: Config | None) -> Seen:
    """Not written: its default, and a setter that adds it to the command line, else to the
    config file."""
    command = cmdline.command(view, launch)
    on_command: Site | None = None
    if command is not None:
        text = view.repo.read(command.path) or ""
        on_command = Site(command.path, text.count("\n", 0, command.words[0].start) + 1, "flag")
    setter = _flag_setter(view, launch, FLAGS[setting.name]) if setting.type != "bool" else None
    default = setting.default
    if setter is not None and command is not None:
        reaches = pyserver.reaches(view, command.path, "flag")
        return Seen(NAME, setting, default, False, on_command, None, reaches, setter)
    if config is not None and view.editable(config.path):
        path, text, at = config.path, view.repo.read(config.path) or "", config.add_at
        lead = "" if at == 0 or text[at - 1] == "\n" else "\n"
        name = setting.name

        def add(value: Value) -> tuple[Edit, ...]:
            edits = (Edit(path, at, at, f"{lead}{name} = {_literal(config, value)}\n"),)
            proven(path, text, edits, name, value)
            return edits

        site = Site(path, text.count("\n", 0, at) + 1, "file")
        return Seen(NAME, setting, setting.default, False, site, None, view.reaches(path), add)
    if command is None:
        return Seen(NAME, setting, default, False, None, None, "none")
    reaches = pyserver.reaches(view, command.path, "flag")
    return Seen(NAME, setting, default, False, on_command, None, reaches)


PACK = HypercornPack()
