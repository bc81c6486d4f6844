"""INI and CFG files: 'section.option' keys, read back with configparser."""

from __future__ import annotations

import configparser
import re

from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, classify_text

_SECTION = re.compile(r"\[(?P<name>[^\]]+)\]")
_OPTION = re.compile(r"(?P<key>[^=:\s][^=:]*?)\s*[=:][ \t]*(?P<value>.*?)\s*$")


def scan(path: str, text: str) -> list[Knob]:
    knobs: list[Knob] = []
    section: str | None = None
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\r\n")
        stripped = body.strip()
        if stripped.startswith(("#", ";")) or not stripped:
            pass
        elif body[0].isspace():  # a continuation line: the previous value spans lines
            if knobs and knobs[-1].line == number - 1:
                knobs.pop()
        elif match := _SECTION.fullmatch(stripped):
            section = match["name"].strip()
        elif section and section != configparser.DEFAULTSECT and (match := _OPTION.match(body)):
            key = f"{section}.{match['key'].strip().lower()}"
            start = offset + match.start("value")
            raw = match["value"]
            typed = classify_text(key, raw)
            if typed:
                knobs.append(Knob(path, number, key, raw, start, start + len(raw), *typed))
        offset += len(line)
    return knobs


def read(text: str) -> dict[str, object]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ParseError(str(exc).splitlines()[0]) from exc
    flat: dict[str, object] = {f"DEFAULT.{k}": v for k, v in parser.defaults().items()}
    for section in parser.sections():
        flat.update({f"{section}.{k}": v for k, v in parser.items(section, raw=True)})
    return flat


def literal(raw: str) -> object:
    return raw.strip()
