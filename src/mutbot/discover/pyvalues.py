"""Values of simple Python expressions, read without running anything (pure): the strings and
numbers settings files and app modules compute from constants, module-level names and the
environment (`os.environ.get("PORT", "8000")`, f-strings, `+`, `int()`, `str()`)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

MAX_SOURCE = 512 * 1024  # characters of a Python file worth parsing


def parse(text: str | None) -> ast.Module | None:
    if text is None or len(text) > MAX_SOURCE:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def assignments(tree: ast.AST) -> dict[str, ast.expr]:
    """Every `name = value` in the file, the last one winning (a heuristic: scopes ignored)."""
    found: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id] = node.value
    return found


def value(
    expr: ast.expr | None,
    names: Mapping[str, ast.expr],
    env: Mapping[str, str],
    _depth: int = 0,
) -> str | None:
    """The text `expr` evaluates to, or None when it cannot be read."""
    if expr is None or _depth > 12:
        return None

    def again(e: ast.expr | None) -> str | None:
        return value(e, names, env, _depth + 1)

    if isinstance(expr, ast.Constant) and isinstance(expr.value, str | int | float):
        return None if isinstance(expr.value, bool) else str(expr.value)
    if isinstance(expr, ast.Name):
        return again(names.get(expr.id))
    if isinstance(expr, ast.JoinedStr):
        parts = [again(v.value if isinstance(v, ast.FormattedValue) else v) for v in expr.values]
        return None if None in parts else "".join(p or "" for p in parts)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = again(expr.left), again(expr.right)
        return None if left is None or right is None else left + right
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
        for item in expr.values:  # os.environ.get("PORT") or "8000"
            found = again(item)
            if found:
                return found
        return None
    if isinstance(expr, ast.List | ast.Tuple) and expr.elts:
        return again(expr.elts[0])
    if isinstance(expr, ast.Subscript) and _is_environ(expr.value):
        key = again(expr.slice)
        return env.get(key) if key else None
    if isinstance(expr, ast.Call):
        return _call(expr, again, env)
    return None


def _call(
    expr: ast.Call, evaluate: Callable[[ast.expr | None], str | None], env: Mapping[str, str]
) -> str | None:
    func = expr.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    if name in ("int", "str", "float") and expr.args:
        found = evaluate(expr.args[0])
        if name == "int" and found is not None:
            return _integer(found)
        return found
    environment = name == "get" and isinstance(func, ast.Attribute) and _is_environ(func.value)
    if environment or name in ("getenv", "get_env", "env"):
        key = evaluate(expr.args[0]) if expr.args else None
        default = expr.args[1] if len(expr.args) > 1 else None
        default = next((k.value for k in expr.keywords if k.arg == "default"), default)
        if key is None:
            return None
        found = env.get(key)
        return found if found is not None else evaluate(default)
    return None


def _is_environ(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr == "environ"


def _integer(text: str) -> str | None:
    try:
        return str(int(float(text)))
    except (ValueError, OverflowError):  # "abc", "1e400", "nan"
        return None


def dotted(expr: ast.expr) -> str:
    """`app.router.get` for an attribute chain, "" for anything else."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.insert(0, expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        return ".".join([expr.id, *parts])
    return ""
