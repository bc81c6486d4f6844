"""Human units for durations and sizes, as config files write them."""

from __future__ import annotations

import math
import re
import reprlib

DAY = 86_400.0  # seconds; the default bound of a duration
MAX_SIZE = 1024**4  # 1 TiB: no sandbox gets more memory than that
_SHOWN = 60  # characters of a bad value echoed in an error

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY}
# Docker's convention: k, m, g are binary whatever the spelling ("256m", "256MB", "256MiB").
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|k|kb|kib|ki|m|mb|mib|mi|g|gb|gib|gi)?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_duration(value: object, most: float = DAY) -> float:
    """Seconds from 30, 2.5, "30s", "500ms", "1m30s", "2h", "7d"; at most `most` (24h by
    default)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 500ms or 1m30s")
    if isinstance(value, int | float):
        seconds = _number(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            parts = _DURATION_PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"expected a duration such as 30s, 500ms or 1m30s, got {shown(value)}"
                )
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"expected a duration such as 30s, 500ms or 1m30s, got {shown(value)}")
    if seconds < 0:
        raise ValueError(f"expected a duration that is not negative, got {shown(value)}")
    if not seconds <= most:  # NaN too
        bound = f"{most / DAY:g}d" if most > DAY and most % DAY == 0 else f"{most / 3600:g}h"
        raise ValueError(f"expected a duration of at most {bound}, got {shown(value)}")
    return seconds


def parse_size(value: object) -> int:
    """Bytes from 268435456, "256m", "256MiB", "1g", "512k"."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 256m, 512MiB or 1g")
    if isinstance(value, int):
        size: float = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())):
        unit = (match.group(2) or "").lower()[:1]
        size = float(match.group(1)) * _SIZE_UNITS[unit]  # inf for 400 digits: refused below
    else:
        raise ValueError(f"expected a size such as 256m, 512MiB or 1g, got {shown(value)}")
    if size > MAX_SIZE:
        raise ValueError(f"expected a size of at most 1024g, got {shown(value)}")
    if int(size) <= 0:
        raise ValueError(f"expected a size above zero, got {shown(value)}")
    return int(size)


def parse_fraction(value: object) -> float:
    """0.05 from 0.05 or "5%"."""
    if isinstance(value, bool):
        raise ValueError("expected a fraction such as 0.05 or 5%")
    if isinstance(value, int | float):
        fraction = _number(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*%\s*", value):
        fraction = float(value.strip().rstrip("%")) / 100
    else:
        raise ValueError(f"expected a fraction such as 0.05 or 5%, got {shown(value)}")
    if not 0 <= fraction < 1:
        raise ValueError(f"expected a fraction from 0 to below 1, got {shown(value)}")
    return fraction


class _Short(reprlib.Repr):
    """reprlib's bounded repr (a few items, a few levels, long strings elided), and no repr
    of a 5,000-digit integer, which Python refuses to convert."""

    def repr_int(self, x: int, level: int) -> str:
        return repr(x) if abs(x) < 10**_SHOWN else "a huge number"


_SHORT = _Short()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, _SHOWN, _SHOWN


def shown(value: object) -> str:
    """A value as an error message echoes it: its repr, cut short."""
    text = _SHORT.repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _number(value: int | float) -> float:
    """A float; a whole number too large for one becomes inf, which every bound refuses."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:g}s"
    return f"{seconds / 60:g}m"


def format_size(size: int) -> str:
    for unit, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}b"
