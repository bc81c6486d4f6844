"""The knob record and the rules that decide what a value is: a number, a switch, an enum
(pure). Format modules find the spans; these rules give them a type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

KnobType = Literal["int", "float", "bool", "enum", "str"]
Value = int | float | bool | str | None

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
WORKER_CLASSES = ("sync", "gthread", "gevent", "uvicorn.workers.UvicornWorker")
_BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
_FLIP = {"true": "false", "yes": "no", "on": "off", "1": "0"}
_FLIP |= {v: k for k, v in _FLIP.items()}

# 1/0 count as a switch only for names like these.
_BOOLISH = re.compile(
    r"^(enable|disable|use|is|has|no|log)_|_(enabled|disabled|enable|disable)$"
    r"|^(debug|verbose|reload|preload|preload_app|daemon|enabled|disabled|cache)$"
)
# Identities and environment facts, never tuning choices.
_NOT_TUNABLE = re.compile(r"(^|_)(port|version|uid|gid|pid|id)$|^python|^pip_")
_ACCESS_LOG = re.compile(r"^(accesslog|access_log|access_logfile|access_log_file)$")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+)")


@dataclass(frozen=True)
class Knob:
    """One setting in one file. `raw` is the exact text at [start, end) of the file: an edit
    replaces only that span, so comments and formatting stay."""

    path: str  # relative to the project, '/'-separated
    line: int  # 1-based
    key: str  # dotted: 'server.threads', 'workers', 'ENV.WORKERS', 'CMD.--workers'
    raw: str
    start: int
    end: int
    type: KnobType
    value: Value  # the value as this format's parser reads it
    choices: tuple[str, ...] = ()  # enums: the known values, in order

    @property
    def name(self) -> str:
        """The last part of the key, lower case, '-' as '_' ('CMD.--log-level' -> 'log_level')."""
        return name_of(self.key)


def name_of(key: str) -> str:
    return key.rsplit(".", 1)[-1].lstrip("-").lower().replace("-", "_")


def is_boolish(key: str) -> bool:
    name = name_of(key)
    return "level" not in name and bool(_BOOLISH.search(name))


def is_access_log(key: str) -> bool:
    return bool(_ACCESS_LOG.match(name_of(key)))


def classify_text(key: str, text: str) -> tuple[KnobType, Value, tuple[str, ...]] | None:
    """Type and value of an untyped setting (INI, .env, Dockerfile), or None: not a knob."""
    name, low = name_of(key), text.lower()
    if _NOT_TUNABLE.search(name) or not text:
        return None
    if low in _BOOL_WORDS:
        return "bool", _BOOL_WORDS[low], ()
    if _INT.fullmatch(text):
        if text in ("0", "1") and is_boolish(key):
            return "bool", text == "1", ()
        return "int", int(text), ()
    if _FLOAT.fullmatch(text):
        return "float", float(text), ()
    return _classify_str(key, text)


def classify_value(key: str, value: object) -> tuple[KnobType, Value, tuple[str, ...]] | None:
    """Type of a typed setting (TOML, YAML, JSON, Python), or None: not a knob."""
    if _NOT_TUNABLE.search(name_of(key)):
        return None
    if isinstance(value, bool):
        return "bool", value, ()
    if isinstance(value, int):
        return "int", value, ()
    if isinstance(value, float):
        return "float", value, ()
    if isinstance(value, str):
        return _classify_str(key, value)
    return None


def _classify_str(key: str, text: str) -> tuple[KnobType, Value, tuple[str, ...]] | None:
    name = name_of(key)
    if "level" in key.lower() and level_index(text) is not None:
        return "enum", text, LOG_LEVELS
    if "worker_class" in name and text in WORKER_CLASSES:
        return "enum", text, WORKER_CLASSES
    if is_access_log(key):
        return "str", text, ()
    return None  # a free string is not a knob


def level_index(text: str) -> int | None:
    low = "warning" if text.lower() == "warn" else text.lower()
    return LOG_LEVELS.index(low) if low in LOG_LEVELS else None


def quote_of(raw: str) -> str:
    """The quote character around a raw value, or ''."""
    if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
        return raw[0]
    return ""


def render(knob: Knob, value: Value) -> str:
    """The raw text for a new value, in the knob's style (quotes, case, true/yes/on/1)."""
    if knob.type == "bool":
        return flip_text(knob.raw) if bool(value) != bool(knob.value) else knob.raw
    if knob.type in ("int", "float"):
        return str(value)
    q = quote_of(knob.raw)
    text = str(value)
    inner = knob.raw[1:-1] if q else knob.raw
    if knob.type == "enum" and knob.choices == LOG_LEVELS:
        text = text.upper() if inner.isupper() else text.title() if inner.istitle() else text
    return f"{q}{text}{q}"


def flip_text(raw: str) -> str:
    """'true' -> 'false', 'Yes' -> 'No', 'ON' -> 'OFF', '1' -> '0', quotes kept."""
    q = quote_of(raw)
    inner = raw[1:-1] if q else raw
    flipped = _FLIP[inner.lower()]
    if inner.isupper() and len(inner) > 1:
        flipped = flipped.upper()
    elif inner[:1].isupper():
        flipped = flipped.title()
    return f"{q}{flipped}{q}"


def flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Nested mappings and lists as one level of dotted keys ('a.b', 'a.0')."""
    out: dict[str, object] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = data
    return out
