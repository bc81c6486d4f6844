"""Pydantic's validation errors as mutbot prints them: one short line per problem,
`FILE: key.path: what was expected`, the value echoed cut short (pure)."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mutbot.units import shown

MAX_PROBLEMS = 20  # lines of one error message
_MAX_LINE = 1000  # characters of one of them


def format_errors(path: Path, exc: ValidationError, root: type[BaseModel]) -> str:
    """One line per problem: 'FILE: key.path: what was expected', never a wall of text."""
    lines = []
    errors = exc.errors()
    for error in errors[:MAX_PROBLEMS]:
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        key = key if len(key) <= 100 else key[:99] + "…"  # a key can be any text of the file
        line = f"{path}: {key}: {_expected(error, root)}"
        lines.append(line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…")
    if len(errors) > MAX_PROBLEMS:
        lines.append(f"{path}: … and {len(errors) - MAX_PROBLEMS} more problems")
    return "\n".join(lines)


_PLAIN = {
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
}
_BOUNDS = {
    "greater_than": "above",
    "greater_than_equal": "at least",
    "less_than": "below",
    "less_than_equal": "at most",
}


def _expected(error: Any, root: type[BaseModel]) -> str:
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx", {})
    if kind == "extra_forbidden":
        return _unknown_key(loc, root)
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error" and loc == ("version",):
        return f"expected 1 (the only config version), got {shown(error['input'])}"
    if kind in _PLAIN:
        return f"{_PLAIN[kind]}, got {shown(error['input'])}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return f"expected a value {_BOUNDS[kind]} {bound}, got {shown(error['input'])}"
    if kind == "too_short":
        return "expected a list with at least one entry"
    if kind == "too_long":
        return f"expected a list of at most {ctx.get('max_length')} entries"
    if kind == "finite_number":
        return f"expected a finite number, got {shown(error['input'])}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {shown(error['input'])}"
    return str(error["msg"]).removeprefix("Value error, ")


def _unknown_key(loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    model = root
    for part in loc[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    name = str(loc[-1])
    close = difflib.get_close_matches(name, list(model.model_fields), n=1) if len(name) < 64 else []
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}expected one of {', '.join(model.model_fields)}"
