"""`.env` files: KEY=VALUE lines as docker compose and python-dotenv read them (an optional
`export `, single or double quotes, `#` comments; no variable expansion)."""

from __future__ import annotations

import re

from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, classify_text

_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*")
_QUOTED = re.compile(r"""(?P<q>["'])(?P<inner>[^"'\\]*)(?P=q)[ \t]*(?:#.*)?""")
_BARE = re.compile(r"(?P<inner>[^\s\"'#]\S*(?:[ \t]+[^\s#]\S*)*|)[ \t]*(?:#.*)?")


def _entries(text: str) -> list[tuple[int, str, int, int]]:
    """(line, key, start, end) of each value without its quotes; ParseError on other lines."""
    found, offset = [], 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\r\n")
        if body.strip() and not body.lstrip().startswith("#"):
            match = _LINE.match(body)
            rest = body[match.end() :] if match else ""
            value = _QUOTED.fullmatch(rest) or _BARE.fullmatch(rest)
            if not match or not value:
                raise ParseError(f"line {number}: expected KEY=VALUE, got {body.strip()!r}")
            start = offset + match.end() + value.start("inner")
            found.append((number, match["key"], start, start + len(value["inner"])))
        offset += len(line)
    return found


def scan(path: str, text: str) -> list[Knob]:
    try:
        entries = _entries(text)
    except ParseError:
        return []
    knobs = []
    for number, key, start, end in entries:
        raw = text[start:end]
        typed = classify_text(key, raw)
        if typed:
            knobs.append(Knob(path, number, key, raw, start, end, *typed))
    return knobs


def read(text: str) -> dict[str, object]:
    return {key: text[start:end] for _, key, start, end in _entries(text)}


def literal(raw: str) -> object:
    return raw
