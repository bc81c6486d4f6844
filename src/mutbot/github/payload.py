"""Reading a webhook payload (pure): fields by dotted path, of the type expected or a
`Malformed` naming the field, and payload text made safe for one log line."""

from __future__ import annotations

import re
from typing import Any


def is_bot(payload: dict[str, Any], user: str) -> bool:
    kind, login = text(payload, f"{user}.type"), text(payload, f"{user}.login")
    return kind == "Bot" or login.endswith("[bot]")


def quote(word: str) -> str:
    """User text echoed in a reply: inside inline code nothing pings or links."""
    return "`" + word.replace("`", "'")[:60] + "`"


def first_line(body: str) -> str:
    lines = body.strip().splitlines()
    return lines[0].strip() if lines else ""


class Malformed(Exception):
    """A payload field of the wrong type; the message names it."""


def at(payload: dict[str, Any], path: str) -> object:
    """The value at a dotted path, None when a step is absent or null."""
    data: object = payload
    done: list[str] = []
    for key in path.split("."):
        if data is None:
            return None
        if not isinstance(data, dict):
            raise Malformed(f"{'.'.join(done)} is not an object")
        data = data.get(key)
        done.append(key)
    return data


def text(payload: dict[str, Any], path: str) -> str:
    value = at(payload, path)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"{path} is not a string")
    return value


def whole(payload: dict[str, Any], path: str) -> int:
    value = at(payload, path)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise Malformed(f"{path} is not a positive whole number")
    return value


def brief(text: str) -> str:
    """Payload text in a log line: one line, a branch name or a login, never a megabyte."""
    return re.sub(r"\s", " ", text if len(text) <= 100 else text[:99] + "…")
