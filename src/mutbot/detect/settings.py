"""Settings detector (pure): single workers, disabled caches, verbose logging, tiny pools and
server settings without a timeout, found among the knobs of INI, TOML, YAML, JSON, .env,
Python config files and Dockerfile ENV/CMD lines."""

from __future__ import annotations

import posixpath
import re

from mutbot.knobs import Knob, find_knobs, format_of
from mutbot.knobs import dockerfile as dockerfile_format
from mutbot.knobs.errors import ParseError
from mutbot.proposers.base import DetectContext, Opportunity, TargetFile

WORKERS = re.compile(r"(^|_)(workers?|threads?|process(es)?|procs|concurrency)$")
CACHE = re.compile(r"cache")
CACHE_OFF_WHEN_TRUE = re.compile(r"(^|_)(disable|disabled|no)(_|$)")
DEBUG = re.compile(r"^(debug|verbose)$|_(debug|verbose)$|^(debug|verbose)_")
REQUEST_LOG = re.compile(r"(access|request)s?_log|log_(requests?|access)")
QUIET = re.compile(r"^(disable|no)_(logging|access_log|request_log)")  # false: logs requests
POOL = re.compile(r"pool|connections?$|conns?$")  # over the whole key: 'db.pool.max'
NOT_A_SIZE = re.compile(r"timeout|ttl|recycle|overflow|retries|idle|_ms$|_s$|seconds")
TIMEOUT = re.compile(r"timeout|harakiri")
_SERVER_FILES = ("gunicorn", "uvicorn", "hypercorn", "uwsgi")
_RUNS = ("CMD", "ENTRYPOINT")
_LOG_OFF = ("", "none", "null", "/dev/null")


def detect(file: TargetFile, context: DetectContext) -> list[Opportunity]:
    found = [o for knob in find_knobs(file) if (o := _knob_opportunity(knob, context))]
    missing = _missing_timeout(file)
    return found + ([missing] if missing else [])


def _opportunity(knob: Knob, category: str, why: str) -> Opportunity:
    return Opportunity(category=category, path=knob.path, line=knob.line, why=why, key=knob.key)


def _knob_opportunity(knob: Knob, context: DetectContext) -> Opportunity | None:
    name, shown = knob.name, f"{knob.key} = {knob.raw}"
    if knob.type == "int" and knob.value == 1 and WORKERS.search(name):
        noun = "thread" if "thread" in name else "worker process"
        cpus = f"{context.cpus:g} CPU{'' if context.cpus == 1 else 's'}"
        why = f"{shown}: one {noun} serves every request ({cpus} available)"
        return _opportunity(knob, "single-worker", why)
    if CACHE.search(knob.key.lower()) and _cache_off(knob):
        return _opportunity(knob, "cache-disabled", f"{shown}: the cache is switched off")
    if _verbose(knob):
        return _opportunity(knob, "verbose-logging", f"{shown}: {_verbose_why(knob)}")
    pool = POOL.search(knob.key.lower()) and not NOT_A_SIZE.search(name)
    pool = pool and knob.type == "int" and not name.startswith("min")
    if pool and 1 <= int(knob.value or 0) <= 2:
        why = f"{shown}: requests queue for a pool of {knob.value}"
        return _opportunity(knob, "tiny-pool", why)
    return None


def _verbose_why(knob: Knob) -> str:
    if knob.type == "enum":
        return "logs at debug level"
    if knob.type == "bool" and DEBUG.search(knob.name):
        return "debug mode is on"
    return "writes a log line for every request"


def _cache_off(knob: Knob) -> bool:
    if knob.type == "bool":
        return knob.value is bool(CACHE_OFF_WHEN_TRUE.search(knob.name))
    return knob.type in ("int", "float") and knob.value == 0


def _verbose(knob: Knob) -> bool:
    if knob.type == "bool" and QUIET.search(knob.name):
        return knob.value is False
    if knob.type == "bool":
        return knob.value is True and bool(DEBUG.search(knob.name) or REQUEST_LOG.search(knob.name))
    if knob.type == "enum" and "level" in knob.key.lower():
        return str(knob.value).lower() == "debug"
    if knob.type == "str":  # only access-log destinations are string knobs
        return str(knob.value).strip().lower() not in _LOG_OFF
    return False


def _missing_timeout(file: TargetFile) -> Opportunity | None:
    """A server config (gunicorn.conf.py, uwsgi.ini, ...) or a server command in a Dockerfile
    that sets workers or threads but no timeout."""
    fmt = format_of(file.path)
    name = posixpath.basename(file.path).lower()
    if fmt is None:
        return None
    try:
        flat = fmt.read(file.text)
    except ParseError:
        return None
    keys = list(flat)
    if fmt is dockerfile_format:
        command = {k: " ".join(map(str, v)) for k in _RUNS if isinstance(v := flat.get(k), tuple)}
        prefix = next((k for k in command if dockerfile_format.SERVERS.search(command[k])), None)
        if prefix is None:
            return None
        keys = [k for k in keys if k.startswith(f"{prefix}.")]
        flag = "--timeout-keep-alive" if "uvicorn" in command[prefix] else "--timeout"
        timeout_key = f"{prefix}.{flag}"
    elif name.startswith(_SERVER_FILES):
        timeout_key = "uwsgi.harakiri" if name.startswith("uwsgi") else "timeout"
    else:
        return None
    workers = [k for k in find_knobs(file) if k.key in keys and WORKERS.search(k.name)]
    if not workers or any(TIMEOUT.search(k.rsplit(".", 1)[-1].lower()) for k in keys):
        return None
    first = workers[0]
    why = f"{first.key} is set but no timeout: a stuck request holds its worker forever"
    return Opportunity(
        category="missing-timeout", path=file.path, line=first.line, why=why, key=timeout_key
    )
