"""TOML files: dotted keys under tables, read back with tomllib."""

from __future__ import annotations

import re
import tomllib

from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, classify_value, flatten

_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\\]*"|'[^']*')"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_TABLE = re.compile(rf"\s*(?P<open>\[\[?)\s*(?P<name>{_DOTTED})\s*\]\]?\s*(?:#.*)?")
_KEY = re.compile(rf"\s*(?P<key>{_DOTTED})\s*=\s*")


def _parts(dotted: str) -> list[str]:
    return [p.strip("\"'") for p in re.findall(_PART, dotted)]


def scan(path: str, text: str) -> list[Knob]:
    knobs: list[Knob] = []
    table: list[str] | None = []
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\r\n")
        if match := _TABLE.fullmatch(body):
            # Arrays of tables repeat their keys: no single place to edit.
            table = None if match["open"] == "[[" else _parts(match["name"])
        elif table is not None and (match := _KEY.match(body)):
            key = ".".join([*table, *_parts(match["key"])])
            found = _value(body[match.end() :])
            typed = classify_value(key, found[1]) if found else None
            if found and typed:
                start = offset + match.end()
                raw = found[0]
                knobs.append(Knob(path, number, key, raw, start, start + len(raw), *typed))
        offset += len(line)
    return knobs


def _value(rest: str) -> tuple[str, object] | None:
    """The scalar at the start of `rest` (before a comment), and its value."""
    cuts = [i for i, c in enumerate(rest) if c == "#"] + [len(rest)]
    for cut in cuts:
        raw = rest[:cut].rstrip()
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            continue
        return (raw, value) if isinstance(value, int | float | str) else None
    return None


def read(text: str) -> dict[str, object]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(str(exc)) from exc
    return flatten(data)


def literal(raw: str) -> object:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"not a TOML value: {raw!r}") from exc
