"""The HTTP routes a service declares (pure): Flask and FastAPI decorators (with blueprint and
router prefixes), Django `urlpatterns` (following `include`), handlers of Python's http.server,
Express routes (with `app.use` prefixes), Go's `HandleFunc` and router methods, and a committed
OpenAPI spec. Each route keeps its method and line; those without parameters can be loaded."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlparse

from yaml.nodes import Node

from mutbot.discover import nodes, pyroutes
from mutbot.discover.model import Repo, Source
from mutbot.discover.pyroutes import Route

_JS = (".js", ".mjs", ".cjs", ".ts")
_SKIP_DIRS = {"node_modules", "test", "tests", "__tests__", "spec", "migrations", "vendor", "dist"}
_SKIP_DIRS |= {"venv", ".venv", "site-packages", "docs", "examples", "testdata", "fixtures"}
_JS_ROUTE = re.compile(
    r"\b(\w+)\.(get|post|put|patch|delete|all)\(\s*(['\"`])(/[^'\"`]*|\*)\3", re.IGNORECASE
)
_JS_REQUIRE = re.compile(
    r"(?:const|let|var)\s+(\w+)\s*=\s*require\(\s*['\"](\.[^'\"]+)['\"]\s*\)"
    r"|import\s+(\w+)\s+from\s+['\"](\.[^'\"]+)['\"]"
)
_JS_USE = re.compile(
    r"\b\w+\.use\(\s*['\"](/[^'\"]*)['\"]\s*,\s*(?:require\(\s*['\"](\.[^'\"]+)['\"]\s*\)|(\w+))"
)
_GO_ROUTE = re.compile(
    r"\.(HandleFunc|Handle|Get|GET|Post|POST|Put|PUT|Delete|DELETE|Any|Patch|PATCH)\(\s*\"([^\"]+)\""
)
_OPENAPI = re.compile(r"(openapi|swagger|api-spec|api)[\w.-]*\.(ya?ml|json)")
_EXCLUDED = re.compile(
    r"/(admin|docs|redoc|openapi[\w.]*|swagger[\w.-]*|static|assets|metrics|favicon\.ico|debug)"
    r"(/|$)"
)
_HEALTH = ("healthz", "health", "healthcheck", "health-check", "_health", "readyz", "ready",
           "readiness", "livez", "live", "liveness", "alive", "ping", "status", "up")  # fmt: skip

__all__ = ["Route", "declared", "health_route", "loadable"]


def declared(repo: Repo, context: str) -> list[Route]:
    """Every route declared in the build context, by file then line."""
    files = [f for f in repo.under(context) if not set(f.split("/")[:-1]) & _SKIP_DIRS]
    found = pyroutes.python_routes(repo, [f for f in files if f.endswith(".py")], context)
    found += _express(repo, [f for f in files if f.endswith(_JS)])
    found += _go(repo, [f for f in files if f.endswith(".go") and not f.endswith("_test.go")])
    for path in files:
        if _OPENAPI.fullmatch(posixpath.basename(path)):
            found += _openapi(repo, path)
    unique = {(r.method, r.path): r for r in reversed(found)}
    return sorted(unique.values(), key=lambda r: (r.source.path, r.source.line or 0, r.path))


def loadable(routes: list[Route]) -> list[Route]:
    """GET routes without parameters, leaving out admin pages, docs, static files, metrics."""
    return [
        r
        for r in routes
        if r.method in ("GET", "*") and r.fixed and not _EXCLUDED.search(r.path.lower())
    ]


def health_route(routes: list[Route]) -> Route | None:
    named = [r for r in loadable(routes) if _last(r.path) in _HEALTH]
    return min(named, key=lambda r: (_HEALTH.index(_last(r.path)), r.path), default=None)


def _last(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1].lower()


def _express(repo: Repo, files: list[str]) -> list[Route]:
    mounts: dict[str, str] = {}  # file -> prefix
    for path in files:
        text = repo.read(path) or ""
        required = {}
        for found in _JS_REQUIRE.finditer(text):
            name, target = (found[1], found[2]) if found[1] else (found[3], found[4])
            required[name] = _js_file(repo, posixpath.dirname(path), target)
        for found in _JS_USE.finditer(text):
            target = required.get(found[3]) if found[3] else None
            if found[2]:
                target = _js_file(repo, posixpath.dirname(path), found[2])
            if target:
                mounts[target] = found[1].rstrip("/")
    routes = []
    for path in files:
        text = repo.read(path) or ""
        for found in _JS_ROUTE.finditer(text):
            line = text.count("\n", 0, found.start()) + 1
            mount = mounts.get(path, "")
            full = found[4] if not mount else mount if found[4] == "/" else mount + found[4]
            why = f"{found[1]}.{found[2]}('{found[4]}')"
            routes.append(
                Route(found[2].upper().replace("ALL", "*"), full or "/", Source(path, line), why)
            )
    return routes


def _js_file(repo: Repo, folder: str, target: str) -> str | None:
    base = posixpath.normpath(posixpath.join(folder, target))
    for candidate in (base, *(base + e for e in _JS), base + "/index.js"):
        if candidate in repo.fileset:
            return candidate
    return None


def _go(repo: Repo, files: list[str]) -> list[Route]:
    routes = []
    for path in files:
        text = repo.read(path) or ""
        for found in _GO_ROUTE.finditer(text):
            method, _, pattern = found[2].rpartition(" ")  # Go 1.22: "GET /items/{id}"
            if not pattern.startswith("/") or (pattern.endswith("/") and pattern != "/"):
                continue  # a subtree ("/items/") takes a rest of the path
            verb = method or found[1].upper()
            verb = "*" if verb in ("HANDLEFUNC", "HANDLE", "ANY") else verb
            line = text.count("\n", 0, found.start()) + 1
            routes.append(Route(verb, pattern, Source(path, line), f'{found[1]}("{found[2]}")'))
    return routes


def _openapi(repo: Repo, path: str) -> list[Route]:
    docs = nodes.documents(repo.read(path) or "")
    if not docs or nodes.get(docs[0], "paths") is None:
        return []
    doc = docs[0]
    prefix = nodes.text(nodes.get(doc, "basePath")) or ""
    server = nodes.seq(nodes.get(doc, "servers"))
    if server and (url := nodes.text(nodes.get(server[0], "url"))):
        prefix = urlparse(url).path if "://" in url else url
    prefix = "" if "{" in prefix else prefix.rstrip("/")
    routes = []
    for key, item in nodes.entries(nodes.get(doc, "paths")):
        shared = _required(nodes.get(item, "parameters"))
        for method, operation in nodes.items(item):
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
                continue
            needs = shared or _required(nodes.get(operation, "parameters"))
            route = Route(
                method.upper(), prefix + str(key.value), Source(path, nodes.line(key)),
                f"OpenAPI {method} {key.value}", needs,
            )  # fmt: skip
            routes.append(route)
    return routes


def _required(parameters: Node | None) -> bool:
    return any(nodes.text(nodes.get(p, "required")) == "true" for p in nodes.seq(parameters))
