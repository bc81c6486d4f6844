"""Web frameworks' production settings (pure): Django's settings module in effect (DEBUG, the
default database's CONN_MAX_AGE), the Flask config object the app loads (DEBUG),
`app.run(debug=True)` when `python app.py` serves, `FastAPI(debug=True)` and SQLAlchemy's
`pool_size`. Secrets, allowed hosts, database addresses and TESTING are seen and never changed.
Reading and editing the modules: mutbot.packs.webapps_modules."""

from __future__ import annotations

import ast
import math
import posixpath
import re
from collections.abc import Mapping

from mutbot.packs.model import Finding, Move, Seen, Setting, Site, Value, make_move
from mutbot.packs.view import View
from mutbot.packs.webapps_modules import (
    NAME,
    Module,
    added,
    added_keyword,
    env_of,
    module,
    module_path,
    python_files,
    text_of,
    written,
)

_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_STAR = re.compile(r"^from\s+(\.*[\w.]*)\s+import\s+\*", re.MULTILINE)
_NEVER_DJANGO = ("SECRET_KEY", "ALLOWED_HOSTS", "TESTING", "CSRF_TRUSTED_ORIGINS",
                 "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")  # fmt: skip
_NEVER_DATABASE = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")
_NEVER_FLASK = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI")
_DEBUG = (("django.DEBUG", "Django"), ("flask.DEBUG", "Flask"), ("flask.run.debug", "app.run"),
          ("fastapi.debug", "FastAPI"))  # fmt: skip


def _never(name: str) -> Setting:
    return Setting(name, "str", None, "a secret, host, address or test switch", "never")


SETTINGS: dict[str, Setting] = {
    "django.DEBUG": Setting("django.DEBUG", "bool", False, "Django's debug mode: every SQL "
                            "query kept in memory, tracebacks served"),
    "django.CONN_MAX_AGE": Setting("django.CONN_MAX_AGE", "int", 0, "seconds a database "
                                   "connection is kept for the next request (0: one per "
                                   "request; None: for ever)", unit="s", low=0),
    "flask.DEBUG": Setting("flask.DEBUG", "bool", False, "Flask's debug mode"),
    "flask.run.debug": Setting("flask.run.debug", "bool", False,
                               "app.run(debug=...): the reloader and the debugger"),
    "fastapi.debug": Setting("fastapi.debug", "bool", False, "FastAPI(debug=...): tracebacks"),
    "sqlalchemy.pool_size": Setting("sqlalchemy.pool_size", "int", 5, "connections the engine "
                                    "keeps open", low=1, interacts=("max_overflow", "workers")),
    **{f"django.{n}": _never(f"django.{n}") for n in _NEVER_DJANGO},
    **{f"django.DATABASES.{n}": _never(f"django.DATABASES.{n}") for n in _NEVER_DATABASE},
    **{f"flask.{n}": _never(f"flask.{n}") for n in _NEVER_FLASK},
}  # fmt: skip


def claims(view: View) -> list[str]:
    """The Python files this pack reads its settings from."""
    return [m.path for m in _django_chain(view)] + [m.path for m in _flask_config(view)[0]]


class WebappsPack:
    name = NAME
    settings: Mapping[str, Setting] = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        out = _django(view) + _flask(view)
        if "fastapi" in view.packages:
            apps = python_files(view, "FastAPI(")
            out += _keyword(view, apps, "FastAPI", "debug", "fastapi.debug")
        if {"sqlalchemy", "flask-sqlalchemy"} & view.packages:
            out += _pool_size(view)
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        by_name = {s.setting.name: s for s in seen}
        out = []
        for name, what in _DEBUG:
            s = by_name.get(name)
            if s is not None and s.value is True:
                why = f"{_said(s)}: {what}'s debug mode is on in the image the service runs"
                title = f"Turn {what}'s debug mode off"
                out.append(_finding("verbose-logging", s, False, "debug mode off", why, title))
        age, engine = by_name.get("django.CONN_MAX_AGE"), by_name.get("django.DATABASES.ENGINE")
        if age is not None and age.value == 0 and "sqlite" not in _engine(view, engine):
            why = f"{_said(age)}: Django opens a new database connection for every request"
            rule = "keep a database connection for 60 s, not one per request"
            title = "Reuse Django's database connections for 60 s"
            out.append(_finding("tiny-pool", age, 60, rule, why, title))
        pool = by_name.get("sqlalchemy.pool_size")
        if pool is not None and pool.value in (1, 2):
            n = max(10, 4 * math.ceil(view.sandbox.cpus))
            why = f"{_said(pool)}: requests queue for a pool of {pool.value}"
            out.append(_finding("tiny-pool", pool, n, f"max(10, 4 per CPU) = {n}", why))
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        out = []
        for s in seen:
            value = s.value
            if s.setter is None or s.setting.type != "int" or not isinstance(value, int):
                continue
            for new, rule in ((value * 2, "double it"), (value // 2, "halve it")):
                if value > 0 and new >= 1 and (move := make_move(s, new, rule)):
                    out.append(move)
        return out


def _engine(view: View, engine: Seen | None) -> str:
    """The database engine in the environment the server sees ("" when it cannot be told)."""
    try:
        node = ast.parse(engine.raw or "", mode="eval").body if engine else None
    except SyntaxError:
        return ""
    return (text_of(node, {}, env_of(view)) or "") if node is not None else ""


def _said(seen: Seen) -> str:
    name = seen.setting.name.split(".", 1)[1]
    if seen.written:
        return f"{name} = {seen.raw} ({seen.site})"
    return f"no {name} ({seen.site}; default {seen.value!r})"


def _finding(
    category: str, seen: Seen, value: Value, rule: str, why: str, title: str | None = None
) -> Finding:
    move = make_move(seen, value, rule)
    change = (move or Move(seen, value, rule, ())).change
    site = seen.site or Site("", 1, "file")
    title = title or change[:1].upper() + change[1:]
    return Finding(category, NAME, site, why, title, (move,) if move else (), seen.key)


# --- Django ---------------------------------------------------------------------------------


def _django_chain(view: View) -> list[Module]:
    """The settings module in effect (DJANGO_SETTINGS_MODULE, else what wsgi.py, asgi.py or
    manage.py set it to) and the modules it star-imports, the module first."""
    found = view.env("DJANGO_SETTINGS_MODULE")
    dotted = found[0] if found else None
    if dotted is None and "django" not in view.packages:
        return []
    files = view.repo.under(view.sandbox.context)
    for name in ("wsgi.py", "asgi.py", "manage.py"):
        for file in (f for f in files if posixpath.basename(f) == name and dotted is None):
            match = _SETTINGS_MODULE.search(view.repo.read(file) or "")
            dotted = match[1] if match else None
    chain: list[Module] = []
    path = module_path(view, dotted) if dotted else None
    while (mod := module(view, path)) is not None and len(chain) < 4:
        chain.append(mod)
        star = _STAR.search(mod.text)
        target = star[1] if star else ""
        if not target.startswith("."):
            path = module_path(view, target) if target else None
            continue
        folder = posixpath.dirname(mod.path)
        for _ in range(len(target) - len(target.lstrip(".")) - 1):
            folder = posixpath.dirname(folder)
        path = posixpath.join(folder, target.lstrip(".").replace(".", "/") + ".py")
    return chain


def _django(view: View) -> list[Seen]:
    chain = _django_chain(view)
    if not chain:
        return []
    out = []
    for name in ("DEBUG", *_NEVER_DJANGO):
        mod = next((m for m in chain if name in m.names), None)
        if mod is not None:
            out.append(written(view, mod, SETTINGS[f"django.{name}"], mod.names[name], name))
    if not any(s.setting.name == "django.DEBUG" for s in out):
        top = chain[0]
        lead = "" if top.text.endswith("\n") or not top.text else "\n"
        site = Site(top.path, top.text.count("\n") + 1, "file")

        def text(value: Value) -> str:
            return f"{lead}DEBUG = {value!r}\n"

        out.append(added(view, top, SETTINGS["django.DEBUG"], site, len(top.text), text, "DEBUG"))
    mod = next((m for m in chain if "DATABASES" in m.names), None)
    return out + (_databases(view, mod) if mod else [])


def _databases(view: View, mod: Module) -> list[Seen]:
    """The default database's entries (never changed) and its CONN_MAX_AGE: in its dict, or
    `dj_database_url.config(conn_max_age=...)`; added in the same style."""
    databases, setting = mod.names["DATABASES"], SETTINGS["django.CONN_MAX_AGE"]
    pairs = zip(getattr(databases, "keys", []), getattr(databases, "values", []), strict=True)
    default = next((v for k, v in pairs if getattr(k, "value", None) == "default"), None)
    if isinstance(default, ast.Call):
        keyword = next((k for k in default.keywords if k.arg == "conn_max_age"), None)
        if keyword is not None:
            fact = mod.fact(default, "conn_max_age")
            return [written(view, mod, setting, keyword.value, fact)]
        return [added_keyword(view, mod, default, "conn_max_age", setting)]
    if not isinstance(default, ast.Dict):
        return []
    entries = {
        k.value: v
        for k, v in zip(default.keys, default.values, strict=True)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }
    out = [
        written(view, mod, SETTINGS[f"django.DATABASES.{n}"], entries[n], f"DATABASES.default.{n}")
        for n in _NEVER_DATABASE
        if n in entries
    ]
    age, fact = entries.get("CONN_MAX_AGE"), "DATABASES.default.CONN_MAX_AGE"
    if isinstance(age, ast.Name) and age.id in mod.names:  # "CONN_MAX_AGE": CONN_MAX_AGE
        fact = age.id
        age = mod.names[fact]
    if age is not None:
        return [*out, written(view, mod, setting, age, fact)]
    return [*out, _added_entry(view, mod, default, fact)]


def _added_entry(view: View, mod: Module, entries: ast.Dict, fact: str) -> Seen:
    """CONN_MAX_AGE added as the dict's last entry, with its indentation, quotes and commas."""
    setting = SETTINGS["django.CONN_MAX_AGE"]
    site = Site(mod.path, entries.lineno, "file")
    last = entries.keys[-1] if entries.keys else None
    if last is None:
        return Seen(NAME, setting, setting.default, False, site, None, view.reaches(mod.path))
    key_start, _ = mod.span(last)
    _, after = mod.span(entries.values[-1])
    rest = mod.text[after:]
    comma = rest.lstrip(" \t").startswith(",")
    at = after + (rest.index(",") + 1 if comma else 0)
    indent = mod.text[mod.text.rfind("\n", 0, key_start) + 1 : key_start]
    multiline = indent.strip() == ""
    quote = mod.text[key_start] if mod.text[key_start] in "'\"" else '"'

    def text(value: Value) -> str:
        gap = f"\n{indent}" if multiline else " "
        entry = f"{quote}CONN_MAX_AGE{quote}: {value!r}"
        return f"{'' if comma else ','}{gap}{entry}{',' if comma and multiline else ''}"

    return added(view, mod, setting, site, at, text, fact)


# --- Flask, FastAPI, SQLAlchemy -----------------------------------------------------------


def _flask_config(view: View) -> tuple[list[Module], ast.ClassDef | None]:
    """The config module `app.config.from_object(...)` loads, and the class in it, if one."""
    if "flask" not in view.packages:
        return [], None
    for caller in python_files(view, "from_object("):
        for call in caller.calls("from_object"):
            arg = call.args[0] if call.args else None
            dotted = arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg) if arg else ""
            if not isinstance(dotted, str) or not dotted:
                continue
            if (mod := module(view, module_path(view, dotted))) is not None:
                return [mod], None
            head, _, name = dotted.rpartition(".")
            mod = module(view, module_path(view, head)) if head else caller
            if mod is not None and (found := _class(mod, name)) is not None:
                return [mod], found
    return [], None


def _class(mod: Module, name: str) -> ast.ClassDef | None:
    return next((n for n in mod.tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)


def _class_names(mod: Module, cls: ast.ClassDef) -> dict[str, tuple[ast.expr, str]]:
    """A config class's settings with their facts, its bases' (in the module) under its own."""
    names: dict[str, tuple[ast.expr, str]] = {}
    for base in reversed(cls.bases):
        if isinstance(base, ast.Name) and (parent := _class(mod, base.id)) and parent is not cls:
            names |= _class_names(mod, parent)
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(target := node.targets[0], ast.Name):
            names[target.id] = (node.value, f"{cls.name}.{target.id}")
    return names


def _flask(view: View) -> list[Seen]:
    mods, cls = _flask_config(view)
    out: list[Seen] = []
    if mods:
        mod = mods[0]
        names = _class_names(mod, cls) if cls else {n: (v, n) for n, v in mod.names.items()}
        for name in ("DEBUG", *_NEVER_FLASK):
            if name in names:
                out.append(written(view, mod, SETTINGS[f"flask.{name}"], *names[name]))
    server = view.listen.server if view.listen else ""
    path = view.in_image(server.split()[1]) if server.startswith("python ") else None
    served = module(view, path)
    if served is not None:
        out += _keyword(view, [served], "run", "debug", "flask.run.debug")
    return out


def _keyword(view: View, mods: list[Module], callee: str, keyword: str, name: str) -> list[Seen]:
    """A constant keyword of the first call to `callee` that passes it."""
    for mod in mods:
        for call in mod.calls(callee):
            found = next((k for k in call.keywords if k.arg == keyword), None)
            if found is not None and isinstance(found.value, ast.Constant):
                fact = mod.fact(call, keyword)
                return [written(view, mod, SETTINGS[name], found.value, fact)]
    return []


def _pool_size(view: View) -> list[Seen]:
    """`create_engine(url, pool_size=N)` in the first module that creates an engine."""
    setting = SETTINGS["sqlalchemy.pool_size"]
    for mod in python_files(view, "create_"):
        for call in mod.calls("create_engine", "create_async_engine"):
            found = next((k for k in call.keywords if k.arg == "pool_size"), None)
            if found is not None:
                return [written(view, mod, setting, found.value, mod.fact(call, "pool_size"))]
            first = call.args[0] if call.args else None
            sqlite = isinstance(first, ast.Constant) and str(first.value).startswith("sqlite")
            if sqlite or any(k.arg == "poolclass" for k in call.keywords):
                return []  # SQLite's pools and a chosen pool class take no pool_size
            return [added_keyword(view, mod, call, "pool_size", setting)]
    return []


PACK = WebappsPack()
