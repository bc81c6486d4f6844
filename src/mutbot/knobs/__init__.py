"""Knobs: the settings in target files, found with exact spans and edited in place.

`find_knobs` lists the settings of one file; `set_knob` replaces one value's text and reads
the file back with the format's real parser to prove that only that setting changed;
`changed_keys` names the settings that differ between two versions of a file."""

from __future__ import annotations

import posixpath
from typing import Protocol

from mutbot.edits import EditError
from mutbot.knobs import envfile, ini, jsonconf, pyconf, tomlconf, yamlconf
from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, KnobType, render
from mutbot.proposers.base import TargetFile

__all__ = ["Knob", "KnobType", "changed_keys", "find_knobs", "format_of", "render", "set_knob"]


class Format(Protocol):
    def scan(self, path: str, text: str) -> list[Knob]: ...
    def read(self, text: str) -> dict[str, object]: ...
    def literal(self, raw: str) -> object: ...


def format_of(path: str) -> Format | None:
    """The format module for a file, by its name; None: not a settings file mutbot reads."""
    name = posixpath.basename(path)
    low = name.lower()
    if low == ".env" or low.startswith(".env.") or low.endswith(".env"):
        return envfile
    if low.endswith(".py"):
        stem = low.removesuffix(".py")
        configish = stem.startswith("gunicorn") or stem.endswith(("conf", "config"))
        return pyconf if configish else None
    by_suffix: dict[str, Format] = {
        ".ini": ini,
        ".cfg": ini,
        ".toml": tomlconf,
        ".yaml": yamlconf,
        ".yml": yamlconf,
        ".json": jsonconf,
    }
    return by_suffix.get(posixpath.splitext(low)[1])


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b  # 1 and True and 1.0 are different settings


def find_knobs(file: TargetFile) -> list[Knob]:
    """The knobs of one file in file order; none when the format is unknown or the file does
    not parse. A knob is kept only when the real parser reads the same value at its key, and
    its key occurs once (a repeated key has no single place to edit)."""
    fmt = format_of(file.path)
    if fmt is None:
        return []
    try:
        flat = fmt.read(file.text)
        knobs = fmt.scan(file.path, file.text)
    except ParseError:
        return []
    counts: dict[str, int] = {}
    for knob in knobs:
        counts[knob.key] = counts.get(knob.key, 0) + 1
    return [
        k
        for k in knobs
        if counts[k.key] == 1 and k.key in flat and _same(flat[k.key], _literal(fmt, k.raw))
    ]


def _literal(fmt: Format, raw: str) -> object:
    try:
        return fmt.literal(raw)
    except ParseError:
        return ParseError  # equals no value a parser reads


def set_knob(text: str, knob: Knob, new_raw: str) -> str:
    """`text` with the knob's value text replaced by `new_raw`; EditError unless the real
    parser then reads exactly that value at the key and every other setting as before."""
    where = f"{knob.path}:{knob.line}: {knob.key}"
    if text[knob.start : knob.end] != knob.raw:
        raise EditError(f"{where}: expected {knob.raw!r} there; the file has changed")
    fmt = format_of(knob.path)
    if fmt is None:
        raise EditError(f"{where}: not a settings file mutbot can read")
    new = text[: knob.start] + new_raw + text[knob.end :]
    try:
        before, after = fmt.read(text), fmt.read(new)
        expected = fmt.literal(new_raw)
    except ParseError as exc:
        raise EditError(f"{where}: setting {new_raw!r} breaks the file: {exc}") from exc
    if not _same(after.get(knob.key), expected):
        raise EditError(
            f"{where}: after the edit the file reads {after.get(knob.key)!r}, not {expected!r}"
        )
    others = sorted(_changed(before, after) - {knob.key})
    if others:
        raise EditError(f"{where}: setting {new_raw!r} also changes {', '.join(others)}")
    return new


def _changed(old: dict[str, object], new: dict[str, object]) -> set[str]:
    keys = old.keys() | new.keys()
    return {k for k in keys if k not in old or k not in new or not _same(old[k], new[k])}


def changed_keys(path: str, old: str, new: str) -> set[str]:
    """Keys whose values differ between two versions of a file (added and removed keys too);
    empty for files of no known format; EditError when either version does not parse."""
    fmt = format_of(path)
    if fmt is None or old == new:
        return set()
    try:
        return _changed(fmt.read(old), fmt.read(new))
    except ParseError as exc:
        raise EditError(f"{path}: cannot compare settings: {exc}") from exc
