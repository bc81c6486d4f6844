"""How the search proposer changes one knob (pure): the detector-driven fix for an
opportunity, and the generic exploratory steps. Each move says why its value was chosen."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mutbot.knobs import format_of, pyconf
from mutbot.knobs.model import LOG_LEVELS, Knob, Value, level_index, render

_MB = re.compile(r"(^|_)(mb|mib|megabytes?|memory)$|_mb_|mb$")
_SECONDS = re.compile(r"ttl|expire|seconds|_s$|timeout")
_MS = re.compile(r"_ms$|millis")
# Generic move types, in the order they are tried (the seed shuffles within one type).
DOUBLE, STEP_UP, HALVE, STEP_DOWN, FLIP, ENUM_STEP, OFF = range(7)


@dataclass(frozen=True)
class Move:
    knob: Knob
    new_raw: str
    new_value: Value
    rule: str  # why this value, e.g. "4 threads per CPU (limit 2), at least 4"
    rank: int = 0  # generic moves: the move type


def _to(knob: Knob, value: Value, rule: str, rank: int = 0) -> Move | None:
    raw = render(knob, value)
    return None if raw == knob.raw else Move(knob, raw, value, rule, rank)


def off_raw(knob: Knob) -> str:
    """A disabled access log: None in Python configs, else the null device."""
    if format_of(knob.path) is pyconf:
        return "None"
    return render(knob, "/dev/null")


def fix(knob: Knob, category: str, cpus: float) -> Move | None:
    """The detector-driven value for a flagged knob, or None when there is no knob fix."""
    cores = max(1, math.ceil(cpus))
    if category == "single-worker" and knob.type == "int":
        if "thread" in knob.name:
            n = max(4, math.ceil(4 * cpus))
            return _to(knob, n, f"4 threads per CPU (limit {cpus:g}), at least 4: {n}")
        n = 2 * cores + 1
        return _to(knob, n, f"gunicorn's rule, 2 × CPUs + 1 (limit {cpus:g}): {n}")
    if category == "cache-disabled":
        if knob.type == "bool":
            return _to(knob, not knob.value, "switch the cache on")
        size, unit = _cache_size(knob.name)
        return _to(knob, size, f"a typical cache size: {size} {unit}")
    if category == "verbose-logging":
        return _quieter(knob)
    if category == "tiny-pool" and knob.type == "int":
        n = max(10, 4 * cores)
        return _to(knob, n, f"a pool of max(10, 4 per CPU) = {n} connections")
    return None


def _cache_size(name: str) -> tuple[int, str]:
    if _MS.search(name):
        return 60_000, "ms"
    if _SECONDS.search(name):
        return 300, "seconds"
    if _MB.search(name):
        return 64, "MB"
    return 1024, "entries"


def _quieter(knob: Knob) -> Move | None:
    if knob.type == "bool":
        return _to(knob, not knob.value, "switch it off")
    if knob.type == "enum" and knob.choices == LOG_LEVELS:
        index = level_index(str(knob.value))
        if index is not None and index < LOG_LEVELS.index("warning"):
            return _to(knob, LOG_LEVELS[index + 1], "one log level quieter")
        return None
    if knob.type == "str":
        raw = off_raw(knob)
        return None if raw == knob.raw else Move(knob, raw, None, "no access log", OFF)
    return None


def generic(knob: Knob) -> list[Move]:
    """Exploratory steps: numbers ×2, ÷2 (at least 1) and ± a step (1 below 16, else a
    quarter); switches flipped; enums one step either way; access logs off."""
    moves: list[Move | None] = []
    if knob.type == "int" and isinstance(knob.value, int):
        v = knob.value
        step, floor = (1 if v < 16 else v // 4), (1 if v >= 1 else 0)
        moves += [
            _to(knob, v * 2, "double it", DOUBLE) if v > 0 else None,
            _to(knob, v + step, f"one step up (+{step})", STEP_UP),
            _to(knob, max(floor, v // 2), "halve it", HALVE),
            _to(knob, v - step, f"one step down (-{step})", STEP_DOWN)
            if v - step >= floor
            else None,
        ]
    elif knob.type == "float" and isinstance(knob.value, float) and knob.value > 0:
        f = knob.value
        moves += [_to(knob, f * 2, "double it", DOUBLE), _to(knob, f / 2, "halve it", HALVE)]
    elif knob.type == "bool":
        moves.append(_to(knob, not knob.value, "flip it", FLIP))
    elif knob.type == "enum":
        moves += _enum_steps(knob)
    elif knob.type == "str":
        moves.append(_quieter(knob))
    return [m for m in moves if m is not None]


def _enum_steps(knob: Knob) -> list[Move | None]:
    if knob.choices == LOG_LEVELS:
        index = level_index(str(knob.value))
    else:
        index = knob.choices.index(str(knob.value)) if knob.value in knob.choices else None
    if index is None:
        return []
    steps = [(index + 1, "the next value"), (index - 1, "the previous value")]
    return [
        _to(knob, knob.choices[i], rule, ENUM_STEP)
        for i, rule in steps
        if 0 <= i < len(knob.choices)
    ]
