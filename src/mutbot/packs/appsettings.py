"""The app's own settings files (pure): TOML, INI, YAML, JSON, .env and Python conf files the
image holds, read through mutbot.knobs. Only names known to be tuning are `tune` (workers,
threads, caches, pools, log levels, request logs, debug); addresses, identities, secrets,
versions, retries and replicas are `never`; every other name is not seen, so never proposed.

Also the read-back check the server packs use on their own settings files (`proven`)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace

from mutbot.edits import EditError
from mutbot.knobs import Knob, find_knobs, format_of, set_knob
from mutbot.knobs import moves as knob_moves
from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import LOG_LEVELS, Value, is_access_log, level_index, render
from mutbot.packs import webapps
from mutbot.packs.model import Edit, Finding, Move, Seen, Setter, Setting, SettingType, Site
from mutbot.packs.view import View
from mutbot.proposers.base import TargetFile

NAME = "appsettings"
MAX_TEXT = 200_000  # characters: a bigger file is data, not settings
NEVER = frozenset({
    "port", "ports", "host", "hosts", "hostname", "bind", "address", "addr", "url", "urls",
    "uri", "dsn", "endpoint", "domain", "origin", "origins", "secret", "secrets", "key", "keys",
    "token", "tokens", "password", "passwd", "auth", "jwt", "expiry", "expires", "expiration",
    "tls", "ssl", "cert", "certs", "certificate", "user", "username", "uid", "gid", "id", "salt",
    "credential", "credentials", "version", "retries", "retry", "replicas",
})  # fmt: skip
_WORKERS = {"workers", "threads", "processes", "procs", "concurrency"}
_UNIT = {"worker", "thread", "process"}
_CACHE_NUMBERS = {"size", "entries", "items", "max", "capacity", "limit", "ttl", "timeout"}
_CACHE_NUMBERS |= {"seconds", "secs", "sec", "s", "ms", "minutes", "mb", "mib", "memory"}
_CACHE_SWITCHES = {"enabled", "enable", "disabled", "disable", "on", "off", "cache", "caching"}
_POOL_NUMBERS = {"size", "max", "min", "maxsize", "connections", "conns", "limit", "pool"}
_NOT_A_SIZE = {"timeout", "ttl", "recycle", "overflow", "retries", "idle", "ms", "s"}
_NOT_A_SIZE |= {"seconds", "secs", "lifetime", "wait"}
_REQUEST_LOG = re.compile(r"(access|request)s?_log|log_(requests?|access)")
_QUIET = re.compile(r"^(disable|no)_(logging|access_log|request_log)")  # true: no request log
_LOG_OFF = ("", "none", "null", "/dev/null")
# Files other packs read, or no app reads as its settings.
_SKIP_NAMES = re.compile(
    r"(package(-lock)?|composer|tsconfig.*|jsconfig|pyproject|pipfile|poetry|setup|tox|pytest|"
    r"mypy|\.?flake8|\.coveragerc|\.pre-commit-config|mkdocs|\.readthedocs|\.gitlab-ci|"
    r"\.travis|codecov|renovate|chart|values|alembic|\.mutbot|(docker-)?compose.*|"
    r"(gunicorn|uwsgi|uvicorn|hypercorn|nginx|ecosystem).*)(\.[\w.-]+)?",
    re.IGNORECASE,
)
_SKIP_DIRS = {"test", "tests", "testing", "docs", "doc", "examples", "fixtures", "node_modules"}
_SKIP_DIRS |= {".github", ".circleci", "charts", "helm", "k8s", "kubernetes", "deploy"}
_SKIP_DIRS |= {"locale", "locales", "i18n", "translations", "static", "migrations"}
_FOREIGN = re.compile(r"^(services|apiVersion|openapi|swagger)\s*:|^\s*\[uwsgi\]", re.MULTILINE)
_CONFIG_FLAGS = ("-c", "--config", "--ini", "--paste")

_ROLES: tuple[tuple[str, SettingType, str], ...] = (
    ("workers", "int", "worker processes the app starts"),
    ("threads", "int", "threads that serve requests"),
    ("cache", "int", "the app's cache: switched on, its size or its lifetime"),
    ("pool", "int", "connections in a pool"),
    ("conn_max_age", "int", "seconds a database connection is kept for the next request"),
    ("log_level", "enum", "how much the app logs"),
    ("request_log", "bool", "a log line for every request"),
    ("debug", "bool", "debug or verbose mode"),
    ("never", "str", "an address, identity, secret, version or retry count: never changed"),
)
ROLES: dict[str, Setting] = {
    name: Setting(name, kind, None, doc, "never" if name == "never" else "tune",
                  default_note="the app's own default")
    for name, kind, doc in _ROLES
}  # fmt: skip


class Settings(Mapping[str, Setting]):
    """The roles a setting of the app can have (what the catalogue lists); the app names its
    own settings, so each one a scan has seen is answered by its name too."""

    def __init__(self, roles: dict[str, Setting]) -> None:
        self._roles = roles
        self._named: dict[str, Setting] = {}

    def __getitem__(self, name: str) -> Setting:
        return self._named[name] if name in self._named else self._roles[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)

    def named(self, setting: Setting) -> Setting:
        self._named[setting.name] = setting
        return setting


SETTINGS = Settings(ROLES)


def words(key: str) -> list[str]:
    """The words of a dotted key, lower case: 'Cache.SizeLimit' -> ['cache', 'size', 'limit']."""
    out: list[str] = []
    for part in key.split("."):
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", part)
        out += [w for w in re.split(r"[_\-\s]+", spaced.lower()) if w]
    return out


def role(key: str, kind: str, choices: tuple[str, ...] = ()) -> str | None:
    """What a setting is by its name and type: a `SETTINGS` name, or None (not seen)."""
    every, name = set(words(key)), words(key.rsplit(".", 1)[-1])
    if not name:
        return None
    snake = "_".join(name)
    if NEVER & every:
        return "never"
    if kind in ("int", "float") and "age" in name and {"conn", "connection", "connections"} & every:
        return "conn_max_age"
    counted = name[-1] in ("count", "number") and bool(_UNIT & set(name))
    if kind == "int" and (name[-1] in _WORKERS or counted):
        return "threads" if any(w.startswith("thread") for w in name) else "workers"
    if {"cache", "caching"} & every and (
        (kind == "bool" and (name[-1] in _CACHE_SWITCHES or name[0] in ("use", "enable", "no")))
        or (kind in ("int", "float") and name[-1] in _CACHE_NUMBERS)
    ):
        return "cache"
    pool = "pool" in every or (name[-1] in ("connections", "conns") and "max" in name)
    if kind == "int" and pool and name[-1] in _POOL_NUMBERS and not _NOT_A_SIZE & set(name):
        return "pool"
    if kind == "enum" and choices == LOG_LEVELS:
        return "log_level"
    if kind in ("bool", "str") and (
        _REQUEST_LOG.search(snake) or _QUIET.search(snake) or is_access_log(snake)
    ):
        return "request_log"
    if kind == "bool" and {"debug", "verbose"} & set(name):
        return "debug"
    return None


def settings_files(view: View) -> list[str]:
    """The settings files the image holds that the app reads and no other pack does."""
    owned = _server_configs(view) | set(webapps.claims(view))
    out = []
    for path in view.repo.under(view.sandbox.context):
        parts = path.split("/")
        fmt = format_of(path)
        if fmt is None or path in owned:
            continue
        if _SKIP_NAMES.fullmatch(parts[-1]) or _SKIP_DIRS & {p.lower() for p in parts[:-1]}:
            continue
        text = view.repo.read(path)
        if text is None or len(text) > MAX_TEXT or _FOREIGN.search(text):
            continue
        if view.reaches(path) == "build":
            out.append(path)
    return out


def _server_configs(view: View) -> set[str]:
    """The files the server's own command names as its config (its pack reads them)."""
    if view.launch is None:
        return set()
    argv = list(view.launch.argv)
    names = [b for a, b in itertools.pairwise(argv) if a in _CONFIG_FLAGS]
    for word in argv:
        flag, equals, value = word.partition("=")
        if equals and flag in _CONFIG_FLAGS:
            names.append(value)
    names += [a for a in argv[1:] if a.endswith(".ini")]
    found = (view.in_image(n.removeprefix("file:").split(":", 1)[0]) for n in names)
    return {f for f in found if f}


def proven(path: str, old: str, edits: tuple[Edit, ...], key: str, expected: object) -> None:
    """EditError unless `path` reads back, after `edits`, `expected` at `key` and every other
    setting as before (the file's own format's parser)."""
    new = old
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        new = new[: edit.start] + edit.text + new[edit.end :]
    fmt = format_of(path)
    if fmt is None:
        raise EditError(f"{path}: not a settings file mutbot can read back")
    try:
        before, after = fmt.read(old), fmt.read(new)
    except ParseError as exc:
        raise EditError(f"{path}: the edit breaks the file: {exc}") from exc
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    if changed - {key} or after.get(key) != expected:
        raise EditError(f"{path}: the edit reads {after.get(key)!r} at {key}, changes {changed}")


class AppSettingsPack:
    name = NAME
    settings: Mapping[str, Setting] = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        found: list[tuple[str, Seen]] = []
        for path in settings_files(view):
            found += _file_settings(view, path)
        counts: dict[str, int] = {}
        for key, _ in found:
            counts[key] = counts.get(key, 0) + 1
        out = []
        for key, s in found:  # a name two files share is told apart by its file
            path = s.site.path if s.site else ""
            name = key if counts[key] == 1 else f"{path}:{key}"
            out.append(replace(s, setting=SETTINGS.named(replace(s.setting, name=name))))
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        out = []
        for s in seen:
            knob = _knob(view, s)
            flagged = _flagged(view, knob) if knob else None
            if knob is None or flagged is None or s.site is None:
                continue
            category, why = flagged
            proposed = _fix(view, knob, category)
            move = _move(view, s, knob, proposed) if proposed else None
            if move is not None:
                fix = (move,) if move.edits else ()
                out.append(Finding(category, NAME, s.site, why, title(move), fix, s.key))
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        out = []
        for s in seen:
            knob = _knob(view, s)
            if knob is None or s.setter is None:
                continue
            tried = {repr(knob.value)}
            for proposed in knob_moves.generic(knob):
                move = _move(view, s, knob, proposed)
                fresh = move is not None and repr(move.value) not in tried
                if move and move.edits and fresh and _onward(knob, move.value):
                    tried.add(repr(move.value))
                    out.append(move)
        return out


def _file_settings(view: View, path: str) -> list[tuple[str, Seen]]:
    text = view.repo.read(path) or ""
    fmt = format_of(path)
    try:
        flat = fmt.read(text) if fmt else {}
    except ParseError:
        return []
    knobs = {k.key: k for k in find_knobs(TargetFile(path, text))}
    out = []
    for key, value in flat.items():
        knob = knobs.get(key)
        found = role(key, knob.type, knob.choices) if knob else _untyped_role(key)
        if found is None:
            continue
        setting = replace(ROLES[found], name=key)
        if knob is not None:
            setting = replace(setting, type=knob.type, choices=_choices(knob))
            site, raw, shown = Site(path, knob.line, "file"), knob.raw, knob.value
        else:
            site, raw, shown = Site(path, _line_of(text, key), "file"), str(value), _value(value)
            setting = replace(setting, type=_type_of(shown))
        setter = None
        if knob is not None and found != "never" and view.editable(path):
            setter = _setter(path, text, knob)
        out.append((key, Seen(NAME, setting, shown, True, site, raw, view.reaches(path), setter)))
    return out


def _choices(knob: Knob) -> tuple[str, ...]:
    """An enum's values as the file writes them: 'DEBUG', 'Debug' or 'debug'."""
    written = str(knob.value)
    case = str.upper if written.isupper() else str.title if written.istitle() else str.lower
    choices = tuple(case(c) for c in knob.choices)
    return choices if written in choices or not choices else (*choices, written)


def _untyped_role(key: str) -> str | None:
    """An expression or free text: seen (not editable) only when its name says `never`."""
    return "never" if NEVER & set(words(key)) else None


def _type_of(value: Value) -> SettingType:
    if isinstance(value, bool):
        return "bool"
    return "int" if isinstance(value, int) else "float" if isinstance(value, float) else "str"


def _value(value: object) -> Value:
    return value if isinstance(value, int | float | str | None) else str(value)


def _line_of(text: str, key: str) -> int:
    parts = [p for p in key.split(".") if not p.isdigit()] or [key]
    pattern = re.compile(
        rf"""^[ \t]*(?:export[ \t]+|-[ \t]+)?["']?{re.escape(parts[-1])}["']?[ \t]*[:=]""",
        re.MULTILINE | re.IGNORECASE,
    )
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _setter(path: str, text: str, knob: Knob) -> Setter:
    def setter(value: Value) -> tuple[Edit, ...]:
        raw = knob_moves.off_raw(knob) if knob.type == "str" and value is None else None
        raw = raw or render(knob, value)
        set_knob(text, knob, raw)  # EditError unless the file reads back just this change
        return (Edit(path, knob.start, knob.end, raw),)

    return setter


def _knob(view: View, seen: Seen) -> Knob | None:
    if seen.site is None or seen.setting.safety != "tune":
        return None
    text = view.repo.read(seen.site.path) or ""
    key = seen.setting.name.removeprefix(f"{seen.site.path}:")
    return next((k for k in find_knobs(TargetFile(seen.site.path, text)) if k.key == key), None)


def _move(view: View, seen: Seen, knob: Knob, proposed: knob_moves.Move) -> Move | None:
    """The knob move as a pack move, its value as the file reads it back; edits only when the
    setting is editable."""
    text = view.repo.read(knob.path) or ""
    try:
        new = set_knob(text, knob, proposed.new_raw)
    except EditError:
        return None
    after = next((k for k in find_knobs(TargetFile(knob.path, new)) if k.key == knob.key), None)
    if after is None or role(after.key, after.type, after.choices) is None:
        return None  # no longer a setting of ours (an access log set to None)
    edits = (Edit(knob.path, knob.start, knob.end, proposed.new_raw),) if seen.setter else ()
    return Move(seen, after.value, proposed.rule, edits)


def title(move: Move) -> str:
    """'Raise server.threads from 1 to 4', 'Turn app.debug off'."""
    if isinstance(move.value, bool):
        return f"Turn {move.seen.setting.name} {'on' if move.value else 'off'}"
    return f"{move.change[:1].upper()}{move.change[1:]}"


def _fix(view: View, knob: Knob, category: str) -> knob_moves.Move | None:
    if role(knob.key, knob.type, knob.choices) == "conn_max_age":
        rule = "keep a database connection for 60 s, not one per request"
        return knob_moves.Move(knob, render(knob, 60), 60, rule)
    return knob_moves.fix(knob, category, view.sandbox.cpus)


def _flagged(view: View, knob: Knob) -> tuple[str, str] | None:
    """The category of a known problem with this setting, and the evidence."""
    found, shown = role(knob.key, knob.type, knob.choices), f"{knob.key} = {knob.raw}"
    if found in ("workers", "threads") and knob.value == 1:
        noun = "thread" if found == "threads" else "worker process"
        cpus = view.sandbox.cpus
        said = f"{cpus:g} CPU{'' if cpus == 1 else 's'}"
        return "single-worker", f"{shown}: one {noun} serves every request ({said} available)"
    if found == "cache" and _cache_off(knob, knob.value):
        return "cache-disabled", f"{shown}: the cache is switched off"
    if found == "pool" and not knob.name.startswith("min") and knob.value in (1, 2):
        return "tiny-pool", f"{shown}: requests queue for a pool of {knob.value}"
    if found == "conn_max_age" and knob.value == 0:
        return "tiny-pool", f"{shown}: a new database connection for every request"
    if found == "log_level" and str(knob.value).lower() == "debug":
        return "verbose-logging", f"{shown}: logs at debug level"
    if found == "debug" and knob.value is True:
        return "verbose-logging", f"{shown}: debug mode is on"
    if found == "request_log" and _logs_requests(knob, knob.value):
        return "verbose-logging", f"{shown}: writes a log line for every request"
    return None


def _cache_off(knob: Knob, value: Value) -> bool:
    if knob.type == "bool":
        return value is bool({"disable", "disabled", "no"} & set(words(knob.key)))
    return knob.type in ("int", "float") and value == 0


def _logs_requests(knob: Knob, value: Value) -> bool:
    if knob.type == "bool":
        return value is not bool(_QUIET.search("_".join(words(knob.name))))
    return value is not None and str(value).strip().lower() not in _LOG_OFF


def _onward(knob: Knob, value: Value) -> bool:
    """Exploration never turns debug on, a request log on, logging louder or a cache off."""
    found = role(knob.key, knob.type, knob.choices)
    if found in ("cache", "conn_max_age") and knob.value == 0:
        return False  # switching it on is the finding's fix, at a useful size
    if found == "debug":
        return value is False
    if found == "request_log":
        return not _logs_requests(knob, value)
    if found == "log_level":
        old, new = level_index(str(knob.value)), level_index(str(value))
        return old is not None and new is not None and new > old
    if found == "cache" and knob.type == "bool":
        return not _cache_off(knob, value)
    return True


PACK = AppSettingsPack()
