"""JSON files: keys along nested objects (and array indexes), read back with `json`."""

from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Callable

from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, classify_value, flatten

_WS = re.compile(r"\s*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
Span = tuple[str, int, int]  # key, start, end
# json's own string scanner, so spans match what json.loads reads; typeshed does not declare it.
# Returns (the decoded string, the index after its closing quote).
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _ws(text: str, i: int) -> int:
    match = _WS.match(text, i)
    return match.end() if match else i


def _value(text: str, i: int, key: str, out: list[Span]) -> int:
    """Walk the value at `i`, record every scalar's span, return where the value ends."""
    i = _ws(text, i)
    if text[i] in "{[":
        return _container(text, i, key, out)
    if text[i] == '"':
        end = _scanstring(text, i + 1)[1]
    elif word := next((w for w in ("true", "false", "null") if text.startswith(w, i)), None):
        end = i + len(word)
    elif match := _NUMBER.match(text, i):
        end = match.end()
    else:
        raise ValueError(f"unexpected {text[i]!r} at {i}")
    out.append((key, i, end))
    return end


def _container(text: str, i: int, key: str, out: list[Span]) -> int:
    closing, index = ("}" if text[i] == "{" else "]"), 0
    prefix = f"{key}." if key else ""
    i = _ws(text, i + 1)
    if text[i] == closing:
        return i + 1
    while True:
        if closing == "}":
            name, i = _scanstring(text, _ws(text, i) + 1)
            i = _ws(text, i) + 1  # the ':'
            i = _ws(text, _value(text, i, prefix + name, out))
        else:
            i = _ws(text, _value(text, i, f"{prefix}{index}", out))
            index += 1
        if text[i] == closing:
            return i + 1
        i += 1  # the ','


def scan(path: str, text: str) -> list[Knob]:
    spans: list[Span] = []
    try:
        json.loads(text)
        _value(text, 0, "", spans)
    except (ValueError, IndexError):
        return []
    knobs = []
    for key, start, end in spans:
        raw = text[start:end]
        typed = classify_value(key, json.loads(raw))
        if typed:
            line = text.count("\n", 0, start) + 1
            knobs.append(Knob(path, line, key, raw, start, end, *typed))
    return knobs


def read(text: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(str(exc)) from exc
    return flatten(data)


def literal(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ParseError(f"not a JSON value: {raw!r}") from exc
