"""What the Python web servers' packs share (pure): an option as each place writes it (a flag,
a name in a Python config file, an environment variable), reading it from each place with the
edit that changes it there, the place a missing one is added, the app's kind (WSGI or ASGI)
and the worker count that fits the sandbox's CPU and memory limits."""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mutbot.discover import pyvalues
from mutbot.discover.process import Launch, values
from mutbot.discover.serverfiles import Recording
from mutbot.packs import cmdline, envsites
from mutbot.packs.model import Edit, Reaches, Seen, Setter, Setting, Site, Value
from mutbot.packs.view import View

MIB = 1024 * 1024
PER_WORKER = 60 * MIB  # a small Python web app's worker process, resident
HEADROOM = 0.8  # the share of the memory limit workers may fill
_ASGI = re.compile(r"\b(fastapi|starlette|quart|litestar|sanic|get_asgi_application)\b")
_WSGI = re.compile(r"\b(flask|get_wsgi_application|bottle|pyramid|falcon)\b")
_ASGI_PACKAGES = {"fastapi", "starlette", "quart", "litestar", "sanic"}
_WSGI_PACKAGES = {"flask", "django", "bottle", "pyramid", "falcon"}


@dataclass(frozen=True)
class Option:
    """One setting of a server and how each place writes it."""

    setting: Setting
    flags: tuple[str, ...] = ()  # the first is the form a new flag takes
    conf: str | None = None  # its name in a Python config file
    env: str | None = None  # a variable the server reads it from
    switch: bool = False  # a flag without a value: present means True
    off: tuple[str, ...] = ()  # switches that mean False: `--no-access-log`


@dataclass(frozen=True)
class Found:
    value: Value
    raw: str
    site: Site
    reaches: Reaches
    setter: Setter | None


def parse(setting: Setting, text: str | None) -> Value:
    """The typed value of text as written; None when it is not a value of the setting's type
    (an expression, `$(nproc)`)."""
    if text is None:
        return None
    if setting.type == "int":
        return int(text) if re.fullmatch(r"[+]?\d+", text.strip()) else None
    if setting.type == "float":
        try:
            return float(text)
        except ValueError:
            return None
    if setting.type == "bool":
        lowered = text.strip().lower()
        return True if lowered in ("1", "true", "yes", "on") else False if lowered else None
    if setting.type == "enum" and setting.choices and text not in setting.choices:
        return None
    return text


def text_of(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def reaches(view: View, path: str, form: str) -> Reaches:
    if view.reaches(path) == "none":
        return "none"
    return "command" if form == "flag" else "environment" if form == "env" else "build"


def _guarded(view: View, path: str | None, setter: Setter) -> Setter | None:
    return setter if path is not None and view.editable(path) else None


def _edits(found: tuple[Edit, ...] | None) -> tuple[Edit, ...]:
    return found or ()


def from_command(view: View, launch: Launch, options: Sequence[Option]) -> dict[str, Found]:
    switches = [f for o in options if o.switch for f in (*o.flags, *o.off)]
    every = cmdline.flags(view, launch, switches)
    where = Site(launch.source.path, launch.source.line or 1, "flag")
    out: dict[str, Found] = {}
    for option in options:
        if option.switch:
            names = (*option.flags, *option.off)
            hit = next((f for f in reversed(every) if f.name in names), None)
            value: Value = (hit.name in option.flags) if hit else None
        else:
            hit = cmdline.flag(view, launch, option.flags)
            value = parse(option.setting, hit.value) if hit else None
        if hit is None:
            continue
        site = Site(hit.path, hit.line or 1, "flag") if hit.path else where
        raw = hit.name if option.switch else f"{hit.name} {hit.value}"

        def setter(v: Value, names: tuple[str, ...] = option.flags) -> tuple[Edit, ...]:
            return _edits(cmdline.set_flag(view, launch, names, v))

        change = None if option.switch else _guarded(view, hit.path, setter)
        out[option.setting.name] = Found(value, raw, site, reaches(view, site.path, "flag"), change)
    return out


def from_args_env(view: View, name: str, options: Sequence[Option]) -> dict[str, Found]:
    """Options held in a variable as a command line (`GUNICORN_CMD_ARGS`)."""
    site = envsites.env_site(view, name)
    if site is None:
        return {}
    switches = [f for o in options if o.switch for f in o.flags]
    every = cmdline.read_args(site.value, switches)
    text = view.repo.read(site.path) if site.path else None
    exact = site.span is not None and text is not None and text[slice(*site.span)] == site.value
    where = site.site or Site(".mutbot.yml", 1, "env")
    out: dict[str, Found] = {}
    for option in options:
        hits = [f for f in every if f.name in option.flags]
        picked = None if option.switch else cmdline.args_flag(site.value, option.flags)
        hit = picked or (hits[-1] if hits else None)
        if hit is None:
            continue
        value = True if option.switch else parse(option.setting, hit.value)

        def setter(v: Value, names: tuple[str, ...] = option.flags) -> tuple[Edit, ...]:
            new = cmdline.set_in_args(site.value, names, v)
            return _edits(envsites.set_env(view, name, new) if new is not None else None)

        ok = exact and not option.switch
        raw = f"{name}: {hit.name}" + ("" if option.switch else f" {hit.value}")
        out[option.setting.name] = Found(
            value, raw, where, reaches(view, where.path, "env"),
            _guarded(view, site.path, setter) if ok else None,
        )  # fmt: skip
    return out


def from_env(view: View, options: Sequence[Option]) -> dict[str, Found]:
    """Options a variable sets on its own (`WEB_CONCURRENCY`, `UVICORN_TIMEOUT_KEEP_ALIVE`)."""
    out: dict[str, Found] = {}
    for option in options:
        site = envsites.env_site(view, option.env) if option.env else None
        if site is None or option.env is None:
            continue
        where = site.site or Site(".mutbot.yml", 1, "env")

        def setter(v: Value, name: str = option.env) -> tuple[Edit, ...]:
            return _edits(envsites.set_env(view, name, text_of(v)))

        ok = site.span is not None
        out[option.setting.name] = Found(
            parse(option.setting, site.value), f"{option.env}={site.value}", where,
            reaches(view, where.path, "env"), _guarded(view, site.path, setter) if ok else None,
        )  # fmt: skip
    return out


def from_conf(view: View, path: str, options: Sequence[Option]) -> dict[str, Found]:
    """Module-level `name = value` of a Python config file (gunicorn.conf.py)."""
    text = view.repo.read(path)
    tree = pyvalues.parse(text)
    if text is None or tree is None:
        return {}
    names = pyvalues.assignments(tree)
    env = Recording(values(view.launch.env) if view.launch else {})
    starts = _starts(text)
    out: dict[str, Found] = {}
    for option in options:
        node = _assigned(tree, option.conf) if option.conf else None
        if node is None:
            continue
        read_env = Recording(env)
        evaluated = _python_value(node, names, read_env)
        value = parse(option.setting, evaluated) if isinstance(evaluated, str) else evaluated
        span = _span(starts, text, node)
        raw = f"{option.conf} = {ast.get_source_segment(text, node) or ast.unparse(node)}"
        site = Site(path, node.lineno, "file")
        setter: Setter | None = None
        if read_env.read and read_env.read[0] in (view.launch.env if view.launch else {}):
            var = read_env.read[0]  # the file reads a variable the image sets: change it there
            found = from_env(view, [Option(option.setting, env=var)]).get(option.setting.name)
            setter = found.setter if found else None
        elif span is not None:
            target = _constant_span(starts, text, node, value) or span

            def setter_at(v: Value, at: tuple[int, int] = target) -> tuple[Edit, ...]:
                return (Edit(path, *at, _python(v, text[at[0] : at[1]])),)

            setter = _guarded(view, path, setter_at)
        out[option.setting.name] = Found(value, raw, site, reaches(view, path, "file"), setter)
    return out


def conf_adder(view: View, path: str, option: Option) -> tuple[Site, Setter] | None:
    """Appends `name = value` to a Python config file the server reads."""
    text = view.repo.read(path)
    if text is None or option.conf is None or not view.editable(path):
        return None
    line = text.count("\n") + (1 if text.endswith("\n") or not text else 2)

    def setter(v: Value, name: str = option.conf) -> tuple[Edit, ...]:
        lead = "" if text.endswith("\n") or not text else "\n"
        return (Edit(path, len(text), len(text), f"{lead}{name} = {_python(v, '')}\n"),)

    return Site(path, line, "file"), setter


def seen(
    pack: str, option: Option, found: Found | None, adders: Sequence[tuple[Site, Setter] | None],
    view: View,
) -> Seen | None:  # fmt: skip
    """The setting as written, else at its default with the first place it can be added."""
    never = option.setting.safety == "never"
    if found is not None:
        setter = None if never else found.setter
        return Seen(pack, option.setting, found.value, True, found.site, found.raw,
                    found.reaches, setter)  # fmt: skip
    if never:
        return None
    add = next((a for a in adders if a is not None), None)
    if add is None:
        return Seen(pack, option.setting, option.setting.default, False, None)
    site, setter = add
    return Seen(pack, option.setting, option.setting.default, False, site, None,
                reaches(view, site.path, site.form), setter)  # fmt: skip


def command_adder(view: View, launch: Launch, option: Option) -> tuple[Site, Setter] | None:
    found = cmdline.command(view, launch)
    if found is None or not option.flags or not view.editable(found.path):
        return None
    text = view.repo.read(found.path) or ""
    line = text.count("\n", 0, found.words[0].start) + 1

    def setter(v: Value) -> tuple[Edit, ...]:
        if option.switch:
            name = option.flags[0] if v else (option.off or ("",))[0]
            return _edits(cmdline.set_switch(view, launch, name) if name else None)
        return _edits(cmdline.set_flag(view, launch, option.flags, v))

    return Site(found.path, line, "flag"), setter


def env_adder(view: View, name: str | None, args: str | None = None) -> Setter | None:
    """A setter through a new `ENV` line: `name=value`, or `args="--flag value"`."""
    if name is None or envsites.add_site(view) is None or envsites.env_site(view, name):
        return None

    def setter(v: Value) -> tuple[Edit, ...]:
        text = f"{args} {text_of(v)}" if args else text_of(v)
        return _edits(envsites.set_env(view, name, text))

    return setter


def app_kind(view: View, launch: Launch) -> str | None:
    """ "asgi" or "wsgi" from the app module the command names (`main:app`), else from the
    frameworks installed; None when it cannot tell."""
    for word in launch.argv[1:]:
        module = word.split(":", 1)[0] if re.fullmatch(r"[\w.]+:[\w.()]+", word) else None
        if module is None:
            continue
        base = module.replace(".", "/")
        for name in (f"{base}.py", f"{base}/__init__.py"):
            path = view.in_image(name)
            text = view.repo.read(path) if path else None
            if text and (_ASGI.search(text) or _WSGI.search(text)):
                return "asgi" if _ASGI.search(text) else "wsgi"
    asgi, wsgi = view.packages & _ASGI_PACKAGES, view.packages & _WSGI_PACKAGES
    return "asgi" if asgi and not wsgi else "wsgi" if wsgi and not asgi else None


def cpus(view: View) -> int:
    return max(1, math.ceil(view.sandbox.cpus))


def memory_cap(view: View) -> int:
    """How many worker processes fit in the memory headroom."""
    return max(1, int(view.sandbox.memory * HEADROOM // PER_WORKER))


def workers(view: View, per_cpu: int, plus: int, least: int) -> tuple[int, str]:
    """per_cpu × CPUs + plus (at least `least`), capped by the memory headroom."""
    count = cpus(view)
    wanted = max(least, per_cpu * count + plus)
    formula = f"{per_cpu} × CPUs + {plus}" if plus else "CPUs" if per_cpu == 1 else ""
    rule = f"{formula} (limit {view.sandbox.cpus:g} CPU)" + (
        f", at least {least}" if least > per_cpu * count + plus else ""
    )
    cap = memory_cap(view)
    if cap < wanted:
        mib = view.sandbox.memory // MIB
        return cap, f"{rule}: {wanted}, capped to {cap} by {mib} MiB at ~60 MiB a worker"
    return wanted, f"{rule}: {wanted}"


def located(view: View, name: str) -> str | None:
    return view.in_image(name) or (name if name in view.repo.fileset else None)


# Python config files: values and the spans that write them


def _starts(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _offset(starts: list[int], text: str, lineno: int, col: int) -> int:
    line = text[starts[lineno - 1] : starts[lineno] if lineno < len(starts) else len(text)]
    return starts[lineno - 1] + len(line.encode()[:col].decode(errors="ignore"))


def _span(starts: list[int], text: str, node: ast.expr) -> tuple[int, int] | None:
    if node.end_lineno != node.lineno or node.end_col_offset is None:
        return None
    return (
        _offset(starts, text, node.lineno, node.col_offset),
        _offset(starts, text, node.lineno, node.end_col_offset),
    )


def _assigned(tree: ast.Module, name: str) -> ast.expr | None:
    found = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            found = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found = node.value if node.target.id == name and node.value else found
    return found


def _python_value(node: ast.expr, names: dict[str, ast.expr], env: Recording) -> Value | str | None:
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, bool)):
        return node.value
    return pyvalues.value(node, names, env)


def _constant_span(
    starts: list[int], text: str, node: ast.expr, value: Value
) -> tuple[int, int] | None:
    """The one constant inside an expression that gives its value (the default of
    `int(os.environ.get("WORKERS", "2"))`), so the rest of the expression stays."""
    if isinstance(node, ast.Constant) or value is None:
        return None
    hits = [
        n for n in ast.walk(node) if isinstance(n, ast.Constant) and str(n.value) == text_of(value)
    ]
    return _span(starts, text, hits[0]) if len(hits) == 1 else None


def _python(value: Value, written: str) -> str:
    """`value` as a Python literal, quoted like the text it replaces."""
    if isinstance(value, str) or (written[:1] in "'\"" and written):
        quote = written[0] if written[:1] in "'\"" else '"'
        text = text_of(value)
        return f"{quote}{text}{quote}" if quote not in text and "\\" not in text else repr(text)
    return repr(value)
