"""Python config modules (`gunicorn.conf.py`, `*_conf.py`, `*config.py`): module-level
`name = literal` assignments, read back with `ast`."""

from __future__ import annotations

import ast

from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, classify_value


def _assignments(text: str) -> list[tuple[str, ast.expr]]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        raise ParseError(f"not valid Python: {exc}") from exc
    found: list[tuple[str, ast.expr]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            found.append((target.id, value))
    return found


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return f"<expression {ast.unparse(node)}>"  # compared as text: changed or not


def _offset(starts: list[int], lines: list[str], lineno: int, col: int) -> int:
    """ast columns count UTF-8 bytes; the file offset counts characters."""
    line = lines[lineno - 1]
    return starts[lineno - 1] + len(line.encode()[:col].decode(errors="ignore"))


def scan(path: str, text: str) -> list[Knob]:
    try:
        assignments = _assignments(text)
    except ParseError:
        return []
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    knobs = []
    for name, node in assignments:
        if node.end_lineno != node.lineno or node.end_col_offset is None:
            continue
        start = _offset(starts, lines, node.lineno, node.col_offset)
        end = _offset(starts, lines, node.lineno, node.end_col_offset)
        literal = isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant)
        )
        typed = classify_value(name, _literal(node)) if literal else None
        if typed:
            knobs.append(Knob(path, node.lineno, name, text[start:end], start, end, *typed))
    return knobs


def read(text: str) -> dict[str, object]:
    return {name: _literal(node) for name, node in _assignments(text)}


def literal(raw: str) -> object:
    try:
        return ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError) as exc:
        raise ParseError(f"not a Python literal: {raw!r}") from exc
