"""`mutbot init` on the sample repositories (testing/samples/: real-world shapes): the exact
guesses and where each was read, a config `mutbot validate` accepts, a locustfile that defines
a user (and an existing one left alone), `--service`, and no secret in anything written."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mutbot.cli import main
from mutbot.config import Config, load_config
from mutbot.init import Written, init
from mutbot.validate import user_classes
from testing.repos import ROOT, make_repo

SAMPLES = ROOT / "testing" / "samples"


def initialised(
    tmp_path: Path, sample: str, service: str | None = None
) -> tuple[Written, str, Config]:
    project = make_repo(tmp_path / sample, source=SAMPLES / sample)
    for old in (".mutbot.yml",):
        (project / old).unlink(missing_ok=True)
    written = init(project, service=service)
    text = (project / ".mutbot.yml").read_text()
    return written, text, load_config(project / ".mutbot.yml")


def said(text: str, key: str) -> str:
    """The comment on the first line whose content starts with `key`."""
    line = next(row for row in text.splitlines() if row.lstrip().startswith(key))
    return line.split(" # ", 1)[1]


def requests(locustfile: Path) -> list[str]:
    tree = ast.parse(locustfile.read_text())
    assert user_classes(tree) == ["Visitor"]
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.args[0], ast.Constant)
    ]


def validates(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--repo", str(project)]) == 0, capsys.readouterr().err


def test_flask_under_gunicorn_from_an_entrypoint_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (SAMPLES / "notes-flask/loadtest/locustfile.py").read_text()
    written, text, config = initialised(tmp_path, "notes-flask")
    sandbox = config.sandbox
    assert "# The service: compose service `web` (docker-compose.yml), a compose service" in text
    assert "#   Dockerfile Dockerfile.dev" in text  # the other candidate, listed
    assert config.targets == ["Dockerfile", "boot.sh", "requirements.txt", "config/**"]
    assert (sandbox.dockerfile, sandbox.context) == ("Dockerfile", ".")
    assert sandbox.env == {"DATABASE_URL": "postgresql://notes@db:5432/notes"}
    assert sandbox.port == 5000
    assert said(text, "port:") == "gunicorn --bind 0.0.0.0:${PORT:-5000} in boot.sh:4"
    assert sandbox.health == "/health"
    assert said(text, "health:") == "HEALTHCHECK asks /health in Dockerfile:7"
    assert (sandbox.cpus, sandbox.memory) == (1.0, 512 * 1024**2)
    assert said(text, "memory:") == "limits.memory 512Mi in k8s/deployment.yaml:18"
    db = sandbox.services["db"]
    assert db.image == "postgres:16"
    assert db.env == {"POSTGRES_USER": "notes", "POSTGRES_HOST_AUTH_METHOD": "trust"}
    assert db.health is not None and db.health.command == "pg_isready -U notes"
    assert said(text, 'command: "pg_isready') == "healthcheck in docker-compose.yml:16"
    assert config.tests.command == "python -m unittest discover -s tests"
    assert config.load.locustfile == "loadtest/locustfile.py"
    assert written.locustfile is None  # it has one: left as it was
    project = tmp_path / "notes-flask"
    assert (project / "loadtest/locustfile.py").read_text() == before
    assert "notes:notes@" not in text and "POSTGRES_PASSWORD:" not in text
    validates(project, capsys)


def test_fastapi_under_uvicorn_with_a_build_target_and_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written, text, config = initialised(tmp_path, "shop-fastapi")
    sandbox = config.sandbox
    assert "# The service: compose service `api` (compose.prod.yaml)" in text  # not compose.yaml
    assert "#   compose service `api` (compose.yaml)" in text
    assert config.targets == ["Dockerfile", "requirements.txt"]
    assert (sandbox.build.target, sandbox.build.args) == ("runtime", {"PYTHON_VERSION": "3.11"})
    assert said(text, "target:") == "build.target in compose.prod.yaml:5"
    assert sandbox.command is None  # the image's CMD runs
    assert sandbox.env == {
        "REDIS_URL": "redis://cache:6379/0",
        "LOG_LEVEL": "info",
        "CACHE_TTL_SECONDS": "30",
    }
    assert sandbox.throwaway_env == ["PAYMENTS_API_TOKEN"]
    assert (
        "  # CHECK: SENTRY_DSN left out: its value is interpolated (${SENTRY_DSN}) in "
        "compose.prod.yaml:16; the service may need it; set a literal value in sandbox.env"
    ) in text
    assert sandbox.port == 8000 and said(text, "port:") == "uvicorn --port 8000 in Dockerfile:12"
    assert sandbox.health == "/healthz"
    assert said(text, "health:") == "@app.get('/healthz') in app/main.py:23"
    assert (sandbox.cpus, sandbox.memory) == (0.5, 256 * 1024**2)
    cache = sandbox.services["cache"]
    assert cache.image == "redis:7" and cache.health is not None
    assert cache.health.command == ["redis-cli", "ping"]
    assert config.tests.command is None
    assert (
        said(text, "command: null") == "the tests (tests/) are not in the image: no COPY takes them"
    )
    project = tmp_path / "shop-fastapi"
    assert written.locustfile == project / "loadtest/locustfile.py"
    assert requests(written.locustfile) == ["/", "/items", "/items/featured", "/healthz"]
    assert written.notes == [
        "git ignores .mutbot.yml (rule `.*` in .gitignore:2): commit it with "
        "`git add -f .mutbot.yml`",
        "git ignores .github/workflows/mutbot.yml (rule `.*` in .gitignore:2): commit it with "
        "`git add -f .github/workflows/mutbot.yml`",
    ]
    validates(project, capsys)


def test_django_with_a_production_compose_file_and_postgres(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written, text, config = initialised(tmp_path, "blog-django")
    sandbox = config.sandbox
    assert "# The service: compose service `web` (docker-compose.prod.yml)" in text
    assert "#   compose service `nginx` (docker-compose.prod.yml)" in text
    assert config.targets == [
        "app/Dockerfile.prod",
        "app/entrypoint.prod.sh",
        "app/requirements.txt",
        "app/blog/settings.py",
    ]
    assert (sandbox.dockerfile, sandbox.context) == ("app/Dockerfile.prod", "app")
    assert said(text, "context:") == "build.context in docker-compose.prod.yml:4"
    assert sandbox.command == ["gunicorn", "blog.wsgi:application", "--bind", "0.0.0.0:8000"]
    assert sandbox.env["SQL_HOST"] == "db" and sandbox.env["DJANGO_ALLOWED_HOSTS"] == "*"
    assert said(text, "SQL_HOST:") == "environment in .env.prod:8"
    assert sandbox.throwaway_env == ["SECRET_KEY", "SQL_PASSWORD"]
    assert sandbox.port == 8000
    assert said(text, "port:") == "gunicorn --bind 0.0.0.0:8000 in docker-compose.prod.yml:6"
    assert sandbox.health == "/health/"
    assert said(text, "health:") == "path('health/') in app/posts/urls.py:9"
    db = sandbox.services["db"]
    assert (db.image, db.env) == (
        "postgres:15",
        {"POSTGRES_USER": "blog", "POSTGRES_DB": "blog", "POSTGRES_HOST_AUTH_METHOD": "trust"},
    )
    assert db.health is not None and db.health.command == "pg_isready -U blog"
    assert config.tests.command == "python manage.py test"
    assert said(text, 'command: "python manage.py test"').startswith(
        "Django tests; with the database service db"
    )
    assert written.locustfile is not None
    assert requests(written.locustfile) == ["/", "/archive/", "/health/"]
    for secret in ("change_me", "POSTGRES_PASSWORD:", "SQL_PASSWORD:"):
        assert secret not in text
    validates(tmp_path / "blog-django", capsys)


def test_service_chooses_the_compose_service(tmp_path: Path) -> None:
    _, text, config = initialised(tmp_path, "blog-django", service="nginx")
    assert (
        "# The service: compose service `nginx` (docker-compose.prod.yml), chosen with --service"
        in text
    )
    assert (config.sandbox.dockerfile, config.sandbox.port) == ("nginx/Dockerfile", 80)
    assert config.targets == ["nginx/Dockerfile", "nginx/nginx.conf"]


def test_express_under_pm2_deployed_by_kubernetes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written, text, config = initialised(tmp_path, "catalog-express")
    sandbox = config.sandbox
    assert "# The service: container `api` of Deployment catalog (k8s/deployment.yaml)" in text
    assert "# Others" not in text  # the Dockerfile is the same image
    assert config.targets == ["Dockerfile", "ecosystem.config.js"]
    assert sandbox.env == {"NODE_ENV": "production"}
    assert sandbox.throwaway_env == ["SESSION_SECRET"]
    assert sandbox.port == 3000
    assert said(text, "port:") == (
        "PORT=3000 (read by listen(PORT), src/server.js:3) in ecosystem.config.js:10"
    )
    assert sandbox.health == "/ready"
    assert said(text, "health:") == "readinessProbe httpGet.path /ready in k8s/deployment.yaml:27"
    assert (sandbox.cpus, sandbox.memory) == (0.5, 256 * 1024**2)
    assert config.tests.command is None
    assert said(text, "command: null") == (
        "the tests (test/) are not in the image: .dockerignore leaves them out"
    )
    assert written.locustfile is not None
    assert requests(written.locustfile) == ["/", "/healthz", "/api/products", "/ready"]
    validates(tmp_path / "catalog-express", capsys)


def test_go_with_the_address_in_cmd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written, text, config = initialised(tmp_path, "ledger-go")
    sandbox = config.sandbox
    assert config.targets == ["Dockerfile"]
    assert sandbox.port == 9090  # the flag, not EXPOSE 8080
    assert said(text, "port:") == "ledger -addr :9090 (also declared: 8080) in Dockerfile:15"
    assert sandbox.health == "/healthz"
    assert said(text, "health:") == 'HandleFunc("/healthz") in main.go:39'
    assert config.tests.command is None
    assert written.locustfile is not None
    # /v1/accounts/ takes an id; /v1/transfers needs a query parameter (openapi.yaml)
    assert requests(written.locustfile) == ["/v1/accounts", "/v1/stats", "/healthz"]
    validates(tmp_path / "ledger-go", capsys)


def test_flask_under_gunicorn_with_a_conf_file_and_kubernetes_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written, text, config = initialised(tmp_path, "gunicorn-sync")
    sandbox = config.sandbox
    assert "# The service: container `web` of Deployment inventory (k8s/deployment.yaml)" in text
    assert config.targets == [
        "Dockerfile",
        "docker-entrypoint.sh",
        "gunicorn.conf.py",
        "requirements.txt",
    ]
    assert sandbox.command is None and sandbox.entrypoint is None  # the image's ENTRYPOINT runs
    assert sandbox.port == 8000
    assert said(text, "port:") == "gunicorn --bind 0.0.0.0:8000 in docker-entrypoint.sh:5"
    assert sandbox.health == "/healthz"
    assert said(text, "health:") == "HEALTHCHECK asks /healthz in Dockerfile:12"
    assert (sandbox.cpus, sandbox.memory) == (1.0, 512 * 1024**2)
    assert said(text, "memory:") == "limits.memory 512Mi in k8s/deployment.yaml:31"
    assert config.tests.command == "python -m unittest discover -s tests"
    assert written.locustfile is None  # it has one
    assert config.load.locustfile == "loadtest/locustfile.py"
    validates(tmp_path / "gunicorn-sync", capsys)


def test_starlette_under_uvicorn_from_the_image_cmd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written, text, config = initialised(tmp_path, "asgi-uvicorn")
    sandbox = config.sandbox
    assert "# The service: compose service `api` (docker-compose.yml)" in text
    assert config.targets == ["Dockerfile", "requirements.txt"]
    assert sandbox.command is None  # the image's CMD runs
    assert sandbox.env == {"RATES_BASE": "EUR"}
    assert sandbox.port == 8080 and said(text, "port:") == "uvicorn --port 8080 in Dockerfile:12"
    assert sandbox.health == "/health"
    assert said(text, "health:") == "healthcheck asks /health in docker-compose.yml:9"
    assert (sandbox.cpus, sandbox.memory) == (1.0, 256 * 1024**2)
    assert said(text, "cpus:") == "cpus 1 in docker-compose.yml:14"
    assert config.tests.command == "python -m unittest discover -s tests"
    assert written.locustfile is None
    validates(tmp_path / "asgi-uvicorn", capsys)
