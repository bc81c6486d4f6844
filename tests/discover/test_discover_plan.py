"""The plan init writes: tests, dependencies, limits, port and health precedence, rendering."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mutbot.config import Config, load_config
from mutbot.discover import render, testsuite
from mutbot.discover.dockerfiles import read_image
from mutbot.discover.model import Repo
from mutbot.discover.plan import Plan, discover
from mutbot.errors import ConfigError
from mutbot.validate import user_classes


def plan(files: dict[str, str], service: str | None = None) -> Plan:
    return discover(Repo(files, files.get), service)


def written(tmp_path: Path, found: Plan) -> tuple[str, Config]:
    text = render.config(found)
    (tmp_path / ".mutbot.yml").write_text(text)
    return text, load_config(tmp_path / ".mutbot.yml")


def comment(text: str, key: str) -> str:
    """The comment of the first line that starts with `key`."""
    line = next(row for row in text.splitlines() if row.lstrip().startswith(key))
    return line.split(" # ", 1)[1]


PY_APP = "from flask import Flask\napp = Flask(__name__)\n@app.get('/')\ndef i(): ...\n"
PYTEST = "import pytest\n\ndef test_x():\n    assert True\n"
UNITTEST = "import unittest\n\nclass T(unittest.TestCase):\n    def test_x(self): ...\n"


def suite_of(files: dict[str, str]) -> tuple[str | None, str]:
    found = plan({"app.py": PY_APP, **files}).tests
    return found.value, found.why


DEV = {"requirements-dev.txt": "-r requirements.txt\npytest==8\n"}
POETRY = {"pyproject.toml": "[tool.poetry.group.dev.dependencies]\npytest = '*'\n"}
EXTRAS = {
    "pyproject.toml": "[project]\nname='x'\n[project.optional-dependencies]\ntest = ['pytest']\n"
}
ONLY_DEV = " (only requirements-dev.txt names it)"
NO_PYTEST = "the tests use pytest (tests/test_a.py), which the image does not install"
PYTEST_IN = ("python -m pytest -q", "pytest is installed in the image")


@pytest.mark.parametrize(
    ("install", "extra", "expected"),
    [
        ("pip install -r requirements.txt", DEV, (None, NO_PYTEST + ONLY_DEV)),
        ("pip install -r requirements-dev.txt", DEV, PYTEST_IN),
        ("pip install -r requirements.txt pytest", {}, PYTEST_IN),
        ("poetry install --without dev", POETRY, (None, NO_PYTEST)),
        ("poetry install", POETRY, PYTEST_IN),
        ("pip install .[test]", EXTRAS, PYTEST_IN),
    ],
)  # fmt: skip
def test_pytest_must_be_installed_in_the_image(
    install: str, extra: dict[str, str], expected: tuple[str | None, str]
) -> None:
    files = {
        "Dockerfile": (
            "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements*.txt .\n"
            f"RUN {install}\nCOPY . .\nCMD python app.py\n"
        ),
        "requirements.txt": "flask\n",
        "tests/test_a.py": PYTEST,
        **extra,
    }
    assert suite_of(files) == expected
    only_the_app = {**files, "Dockerfile": files["Dockerfile"].replace("COPY . .", "COPY app.py .")}
    assert suite_of(only_the_app) == (
        None,
        "the tests (tests/) are not in the image: no COPY takes them",
    )


def test_unittest_needs_no_runner_and_dockerignore_counts() -> None:
    files = {
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /srv\nCOPY . .\nCMD python app.py\n",
        "tests/test_a.py": UNITTEST,
    }
    assert suite_of(files)[0] == "python -m unittest discover -s tests"
    ignored = {**files, ".dockerignore": "tests/\n"}
    assert suite_of(ignored) == (
        None,
        "the tests (tests/) are not in the image: .dockerignore leaves them out",
    )
    needs_db = {**files, "tests/test_a.py": UNITTEST + "URL = os.environ['DATABASE_URL']\n"}
    assert suite_of(needs_db) == (
        None, "the tests need a database (tests/test_a.py), and it is not a sandbox service",
    )  # fmt: skip


DJANGO_SETTINGS = (
    "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'HOST': 'db'}}\n"
)
DJANGO = {
    "Dockerfile": "FROM python:3.11-slim\nWORKDIR /code\nCOPY . .\nCMD gunicorn s.wsgi -b :8000\n",
    "manage.py": "",
    "site/settings.py": DJANGO_SETTINGS,
    "blog/tests.py": "from django.test import TestCase\n",
}


def test_django_tests_need_their_database_as_a_service() -> None:
    assert plan(DJANGO).tests.value is None
    assert (
        plan(DJANGO).tests.why
        == "Django's tests need the database, and it is not a sandbox service"
    )
    composed = {
        **DJANGO,
        "compose.yml": (
            "services:\n  web:\n    build: .\n    depends_on: [db]\n  db:\n    image: postgres:16\n"
        ),
    }
    found = plan(composed).tests
    assert (found.value, found.why) == (
        "python manage.py test",
        "Django tests; with the database service db",
    )
    sqlite = {
        **DJANGO,
        "site/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n",
    }
    assert plan(sqlite).tests.value == "python manage.py test"


NPM_DEFAULT = '"test": "echo \\"Error: no test specified\\" && exit 1"'
DEV_RUNNER = "the test runner jest is a devDependency, which the image does not install"
NODE_DOCKERFILE = (
    "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN {install}\nCOPY . .\n"
    "CMD node server.js\n"
)


@pytest.mark.parametrize(
    ("install", "scripts", "command", "why"),
    [
        ("npm ci --omit=dev", '"test": "jest"', None, DEV_RUNNER),
        ("npm ci", '"test": "jest --ci"', "npm test", "jest is installed in the image"),
        ("npm i --production", '"test": "node --test"', "npm test", "npm test runs 'node --test'"),
        ("npm ci", NPM_DEFAULT, None, "package.json has no test script"),
        ("npm ci", '"test": "mocha"', None, "the test runner mocha is not installed in the image"),
    ],
)  # fmt: skip
def test_node_test_runners(install: str, scripts: str, command: str | None, why: str) -> None:
    files = {
        "Dockerfile": NODE_DOCKERFILE.format(install=install),
        "package.json": (
            '{"scripts": {' + scripts + '}, "dependencies": {"express": "4"}, '
            '"devDependencies": {"jest": "29"}}'
        ),
        "server.js": "app.listen(3000)\n",
        "test/app.test.js": "test('x', () => {})\n",
    }
    found = plan(files).tests
    assert (found.value, found.why) == (command, why)


def test_go_tests_need_the_toolchain_in_the_final_image() -> None:
    files = {"main.go": "package main\n", "main_test.go": "package main\n", "go.mod": "module x\n"}
    one_stage = {
        **files,
        "Dockerfile": 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build .\nCMD ["/s"]\n',
    }
    assert plan(one_stage).tests.value == "go test ./..."
    image = read_image(Repo(one_stage, one_stage.get), "Dockerfile")
    assert image is not None
    setting = testsuite.Setting(Repo(one_stage, one_stage.get), image, ".", {}, {})
    assert testsuite.tests(setting).value == "go test ./..."


COMPOSE_DB = """
services:
  web:
    build: .
    environment:
      DATABASE_URL: postgresql://app:s3cret-pw@db/app
      REDIS_URL: redis://:r3dis-pw@cache:6379/0
      SECRET_KEY: k3y-value-never-written
      SENTRY_DSN: ${SENTRY_DSN}
      WORKERS: ${WORKERS:-2}
      FROM_HOST:
    depends_on: [db, cache, queue, worker, search]
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: s3cret-pw
    healthcheck:
      test: ["CMD-SHELL", "PGPASSWORD=s3cret-pw pg_isready -U app"]
  cache:
    image: redis:7
    command: ["redis-server", "--requirepass", "r3dis-pw"]
    environment:
      REDIS_PASSWORD: r3dis-pw
  queue:
    image: rabbitmq:3
  worker:
    build: .
  search:
    image: getmeili/meilisearch:v1.8
    ports: ["7700:7700"]
"""


def test_dependencies_and_no_secret_in_the_config(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM python:3.11-slim\nCOPY . .\nCMD gunicorn -b :8000 app:app\n",
        "compose.yml": COMPOSE_DB,
    }
    found = plan(files)
    text, config = written(tmp_path, found)
    for secret in ("s3cret-pw", "r3dis-pw", "k3y-value-never-written"):
        assert secret not in text
    sandbox = config.sandbox
    assert sandbox.env == {
        "DATABASE_URL": "postgresql://app@db/app",
        "REDIS_URL": "redis://@cache:6379/0",
        "WORKERS": "2",
    }
    assert sandbox.throwaway_env == ["SECRET_KEY"]
    assert "# CHECK: SENTRY_DSN left out: its value is interpolated (${SENTRY_DSN})" in text
    assert "# CHECK: FROM_HOST left out: its value comes from the host's environment" in text
    assert list(sandbox.services) == ["db", "cache", "queue", "search"]
    db = sandbox.services["db"]
    assert db.env == {"POSTGRES_USER": "app", "POSTGRES_HOST_AUTH_METHOD": "trust"}
    assert (
        db.health is not None and db.health.command == "pg_isready -U app"
    )  # not the one with the password
    cache = sandbox.services["cache"]
    assert cache.command is None and cache.health is not None
    assert cache.health.command == "redis-cli ping"
    assert sandbox.services["queue"].health.port == 5672
    assert sandbox.services["search"].health.port == 7700
    assert "# CHECK: depends on `worker`, built here too: not started" in text
    assert comment(text, "REDIS_URL") == "environment in compose.yml:7"


def test_a_missing_env_file_is_read_from_its_committed_sample(tmp_path: Path) -> None:
    compose = (
        "services:\n  web:\n    build: .\n    env_file: [.env.prod, .env.extra]\n"
        "    depends_on: [db]\n  db:\n    image: postgres:16\n    env_file: .env.db\n"
    )
    files = {
        "Dockerfile": "FROM python:3.11-slim\nCOPY . .\nCMD gunicorn -b :8000 app:app\n",
        "compose.prod.yml": compose,
        ".env.prod-sample": "DEBUG=0\nDATABASE_URL=postgresql://u:pw-in-sample@db/app\n",
        ".env.db.example": "POSTGRES_USER=u\nPOSTGRES_PASSWORD=pw-in-sample\n",
    }
    text, config = written(tmp_path, plan(files))
    assert "pw-in-sample" not in text
    assert config.sandbox.env == {"DEBUG": "0", "DATABASE_URL": "postgresql://u@db/app"}
    assert comment(text, "DEBUG") == "environment in .env.prod-sample:1"
    assert (
        "# CHECK: env_file .env.prod is not in the repository: its sample .env.prod-sample read"
        " in compose.prod.yml:4; check the values taken from it" in text
    )
    assert "# CHECK: env_file .env.extra is not in the repository: not read" in text
    assert config.sandbox.services["db"].env == {
        "POSTGRES_USER": "u",
        "POSTGRES_HOST_AUTH_METHOD": "trust",
    }


def test_limits_from_compose_or_kubernetes() -> None:
    base = {"Dockerfile": "FROM python:3.11-slim\nCMD gunicorn -b :80 a:a\n"}
    found = plan(base)
    assert (found.cpus.value, found.memory.value) == (1.0, "512m")
    assert found.cpus.doubt and found.memory.doubt
    k8s = (
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: a\n          image: me/a\n"
        "          resources: {limits: {cpu: 1500m, memory: 0.5Gi}}\n"
    )
    found = plan({**base, "k8s/d.yaml": k8s})
    assert (found.cpus.value, found.memory.value) == (1.5, "512m")
    assert found.memory.why == "limits.memory 0.5Gi"
    compose = "services:\n  a:\n    build: .\n    mem_limit: 64MB\n    cpus: 2\n"
    found = plan({**base, "k8s/d.yaml": k8s, "compose.yml": compose})
    assert (found.cpus.value, found.memory.value) == (2.0, "64m")
    tiny = "services:\n  a:\n    build: .\n    mem_limit: 256\n"
    assert plan({**base, "compose.yml": tiny}).memory.value == "512m"  # 256 bytes: not a limit


def test_port_precedence_and_doubts() -> None:
    declared = "FROM python:3.11-slim\nEXPOSE 8080\nCMD gunicorn --bind 0.0.0.0:5000 app:app\n"
    found = plan({"Dockerfile": declared}).port
    assert (found.value, found.why, found.doubt) == (
        5000, "gunicorn --bind 0.0.0.0:5000 (also declared: 8080)", None,
    )  # fmt: skip
    loopback = "FROM python:3.11-slim\nEXPOSE 8000\nCMD uvicorn app:app\n"
    found = plan({"Dockerfile": loopback}).port
    assert (found.value, found.why) == (8000, "EXPOSE 8000")
    assert found.doubt == "uvicorn binds 127.0.0.1: nothing outside the container reaches it"
    other = "FROM python:3.11-slim\nEXPOSE 9000\nCMD gunicorn app:app\n"
    found = plan({"Dockerfile": other}).port
    assert found.value == 9000 and found.doubt is not None and "says 8000" in found.doubt
    nothing = plan({"Dockerfile": 'FROM x\nCMD ["/bin/serve"]\n'}).port
    assert (nothing.value, nothing.doubt) == (8080, "the port the service listens on")


def test_health_precedence() -> None:
    app = "@app.get('/ping')\ndef p(): ...\n@app.get('/')\ndef r(): ...\n"
    dockerfile = "FROM python:3.11-slim\nCOPY . .\nCMD gunicorn -b :8000 app:app\n"
    assert plan({"Dockerfile": dockerfile, "app.py": app}).health.value == "/ping"
    check = dockerfile + "HEALTHCHECK CMD wget -qO- http://localhost:8000/up || exit 1\n"
    found = plan({"Dockerfile": check, "app.py": app}).health
    assert (found.value, found.why, found.doubt) == ("/up", "HEALTHCHECK asks /up", None)
    other_port = dockerfile + "HEALTHCHECK CMD curl -f localhost:9000/up\n"
    assert plan({"Dockerfile": other_port}).health.doubt == "it asks port 9000, not 8000"
    root = plan({"Dockerfile": dockerfile, "app.py": "@app.get('/')\ndef r(): ...\n"}).health
    assert (root.value, root.doubt) == ("/", None)
    nothing = plan({"Dockerfile": dockerfile}).health
    assert (nothing.value, nothing.doubt) == (
        "/",
        "a path that answers 2xx once the service is ready",
    )


def test_service_choice_and_unknown_names() -> None:
    files = {
        "Dockerfile": "FROM python:3.11-slim\nCMD gunicorn -b :8000 a:a\n",
        "Dockerfile.dev": "FROM python:3.11\nCMD flask run\n",
        "docker/worker.Dockerfile": "FROM python:3.11-slim\nCMD celery worker\n",
    }
    found = plan(files)
    assert found.service is not None and found.service.value == "Dockerfile Dockerfile"
    assert found.others == ["Dockerfile docker/worker.Dockerfile", "Dockerfile Dockerfile.dev"]
    chosen = plan(files, "Dockerfile.dev")
    assert chosen.dockerfile.value == "Dockerfile.dev" and chosen.service is not None
    assert chosen.service.why == "chosen with --service"
    with pytest.raises(ConfigError) as caught:
        plan(files, "api")
    assert str(caught.value) == (
        "--service 'api': no such service; the services: Dockerfile, docker/worker.Dockerfile, "
        "Dockerfile.dev"
    )


def test_nothing_to_build(tmp_path: Path) -> None:
    found = plan({"README.md": "hi"})
    text, config = written(tmp_path, found)
    assert config.sandbox.dockerfile == "Dockerfile"
    assert "# CHECK: no Dockerfile found; mutbot builds and measures a Docker image" in text
    assert config.load.locustfile == "loadtest/locustfile.py" and found.new_locustfile
    assert render.checks(text) == 6


def test_the_locustfile_is_python_with_a_user(tmp_path: Path) -> None:
    app = "\n".join(
        f"@app.get({p!r})\ndef f{i}(): ..."
        for i, p in enumerate(["/", "/a-b", "/a_b", '/"q"', "/x/<id>", "/healthz"])
    )
    found = plan({"Dockerfile": "FROM x\nCOPY . .\nCMD gunicorn -b :1 app:app\n", "app.py": app})
    text = render.locustfile(found)
    tree = ast.parse(text)
    assert user_classes(tree) == ["Visitor"]
    calls = [
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "get"
    ]
    assert calls == ["/", "/a-b", "/a_b", '/"q"', "/healthz"]
    names = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert len(names) == len(set(names))


NAMES = (
    "Dockerfile", "compose.yml", "app.py", "server.js", "main.go", "openapi.yaml",
    "k8s/deploy.yaml", ".dockerignore", "package.json", "entrypoint.sh", "gunicorn.conf.py",
    "app/urls.py", "ecosystem.config.js", ".env.prod", "requirements.txt", "tests/test_a.py",
)  # fmt: skip
TOKENS = (
    "FROM x", "CMD ", "EXPOSE ", "HEALTHCHECK CMD ", "COPY . .", "ENTRYPOINT ", "services:",
    "build:", "image:", "ports:", "kind: Deployment", "containers:", "- ", "{", "}", "[", "]",
    "&a", "*a", "<<:", ":", "=", '"', "'", "$", "${P:-", "80", "/", "\n", "  ", "\\", "-", ".",
    "@app.get(", "listen(", "path(", "gunicorn", "--bind", "-b", ":8000", "exec", '"$@"', "sh -c",
    "urlpatterns", "HandleFunc(", "paths:", "get:", "require(", ".use(", "bind =", "PASSWORD=x",
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(NAMES),
        st.lists(st.sampled_from(TOKENS), max_size=40).map("".join),
    )
)
def test_any_files_give_a_config_that_loads(files: dict[str, str]) -> None:
    """Whatever the repository holds, init writes a config the loader accepts and a locustfile
    that parses."""
    found = plan(files)
    Config.model_validate(yaml.safe_load(render.config(found)))
    ast.parse(render.locustfile(found))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_scalars_read_back_exactly(value: str) -> None:
    assert yaml.safe_load(f"key: {render.scalar(value)}") == {"key": value}


def test_a_target_the_dockerfile_lacks_and_a_probe_on_another_port() -> None:
    files = {
        "Dockerfile": "FROM python:3.11-slim AS base\nCMD gunicorn -b :8000 a:a\n",
        "compose.yml": "services:\n  web:\n    build: {context: ., target: prod}\n",
    }
    found = plan(files)
    assert (found.dockerfile.value, found.dockerfile.doubt) == (
        "Dockerfile",
        "it has no stage prod",
    )
    k8s = (
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: a\n          image: me/a\n"
        "          livenessProbe: {httpGet: {path: healthz, port: 9000}}\n"
    )
    found = plan({"Dockerfile": files["Dockerfile"], "k8s/a.yaml": k8s})
    assert (found.health.value, found.health.doubt) == ("/healthz", "it asks port 9000, not 8000")
