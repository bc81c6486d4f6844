"""Routes read from Flask, FastAPI, Django, http.server, Express, Go and OpenAPI."""

from __future__ import annotations

from mutbot.discover import routes
from mutbot.discover.model import Repo, Source


def declared(files: dict[str, str], context: str = ".") -> dict[tuple[str, str], Source]:
    return {(r.method, r.path): r.source for r in routes.declared(Repo(files, files.get), context)}


def loadable(files: dict[str, str]) -> list[str]:
    return [r.path for r in routes.loadable(routes.declared(Repo(files, files.get), "."))]


FLASK = """
from flask import Blueprint, Flask

api = Blueprint("api", __name__, url_prefix="/api")


def create_app():
    app = Flask(__name__)

    @app.route("/")
    def index():
        return "hi"

    @app.route("/submit", methods=["POST"])
    def submit():
        return "ok"

    @app.get("/users/<int:user_id>")
    def user(user_id):
        return "u"

    app.register_blueprint(api)
    return app


@api.get("/items")
def items():
    return []
"""


def test_flask_routes_and_a_blueprint_prefix() -> None:
    found = declared({"app/__init__.py": FLASK})
    assert found == {
        ("GET", "/"): Source("app/__init__.py", 10),
        ("POST", "/submit"): Source("app/__init__.py", 14),
        ("GET", "/users/<int:user_id>"): Source("app/__init__.py", 18),
        ("GET", "/api/items"): Source("app/__init__.py", 26),
    }
    assert loadable({"app/__init__.py": FLASK}) == ["/", "/api/items"]


def test_fastapi_routers_included_with_a_prefix_and_required_query_parameters() -> None:
    main = (
        "from fastapi import FastAPI\nfrom app.routers import items\nfrom app import users\n"
        "app = FastAPI()\napp.include_router(items.router, prefix='/items')\n"
        "app.include_router(users.router)\n\n@app.get('/ping')\nasync def ping():\n    return {}\n"
    )
    items = (
        "from fastapi import APIRouter, Depends, Request\nrouter = APIRouter()\n"
        "@router.get('')\ndef all(limit: int = 10, db: Session = Depends(get_db)):\n    ...\n"
        "@router.get('/search')\ndef search(q: str):\n    ...\n"
        "@router.get('/{item_id}')\ndef one(item_id: int):\n    ...\n"
        "@router.get('/mine')\ndef mine(request: Request):\n    ...\n"
    )
    users = (
        "from fastapi import APIRouter\nrouter = APIRouter(prefix='/users')\n"
        "@router.get('/')\ndef users(): ...\n"
    )
    files = {"app/main.py": main, "app/routers/items.py": items, "app/users.py": users}
    assert sorted(loadable(files)) == ["/items", "/items/mine", "/ping", "/users/"]
    found = routes.declared(Repo(files, files.get), ".")
    search = next(r for r in found if r.path == "/items/search")
    assert search.required_query and not search.fixed


def test_django_urlpatterns_through_include() -> None:
    root = (
        "from django.urls import include, path, re_path\nurlpatterns = [\n"
        "    path('admin/', admin.site.urls),\n    path('api/', include('shop.urls')),\n"
        "    path('', views.home),\n    re_path(r'^about/$', views.about),\n"
        "    re_path(r'^post/(?P<pk>\\d+)/$', views.post),\n]\n"
    )
    shop = (
        "from django.urls import path\nurlpatterns = [\n    path('products/', v.products),\n"
        "    path('products/<int:pk>/', v.product),\n    path('health/', v.health),\n]\n"
    )
    files = {"site/mysite/urls.py": root, "site/shop/urls.py": shop, "site/manage.py": ""}
    found = declared(files, "site")
    assert found[("GET", "/api/products/")] == Source("site/shop/urls.py", 3)
    assert found[("GET", "/")] == Source("site/mysite/urls.py", 5)
    found_routes = routes.declared(Repo(files, files.get), "site")
    assert sorted(r.path for r in routes.loadable(found_routes)) == [
        "/", "/about/", "/api/health/", "/api/products/",
    ]  # fmt: skip
    assert (
        routes.health_route(routes.declared(Repo(files, files.get), "site")).path == "/api/health/"
    )


def test_http_server_handlers() -> None:
    app = (
        "class Handler(BaseHTTPRequestHandler):\n    def do_GET(self):\n"
        "        url = urlparse(self.path)\n        if url.path == '/healthz':\n            pass\n"
        "        elif self.path == '/price':\n            pass\n"
        "    def do_POST(self):\n        if self.path == '/order':\n            pass\n"
    )
    assert declared({"app.py": app}) == {
        ("GET", "/healthz"): Source("app.py", 4),
        ("GET", "/price"): Source("app.py", 6),
        ("POST", "/order"): Source("app.py", 9),
    }


def test_express_routes_mounted_with_app_use() -> None:
    app = (
        "const express = require('express');\nconst items = require('./routes/items');\n"
        "const app = express();\napp.use('/api/items', items);\n"
        "app.use('/v2', require('./routes/v2'));\napp.get('/healthz', (q, s) => s.send('ok'));\n"
        "app.set('port', 3000);\napp.get('port');\n"
    )
    items = (
        "const router = require('express').Router();\nrouter.get('/', h);\n"
        "router.get('/:id', h);\nrouter.post('/', h);\nmodule.exports = router;\n"
    )
    v2 = "import { Router } from 'express';\nconst r = Router();\nr.get('/stats', h);\n"
    files = {"src/app.js": app, "src/routes/items.js": items, "src/routes/v2.mjs": v2}
    found = declared(files)
    assert found == {
        ("GET", "/healthz"): Source("src/app.js", 6),
        ("GET", "/api/items"): Source("src/routes/items.js", 2),
        ("GET", "/api/items/:id"): Source("src/routes/items.js", 3),
        ("POST", "/api/items"): Source("src/routes/items.js", 4),
        ("GET", "/v2/stats"): Source("src/routes/v2.mjs", 3),
    }
    assert sorted(loadable(files)) == ["/api/items", "/healthz", "/v2/stats"]


def test_go_handlers_and_routers() -> None:
    main = (
        'package main\nfunc main() {\n\tmux.HandleFunc("/healthz", h)\n'
        '\tmux.HandleFunc("/static/", h)\n'
        '\tmux.HandleFunc("GET /items/{id}", h)\n\tmux.HandleFunc("POST /items", h)\n'
        '\tr.Get("/users", h)\n\tg.GET("/orders/:id", h)\n}\n'
    )
    assert declared(
        {"cmd/api/main.go": main, "cmd/api/main_test.go": 'mux.HandleFunc("/t", h)'}
    ) == {
        ("*", "/healthz"): Source("cmd/api/main.go", 3),
        ("GET", "/items/{id}"): Source("cmd/api/main.go", 5),
        ("POST", "/items"): Source("cmd/api/main.go", 6),
        ("GET", "/users"): Source("cmd/api/main.go", 7),
        ("GET", "/orders/:id"): Source("cmd/api/main.go", 8),
    }


def test_openapi_spec() -> None:
    spec = (
        "openapi: 3.0.0\nservers:\n  - url: https://api.example.com/v1\npaths:\n"
        "  /pets:\n    get:\n      parameters:\n        - {name: limit, in: query}\n"
        "  /pets/search:\n    get:\n      parameters:\n"
        "        - {name: q, in: query, required: true}\n"
        "  /pets/{id}:\n    get: {}\n  /owners:\n    post: {}\n"
    )
    assert loadable({"docs-api/openapi.yaml": spec}) == ["/v1/pets"]
    assert declared(
        {"openapi.json": '{"swagger": "2.0", "basePath": "/api", "paths": {"/a": {"get": {}}}}'}
    ) == {
        ("GET", "/api/a"): Source("openapi.json", 1),
    }


def test_health_route_names_and_what_load_leaves_out() -> None:
    files = {
        "app.py": "\n".join(
            f"@app.get('{p}')\ndef f{i}(): ..."
            for i, p in enumerate(
                [
                    "/",
                    "/status",
                    "/ping",
                    "/healthz",
                    "/admin/",
                    "/docs",
                    "/metrics",
                    "/static/x.css",
                ]
            )
        )
    }
    found = routes.declared(Repo(files, files.get), ".")
    assert routes.health_route(found).path == "/healthz"
    assert sorted(r.path for r in routes.loadable(found)) == ["/", "/healthz", "/ping", "/status"]


def test_broken_files_give_no_routes() -> None:
    files = {
        "a.py": "@app.get('/x'\ndef broken(:",
        "b.js": "app.get(",
        "openapi.yaml": "paths: [unclosed",
        "c.py": "route = 1\n" * 10,
        "urls.py": "urlpatterns = [path(1, include(2)), path('x/', include(3))]",
    }
    assert declared(files) == {}
