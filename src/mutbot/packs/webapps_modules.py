"""The webapps pack's Python settings modules (pure): what a module says (its module-level
settings, class attributes and call arguments), values read without running anything (the
environment the server sees through `os.environ.get`, `env.bool`, `bool(int(...))`, ...), and
edits proved by reading the module again: only the one setting changes."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from mutbot.discover import pyvalues
from mutbot.discover.serverfiles import Recording
from mutbot.edits import EditError
from mutbot.packs import envsites
from mutbot.packs.model import Edit, Seen, Setting, Site, Value
from mutbot.packs.view import View

NAME = "webapps"
_SKIP_DIRS = {"tests", "test", "testing", "migrations", "docs", "examples", "node_modules"}
_ENV_READS = ("os.environ.get", "os.getenv", "environ.get", "getenv")
_TRUE, _FALSE = ("y", "yes", "t", "true", "on", "1"), ("n", "no", "f", "false", "off", "0", "")
Setter = Callable[[Value], tuple[Edit, ...]]


@dataclass(frozen=True)
class Module:
    path: str
    text: str
    tree: ast.Module
    names: dict[str, ast.expr]  # module-level `NAME = value`, the last one winning
    starts: tuple[int, ...]  # the offset of each line

    def span(self, node: ast.expr) -> tuple[int, int]:
        """`node`'s characters in the text (ast counts UTF-8 bytes within a line)."""

        def at(line: int, col: int) -> int:
            start = self.starts[line - 1]
            return start + len(self.text[start:].encode()[:col].decode(errors="ignore"))

        end = at(node.end_lineno or node.lineno, node.end_col_offset or 0)
        return at(node.lineno, node.col_offset), end

    def calls(self, *names: str) -> list[ast.Call]:
        """Calls of `names` (`f(...)` or `x.f(...)`), in the order written."""
        found = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call)]
        return sorted((c for c in found if callee(c) in names), key=_position)

    def fact(self, call: ast.Call, keyword: str) -> str:
        """The name `facts` gives a call's keyword argument."""
        return f"{callee(call)}#{self.calls(callee(call)).index(call)}.{keyword}"


def _position(node: ast.expr) -> tuple[int, int]:
    return node.lineno, node.col_offset


def callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def parse(path: str, text: str) -> Module | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    names = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return Module(path, text, tree, names, tuple(starts))


def module(view: View, path: str | None) -> Module | None:
    text = view.repo.read(path) if path else None
    return parse(path, text) if path and text is not None else None


def python_files(view: View, needle: str) -> list[Module]:
    """The app's Python modules the image holds that mention `needle`."""
    out = []
    for path in view.repo.under(view.sandbox.context):
        skipped = not path.endswith(".py") or _SKIP_DIRS & set(path.split("/")[:-1])
        text = "" if skipped else view.repo.read(path) or ""
        if needle in text and view.reaches(path) == "build" and (found := module(view, path)):
            out.append(found)
    return out


def module_path(view: View, dotted: str) -> str | None:
    """The file of a dotted module name (a suffix of its path), one in the image first."""
    stem = dotted.replace(".", "/")
    tails = (f"{stem}.py", f"{stem}/__init__.py")
    files = view.repo.under(view.sandbox.context)
    found = [p for p in files if any(p == t or p.endswith("/" + t) for t in tails)]
    found.sort(key=lambda p: (view.reaches(p) != "build", p.count("/"), p))
    return found[0] if found else None


def facts(mod: Module) -> dict[str, str]:
    """Everything a module says, for the read-back of an edit: each module-level setting
    (dicts entry by entry), each class attribute and each keyword of each call."""
    out: dict[str, str] = {}

    def put(key: str, node: ast.expr) -> None:
        if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
            for k, v in zip(node.keys, node.values, strict=True):
                put(f"{key}.{getattr(k, 'value', '')}", v)
        elif isinstance(node, ast.Call):  # its arguments are facts of their own
            out[key] = f"{ast.unparse(node.func)}(...)"
        else:
            out[key] = ast.unparse(node)

    for node in mod.tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                    put(f"{node.name}.{item.targets[0].id}", item.value)
    for name, value in mod.names.items():
        put(name, value)
    seen: dict[str, int] = {}
    calls = (n for n in ast.walk(mod.tree) if isinstance(n, ast.Call))
    for call in sorted(calls, key=_position):
        index = seen[callee(call)] = seen.get(callee(call), -1) + 1
        out[f"{callee(call)}#{index}"] = str(len(call.args))
        out |= {f"{callee(call)}#{index}.{k.arg}": ast.unparse(k.value) for k in call.keywords}
    return out


def checked(mod: Module, edits: tuple[Edit, ...], fact: str, value: Value) -> tuple[Edit, ...]:
    """The edits, when the module read again says `value` at `fact` and all else as before."""
    text = mod.text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    new = parse(mod.path, text)
    if new is None:
        raise EditError(f"{mod.path}: the edit breaks the module")
    before, after = facts(mod), facts(new)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    if changed != {fact} or after[fact] != repr(value):
        raise EditError(f"{mod.path}: the edit changes {sorted(changed)}, not only {fact}")
    return edits


def switch(node: ast.expr, names: dict[str, ast.expr], env: Recording) -> bool | None:
    """A switch's value: a constant, `bool(int(env...))`, `env... .lower() == "true"`,
    `env.bool(...)`, `config(..., cast=bool)`, `not`; None when it cannot be told."""
    if isinstance(node, ast.Constant):
        return bool(node.value) if isinstance(node.value, bool | int) else None
    if isinstance(node, ast.Name):
        return switch(names[node.id], names, env) if node.id in names else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = switch(node.operand, names, env)
        return None if inner is None else not inner
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = text_of(node.left, names, env), node.comparators[0]
        wanted = [e.value for e in getattr(right, "elts", [right]) if isinstance(e, ast.Constant)]
        if left is None or not wanted:
            return None
        found = left in [str(w) for w in wanted]
        return found if isinstance(node.ops[0], ast.Eq | ast.In) else not found
    if not isinstance(node, ast.Call) or not node.args:
        return None
    called = ast.unparse(node.func)
    cast = next((ast.unparse(k.value) for k in node.keywords if k.arg == "cast"), "")
    if called == "bool":
        text, arg = text_of(node.args[0], names, env), node.args[0]
        numeric = isinstance(arg, ast.Call) and ast.unparse(arg.func) == "int"
        return None if text is None else bool(int(text)) if numeric else text != ""
    if called in _ENV_READS:  # a string, or its default: true unless empty
        key = text_of(node.args[0], names, env)
        default = node.args[1] if len(node.args) > 1 else ast.Constant(None)
        written = env.get(key) if key is not None else None
        if written is not None:
            return written != ""
        return bool(default.value) if isinstance(default, ast.Constant) else None
    if called.endswith(".bool") or cast == "bool":
        text = text_of(ast.Call(ast.Name("env"), node.args, node.keywords), names, env)
        low = (text or "").strip().lower()
        return True if low in _TRUE else False if text is not None and low in _FALSE else None
    return None


def text_of(node: ast.expr, names: dict[str, ast.expr], env: Recording) -> str | None:
    """The text of an expression (mutbot.discover.pyvalues), through `.lower()` and kin."""
    func = node.func if isinstance(node, ast.Call) and not node.args else None
    if isinstance(func, ast.Attribute) and func.attr in ("lower", "upper", "strip"):
        inner = text_of(func.value, names, env)
        return None if inner is None else str(getattr(inner, func.attr)())
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return str(node.value)
    return pyvalues.value(node, names, env)


def env_of(view: View, overrides: dict[str, str] | None = None) -> Recording:
    """The environment the server sees, recording which variables are read."""
    found = {k: v for k, (v, _) in (view.image.env if view.image else {}).items()}
    found |= view.sandbox.env
    found |= {k: v for k, (v, _) in (view.launch.env if view.launch else {}).items()}
    return Recording({**found, **(overrides or {})})


def written(view: View, mod: Module, setting: Setting, node: ast.expr, fact: str) -> Seen:
    """A setting written as an expression: its value in the environment the server sees;
    changed in place when a literal, else where the one variable a switch reads is set."""
    env = env_of(view)
    raw = ast.get_source_segment(mod.text, node) or ast.unparse(node)
    value: Value = raw
    if setting.type == "bool":
        value = switch(node, mod.names, env)
    elif setting.type == "int":
        empty = isinstance(node, ast.Constant) and node.value is None  # None: for ever
        text = None if empty else text_of(node, mod.names, env)
        value = int(text) if text and text.isdigit() else None
    setter: Setter | None = None
    if setting.safety == "tune" and isinstance(node, ast.Constant) and view.editable(mod.path):
        start, end = mod.span(node)

        def setter(new: Value) -> tuple[Edit, ...]:
            return checked(mod, (Edit(mod.path, start, end, repr(new)),), fact, new)

    elif setting.safety == "tune" and setting.type == "bool" and len(set(env.read)) == 1:
        setter = _env_setter(view, mod, node, env.read[0])
    site = Site(mod.path, node.lineno, "file")
    return Seen(NAME, setting, value, True, site, raw, view.reaches(mod.path), setter)


def _env_setter(view: View, mod: Module, node: ast.expr, variable: str) -> Setter | None:
    """Sets the one variable a switch reads to the first text that makes it read `value`."""
    if envsites.set_env(view, variable, "0") is None:
        return None

    def setter(value: Value) -> tuple[Edit, ...]:
        for text in ("0", "False", "false", "") if value is False else ("1", "True", "true"):
            reads = switch(node, mod.names, env_of(view, {variable: text}))
            edits = envsites.set_env(view, variable, text) if reads is value else None
            if edits is not None:
                return edits
        raise EditError(f"no value of {variable} reads {value!r}")

    return setter


def added(
    view: View, mod: Module, setting: Setting, site: Site, at: int,
    text: Callable[[Value], str], fact: str,
) -> Seen:  # fmt: skip
    """A setting not written, added at `at` as `text(value)`, proved by reading it back."""
    setter: Setter | None = None
    if view.editable(mod.path):

        def setter(value: Value) -> tuple[Edit, ...]:
            return checked(mod, (Edit(mod.path, at, at, text(value)),), fact, value)

    return Seen(NAME, setting, setting.default, False, site, None, view.reaches(mod.path), setter)


def added_keyword(view: View, mod: Module, call: ast.Call, keyword: str, setting: Setting) -> Seen:
    """A keyword added as the call's last argument, unless the call passes `**kwargs`."""
    site = Site(mod.path, call.lineno, "file")
    starred = any(isinstance(a, ast.Starred) for a in call.args)
    if starred or any(k.arg is None for k in call.keywords):
        return Seen(NAME, setting, setting.default, False, site, None, view.reaches(mod.path))
    _, end = mod.span(call)
    inside = mod.text[: end - 1].rstrip()
    sep = "" if inside.endswith("(") else " " if inside.endswith(",") else ", "
    fact = mod.fact(call, keyword)
    return added(view, mod, setting, site, len(inside), lambda v: f"{sep}{keyword}={v!r}", fact)
