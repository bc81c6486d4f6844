"""Routes declared in Python (pure, with `ast`): Flask and FastAPI decorators, blueprint and
router prefixes (`url_prefix=`, `prefix=`, and where they are registered), Django `urlpatterns`
followed through `include()`, and `self.path == "/x"` in an http.server handler."""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass

from mutbot.discover import pyvalues
from mutbot.discover.model import Repo, Source

_VERBS = {"get", "post", "put", "patch", "delete", "head", "options"}
_CONTEXT_TYPES = {"Request", "Response", "BackgroundTasks", "WebSocket", "HTTPConnection"}
_HINTS = ("route", "get(", "urlpatterns", "path ==", "api_route")


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ..., or * for any
    path: str
    source: Source
    why: str  # how it is declared, e.g. "@app.get('/items')"
    required_query: bool = False  # it needs a query parameter (or a body) to answer 2xx

    @property
    def fixed(self) -> bool:
        """No path parameters, no required query parameters."""
        return not self.required_query and not re.search(r"[{<:*(\[]", self.path)


def python_routes(repo: Repo, files: list[str], context: str) -> list[Route]:
    trees = {}
    for path in files:
        text = repo.read(path)
        if text and any(hint in text for hint in _HINTS):
            tree = pyvalues.parse(text)
            if tree is not None:
                trees[path] = tree
    registered = _registrations(trees)
    routes = []
    for path, tree in trees.items():
        routes += _decorated(path, tree, registered, context)
        routes += _handler(path, tree)
    routes += _django(repo, trees, context)
    return routes


def _module(path: str, context: str) -> list[str]:
    rel = path[len(context) + 1 :] if context not in ("", ".") else path
    parts = rel.removesuffix(".py").split("/")
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.asname or alias.name.split(".")[0]] = alias.name
    return found


def _registrations(trees: dict[str, ast.Module]) -> list[tuple[list[str], str, str]]:
    """(module parts, variable, prefix) of every `register_blueprint(x, url_prefix=...)` and
    `include_router(x, prefix=...)`."""
    found = []
    for tree in trees.values():
        imports = _imports(tree)
        names = pyvalues.assignments(tree)
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = pyvalues.dotted(call.func).rsplit(".", 1)[-1]
            if name not in ("register_blueprint", "include_router") or not call.args:
                continue
            key = "url_prefix" if name == "register_blueprint" else "prefix"
            prefix_expr = next((k.value for k in call.keywords if k.arg == key), None)
            prefix = pyvalues.value(prefix_expr, names, {}) if prefix_expr is not None else ""
            target = pyvalues.dotted(call.args[0])
            if not target or prefix is None:
                continue
            head, _, variable = target.rpartition(".")
            module = imports.get(head, head) if head else imports.get(variable, "")
            if not head and module:
                module, _, variable = module.rpartition(".")
            found.append((module.split(".") if module else [], variable, prefix))
    return found


def _prefix(
    path: str, variable: str, local: str, registered: list[tuple[list[str], str, str]],
    context: str,
) -> str:  # fmt: skip
    parts = _module(path, context)
    for module, name, prefix in registered:
        if name == variable and (not module or parts[-len(module) :] == module[-len(parts) :]):
            return prefix.rstrip("/") + local
        if module and module[-1] == variable and parts[-len(module[:-1]) :] == module[:-1]:
            return prefix.rstrip("/") + local
    return local


def _decorated(
    path: str, tree: ast.Module, registered: list[tuple[list[str], str, str]], context: str
) -> list[Route]:
    names = pyvalues.assignments(tree)
    own_prefix = {}
    for name, expr in names.items():
        if isinstance(expr, ast.Call) and pyvalues.dotted(expr.func).endswith(
            ("Blueprint", "APIRouter")
        ):
            key = "url_prefix" if pyvalues.dotted(expr.func).endswith("Blueprint") else "prefix"
            value = next((k.value for k in expr.keywords if k.arg == key), None)
            own_prefix[name] = (pyvalues.value(value, names, {}) or "") if value else ""
    routes = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in func.decorator_list:
            route = _route(path, func, decorator, names)
            if route is None or not isinstance(decorator, ast.Call):
                continue
            owner = pyvalues.dotted(decorator.func).rsplit(".", 1)[0]
            local = own_prefix.get(owner, "").rstrip("/") + route.path
            full = _prefix(path, owner, local, registered, context)
            routes.append(
                Route(route.method, full or "/", route.source, route.why, route.required_query)
            )
    return routes


def _route(
    path: str, func: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.expr,
    names: dict[str, ast.expr],
) -> Route | None:  # fmt: skip
    if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
        return None
    verb = decorator.func.attr
    if verb not in _VERBS | {"route", "api_route"}:
        return None
    first = decorator.args[0] if decorator.args else None
    first = first or next((k.value for k in decorator.keywords if k.arg in ("path", "rule")), None)
    written = pyvalues.value(first, names, {}) if first is not None else None
    if written is None or not (written.startswith("/") or written == ""):
        return None
    methods = [verb.upper()] if verb in _VERBS else ["GET"]
    listed = next((k.value for k in decorator.keywords if k.arg == "methods"), None)
    if isinstance(listed, ast.List | ast.Tuple | ast.Set):
        methods = [str(e.value).upper() for e in listed.elts if isinstance(e, ast.Constant)]
    method = "GET" if "GET" in methods else (methods[0] if methods else "GET")
    why = f"@{pyvalues.dotted(decorator.func)}({written!r})"
    return Route(method, written, Source(path, decorator.lineno), why, _needs_query(func, written))


def _needs_query(func: ast.FunctionDef | ast.AsyncFunctionDef, path: str) -> bool:
    """A FastAPI handler argument without a default that is no path parameter nor a request
    object: a required query parameter (or body), so a bare GET answers 422."""
    args = func.args.posonlyargs + func.args.args
    defaults = len(func.args.defaults)
    required = args[: len(args) - defaults] if defaults else args
    for arg in required:
        annotation = arg.annotation
        kind = pyvalues.dotted(annotation).rsplit(".", 1)[-1] if annotation is not None else ""
        if arg.arg in ("self", "cls") or "{" + arg.arg in path or "<" in path:
            continue
        if kind in _CONTEXT_TYPES or isinstance(annotation, ast.Subscript):
            continue  # Annotated[..., Depends(...)] and the like
        if annotation is not None:
            return True
    return False


def _handler(path: str, tree: ast.Module) -> list[Route]:
    """`if self.path == "/healthz":` (or `url.path`, `path`) inside `do_GET`."""
    routes = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef) or not func.name.startswith("do_"):
            continue
        method = func.name[3:].upper()
        for node in ast.walk(func):
            if not isinstance(node, ast.Compare) or not isinstance(node.ops[0], ast.Eq):
                continue
            subject = pyvalues.dotted(node.left)
            other = node.comparators[0]
            if subject.rsplit(".", 1)[-1] == "path" and isinstance(other, ast.Constant):
                value = other.value
                if isinstance(value, str) and value.startswith("/"):
                    why = f"{subject} == {value!r} in {func.name}"
                    routes.append(Route(method, value, Source(path, node.lineno), why))
    return routes


def _django(repo: Repo, trees: dict[str, ast.Module], context: str) -> list[Route]:
    confs = {p: t for p, t in trees.items() if posixpath.basename(p) == "urls.py"}
    if not confs:
        return []
    by_module = {".".join(_module(p, context)): p for p in confs}
    included: dict[str, tuple[str, str]] = {}  # urls file -> (prefix, the file including it)
    patterns: dict[str, list[tuple[str, ast.Call]]] = {}
    for path, tree in confs.items():
        patterns[path] = []
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = pyvalues.dotted(call.func).rsplit(".", 1)[-1]
            if name not in ("path", "re_path", "url") or not call.args:
                continue
            first = call.args[0]
            if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                continue
            written = _django_path(first.value, regex=name != "path")
            target = call.args[1] if len(call.args) > 1 else None
            if isinstance(target, ast.Call) and pyvalues.dotted(target.func).endswith("include"):
                module = target.args[0] if target.args else None
                if isinstance(module, ast.Tuple) and module.elts:
                    module = module.elts[0]
                file = _urls_file(by_module, module) if module is not None else None
                if file and written is not None:
                    included[file] = (written, path)
                continue
            if written is not None:
                patterns[path].append((written, call))
    routes = []
    for path, found in patterns.items():
        prefix = _chain(path, included)
        for written, call in found:
            full = "/" + (prefix + written).lstrip("/")
            why = f"{pyvalues.dotted(call.func)}({written!r})"
            routes.append(Route("GET", full, Source(path, call.lineno), why))
    return routes


def _chain(path: str, included: dict[str, tuple[str, str]]) -> str:
    prefix, seen = "", {path}
    while path in included:
        part, path = included[path]
        prefix = part + prefix
        if path in seen:
            break
        seen.add(path)
    return prefix


def _urls_file(by_module: dict[str, str], node: ast.expr) -> str | None:
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return None
    module = node.value
    for name, file in by_module.items():
        if name == module or name.endswith("." + module) or module.endswith("." + name):
            return file
    return None


def _django_path(written: str, regex: bool) -> str | None:
    if not regex:
        return written
    plain = written.removeprefix("^").removesuffix("$")
    return plain if re.fullmatch(r"[\w./-]*", plain) else None
