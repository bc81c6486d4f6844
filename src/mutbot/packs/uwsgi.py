"""uWSGI (pure): its options on the command line (`--processes 4`), in the ini file it loads
(`--ini uwsgi.ini`, `uwsgi app.ini`; the `[uwsgi]` section or the one named after a colon) and
in `UWSGI_*` environment variables. A missing option is added to the ini file in its own style,
else to the command line. Sockets, addresses, users and the app to load are never changed."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mutbot.discover.process import Launch
from mutbot.edits import EditError
from mutbot.packs import cmdline, envsites, pyserver
from mutbot.packs.appsettings import proven
from mutbot.packs.model import Edit, Finding, Move, Seen, Setter, Setting, Site, Value, make_move
from mutbot.packs.pyserver import workers
from mutbot.packs.view import View

NAME = "uwsgi"
_SECTION = re.compile(r"[ \t]*\[(?P<name>[^\]]+)\][ \t]*(?:[#;].*)?")
_OPTION = re.compile(r"(?P<key>[A-Za-z0-9][\w.-]*)(?P<sep>[ \t]*[=:][ \t]*)(?P<value>.*?)[ \t]*")
_FALSE = ("false", "off", "no", "0")


_NEVER = (
    "http", "http-socket", "https", "https-socket", "http11-socket", "socket", "uwsgi-socket",
    "shared-socket", "chmod-socket", "chown-socket", "uid", "gid", "chdir", "module",
    "wsgi-file", "callable", "mount", "home", "virtualenv", "pythonpath", "plugins",
    "protocol", "stats", "pidfile", "daemonize", "logto", "static-map", "master-fifo",
)  # fmt: skip
SETTINGS: dict[str, Setting] = {
    "processes": Setting("processes", "int", 1, "worker processes", low=1,
                       interacts=("threads", "cpus", "memory")),
    "threads": Setting("threads", "int", 1, "threads per worker process", low=1,
                     interacts=("processes", "enable-threads")),
    "enable-threads": Setting("enable-threads", "bool", False,
                            "Python threads for the app (on by itself when threads > 1)"),
    "harakiri": Setting("harakiri", "int", 0, "seconds before a stuck request's worker is "
                      "killed (0: never)", unit="s", low=0),
    "listen": Setting("listen", "int", 100, "the socket's backlog of waiting connections",
                    low=1, unit="connections"),
    "max-requests": Setting("max-requests", "int", 0, "requests before a worker is recycled "
                          "(0: never)", low=0),
    "buffer-size": Setting("buffer-size", "int", 4096, "bytes for a request's headers",
                         unit="bytes", low=1),
    "master": Setting("master", "bool", False, "a master process that manages the workers"),
    "disable-logging": Setting("disable-logging", "bool", False, "no log line per request"),
    **{n: Setting(n, "str", None, "where it listens, who it runs as, what it loads", "never")
       for n in _NEVER},
}  # fmt: skip
# Option names as written on the command line, the first the form added.
FLAGS: dict[str, tuple[str, ...]] = {name: (f"--{name}",) for name in SETTINGS}
FLAGS |= {
    "processes": ("--processes", "--workers", "-p"), "harakiri": ("--harakiri", "-t"),
    "listen": ("--listen", "-l"), "max-requests": ("--max-requests", "-R"),
    "buffer-size": ("--buffer-size", "-b"), "master": ("--master", "-M"),
    "enable-threads": ("--enable-threads", "-T"), "disable-logging": ("--disable-logging", "-L"),
    "socket": ("--socket", "-s"), "module": ("--module", "-w"), "home": ("--home", "-H"),
}  # fmt: skip
_ALIASES = {"workers": "processes"}
_SWITCHES = [f for n, s in SETTINGS.items() if s.type == "bool" for f in FLAGS[n]]


@dataclass(frozen=True)
class Ini:
    """The ini file the server loads: its section's options as written, where to add one."""

    path: str
    section: str
    options: dict[str, tuple[str, int, int, int, str]]  # name -> (key, line, start, end, sep)
    end: int  # the offset after the section's last option line
    sep: str  # ' = ' or '='


def ini_of(view: View) -> Ini | None:
    launch = view.launch
    if launch is None or launch.program != "uwsgi":
        return None
    argv = list(launch.argv[1:])
    named = [b for a, b in itertools.pairwise(argv) if a == "--ini"]
    named += [a.split("=", 1)[1] for a in argv if a.startswith("--ini=")]
    named += [a for a in argv if not a.startswith("-") and ".ini" in a]
    for name in named:
        file, _, section = name.partition(":")
        path = view.in_image(file)
        text = view.repo.read(path) if path else None
        if path and text is not None:
            return _read_ini(path, text, section or "uwsgi")
    return None


def _read_ini(path: str, text: str, section: str) -> Ini:
    options: dict[str, tuple[str, int, int, int, str]] = {}
    inside, end, offset, seps = False, -1, 0, list[str]()
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\r\n")
        if header := _SECTION.fullmatch(body):
            inside = header["name"].strip() == section
            end = offset + len(line) if inside else end
        elif inside and (found := _OPTION.fullmatch(body)):
            key = found["key"].lower()
            start, stop = offset + found.start("value"), offset + found.end("value")
            options[_ALIASES.get(key, key)] = (key, number, start, stop, found["sep"])
            end = offset + len(line)
            seps.append(found["sep"])
        offset += len(line)
    return Ini(path, section, options, end, seps[0] if seps else " = ")


class UwsgiPack:
    name = NAME
    settings: Mapping[str, Setting] = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        launch = view.launch
        if launch is None or launch.program != "uwsgi":
            return []
        ini = ini_of(view)
        flags = {f.name: f for f in cmdline.flags(view, launch, _SWITCHES)}
        out = []
        for name, setting in SETTINGS.items():
            flag = next((flags[n] for n in FLAGS[name] if n in flags), None)
            if flag is not None:
                out.append(_from_flag(view, launch, setting, flag))
            elif ini is not None and name in ini.options:
                out.append(_from_ini(view, setting, ini))
            elif (env := envsites.env_site(view, _env_name(name))) is not None:
                out.append(_from_env(view, setting, env))
            elif setting.safety == "tune":
                out.append(_missing(view, launch, setting, ini))
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        by_name = {s.setting.name: s for s in seen}
        out: list[Finding] = []
        if not by_name:
            return out
        processes, threads = by_name["processes"], by_name["threads"]
        n, rule = workers(view, 1, 0, 2)  # a process a CPU, at least 2
        if processes.value == 1:
            each = f", {threads.value} threads each" if threads.value not in (1, None) else ""
            why = f"{said(processes)}: one worker process serves every request{each}"
            out.append(_finding(view, "single-worker", processes, n, rule, why))
        elif processes.written and "%k" in (processes.raw or ""):
            why = (
                f"{said(processes)}: uWSGI's %k counts the host's CPUs, not the container's"
                f" limit of {view.sandbox.cpus:g}"
            )
            title = "uWSGI: processes from the CPU limit, not the host's CPU count"
            out.append(_finding(view, "limits-unseen", processes, n, rule, why, title))
        enabled = by_name["enable-threads"]
        if enabled.value is True and threads.value == 1:
            why = f"{said(enabled)} but {said(threads)}: each process serves one request at once"
            rule = "4 threads per process: requests that wait on I/O overlap"
            out.append(_finding(view, "single-worker", threads, 4, rule, why))
        harakiri = by_name["harakiri"]
        if harakiri.value == 0:
            why = f"{said(harakiri)}: a stuck request holds its worker forever"
            rule = "kill a worker stuck on one request for 60 s"
            out.append(_finding(view, "missing-timeout", harakiri, 60, rule, why))
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        out = []
        for s in seen:
            v = s.value
            steps: list[tuple[Value, str]] = []
            if s.setting.name == "processes" and isinstance(v, int):
                steps = [(v * 2, "double it"), (v + 1, "one more"), (v - 1, "one fewer")]
            elif s.setting.name == "threads" and isinstance(v, int):
                steps = [(v * 2, "double it"), (v // 2, "halve it")]
            elif s.setting.name == "listen" and isinstance(v, int):
                steps = [(v * 2, "double the backlog")]
            elif s.setting.name == "disable-logging" and v is False:
                steps = [(True, "no log line per request")]
            tried = {repr(v)}
            for value, rule in steps:
                if repr(value) not in tried and value and (move := make_move(s, value, rule)):
                    tried.add(repr(value))
                    out.append(move)
        return out


def _finding(
    view: View, category: str, seen: Seen, value: int, rule: str, why: str, title: str = ""
) -> Finding:
    move = make_move(seen, value, rule) if value > 1 else None  # one worker fits: no fix
    change = move.change if move else Move(seen, value, rule, ()).change
    site = seen.site or Site(view.sandbox.dockerfile, 1, "file")
    title = title or change[:1].upper() + change[1:]
    return Finding(category, NAME, site, why, title, (move,) if move else (), seen.key)


def said(seen: Seen) -> str:
    """'threads = 1', or 'no threads (default 1)'."""
    if seen.written:
        return f"{seen.setting.name} = {seen.raw}"
    return f"no {seen.setting.name} (default {_text(seen.value)})"


def _parse(setting: Setting, text: str | None) -> Value:
    """A value as uWSGI reads it; None: known only when it runs (`%k`, `$(VAR)`)."""
    if setting.type == "bool":
        return text is None or text.strip().lower() not in _FALSE
    if setting.type == "int":
        return int(text) if text is not None and text.strip().isdigit() else None
    return text


def _text(value: Value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _env_name(name: str) -> str:
    return "UWSGI_" + name.upper().replace("-", "_")


def _from_flag(view: View, launch: Launch, setting: Setting, flag: cmdline.Flag) -> Seen:
    names = FLAGS[setting.name]
    site = Site(flag.path, flag.line or 1, "flag") if flag.path else None
    reaches = pyserver.reaches(view, flag.path, "flag") if flag.path else "command"
    setter = None
    if setting.safety == "tune" and flag.value is not None and site is not None:
        setter = _flag_setter(view, launch, names)
    raw = flag.name if flag.value is None else flag.value
    return Seen(NAME, setting, _parse(setting, flag.value), True, site, raw, reaches, setter)


def _flag_setter(view: View, launch: Launch, names: tuple[str, ...]) -> Setter | None:
    if cmdline.set_flag(view, launch, names, "1") is None:
        return None

    def setter(value: Value) -> tuple[Edit, ...]:
        edits = cmdline.set_flag(view, launch, names, _text(value))
        if edits is None:
            raise EditError(f"uwsgi {names[0]}: the command line cannot be edited safely")
        return edits

    return setter


def _from_ini(view: View, setting: Setting, ini: Ini) -> Seen:
    key, line, start, end, _ = ini.options[setting.name]
    text = view.repo.read(ini.path) or ""
    raw = text[start:end]
    setter = None
    if setting.safety == "tune" and view.editable(ini.path):

        def setter(value: Value) -> tuple[Edit, ...]:
            edits = (Edit(ini.path, start, end, _text(value)),)
            proven(ini.path, text, edits, f"{ini.section}.{key}", _text(value))
            return edits

    site = Site(ini.path, line, "file")
    return Seen(
        NAME, setting, _parse(setting, raw), True, site, raw, view.reaches(ini.path), setter
    )


def _from_env(view: View, setting: Setting, env: envsites.EnvSite) -> Seen:
    setter = None
    name = _env_name(setting.name)
    if setting.safety == "tune" and env.path and view.editable(env.path):

        def setter(value: Value) -> tuple[Edit, ...]:
            edits = envsites.set_env(view, name, _text(value))
            if edits is None:
                raise EditError(f"{name}: cannot be set where it is written")
            return edits

    reaches = pyserver.reaches(view, env.path, "env") if env.path else "environment"
    return Seen(
        NAME, setting, _parse(setting, env.value), True, env.site, env.value, reaches, setter
    )


def _missing(view: View, launch: Launch, setting: Setting, ini: Ini | None) -> Seen:
    """Not written: its default, and a setter that adds it to the ini file (its own style),
    else to the command line."""
    name = setting.name
    if ini is not None and view.editable(ini.path):
        text = view.repo.read(ini.path) or ""
        at = ini.end if ini.end >= 0 else len(text)
        lead = "" if at == 0 or text[at - 1] == "\n" else "\n"
        line = text.count("\n", 0, at) + 1

        def setter(value: Value) -> tuple[Edit, ...]:
            edits = (Edit(ini.path, at, at, f"{lead}{name}{ini.sep}{_text(value)}\n"),)
            proven(ini.path, text, edits, f"{ini.section}.{name}", _text(value))
            return edits

        site = Site(ini.path, line, "file")
        return Seen(
            NAME, setting, setting.default, False, site, None, view.reaches(ini.path), setter
        )
    flag_setter = _flag_setter(view, launch, FLAGS[name]) if setting.type != "bool" else None
    command = cmdline.command(view, launch)
    if flag_setter is not None and command is not None:
        text = view.repo.read(command.path) or ""
        site = Site(command.path, text.count("\n", 0, command.words[0].start) + 1, "flag")
        return Seen(
            NAME,
            setting,
            setting.default,
            False,
            site,
            None,
            pyserver.reaches(view, command.path, "flag"),
            flag_setter,
        )
    where = Site(ini.path, 1, "file") if ini else None
    reaches = view.reaches(ini.path) if ini else "none"
    return Seen(NAME, setting, setting.default, False, where, None, reaches)


PACK = UwsgiPack()
