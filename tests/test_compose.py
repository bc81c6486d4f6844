"""`sandbox.compose`: the sandbox read from real-shaped compose files (testing/fixtures/compose),
what is left out and why, the precedence of .mutbot.yml, and invalid files named by key path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mutbot.compose_file import with_compose
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError
from testing.repos import ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "compose"


def read(project: Path, fixture: str, at: str = "docker-compose.yml", **keys: Any) -> Any:
    """The sandbox `fixture` (copied to `at` in `project`) gives, and the notes."""
    (project / at).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / fixture, project / at)
    return with_compose(Sandbox.model_validate({"compose": at, **keys}), project)


def written(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.model_dump(exclude_defaults=True, exclude={"compose", "service"})


def test_django_in_a_subfolder_with_anchors_merges_and_defaults(tmp_path: Path) -> None:
    sandbox, derived = read(
        tmp_path, "django-prod.yml", "deploy/docker-compose.prod.yml", service="web"
    )
    assert derived.service == "web"
    assert sandbox.context == "."  # `context: ..` from deploy/
    assert written(sandbox) == {
        "dockerfile": "docker/Dockerfile.prod",
        "build": {
            "target": "runtime",
            "args": {"PYTHON_VERSION": "3.11", "BUILD_ENV": "production"},
        },
        "command": [
            "gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2",
        ],
        "env": {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": "postgres://app@db:5432/app",
            "REDIS_URL": "redis://cache:6379/0",
            "WEB_CONCURRENCY": "2",
            "DEBUG": "no",  # YAML 1.2, as Compose reads it: not False
        },
        "throwaway_env": ["DJANGO_SECRET_KEY"],
        "port": 8000,
        "health": "/health/",
        "services": {
            "db": {
                "image": "postgres:16",
                "env": {
                    "POSTGRES_DB": "app",
                    "POSTGRES_USER": "app",
                    "POSTGRES_HOST_AUTH_METHOD": "trust",
                },
                "health": {"command": "pg_isready -U ${POSTGRES_USER} -d app"},  # $$ is a $
            },
            "cache": {
                "image": "redis:7-alpine",
                "command": ["redis-server", "--save", "", "--appendonly", "no"],
            },
        },
    }  # fmt: skip
    assert list(sandbox.services) == ["db", "cache"]  # depends_on's order
    assert derived.notes == [
        "services.web.build.args.PIP_INDEX_TOKEN: left out (its name looks like a secret)",
        "services.web.environment.DATABASE_URL: the password in its URL is left out",
        "services.web.environment.DJANGO_SECRET_KEY: left out (its name looks like a secret); "
        "a random value is made up for each run instead (throwaway_env)",
        "services.web.env_file: not read: env files hold secrets; give what the service needs "
        "in sandbox.env",
        "services.db.environment.POSTGRES_PASSWORD: left out (its name looks like a secret)",
        "services.db: its password is left out, so it runs without one "
        "(POSTGRES_HOST_AUTH_METHOD=trust)",
        "services.db.volumes: not mounted: the sandbox runs the built image, and services "
        "start empty",
    ]


def test_two_built_services_need_a_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read(tmp_path, "django-prod.yml")
    assert str(info.value) == (
        f"{tmp_path}/docker-compose.yml: 2 services have build: (web, worker); name the one "
        "mutbot measures with sandbox.service"
    )
    with pytest.raises(ConfigError, match=r"no service 'wbe' \(sandbox.service\); its services: "):
        read(tmp_path, "django-prod.yml", service="wbe")
    with pytest.raises(ConfigError, match=r"services.db: has no build:; mutbot measures an image"):
        read(tmp_path, "django-prod.yml", service="db")


def test_express_list_environment_expose_and_a_shell_health_probe(tmp_path: Path) -> None:
    sandbox, derived = read(tmp_path, "express.yml")  # the only service with build:
    assert derived.service == "api"
    assert written(sandbox) == {
        "context": "api",
        "dockerfile": "api/Dockerfile",
        "env": {"NODE_ENV": "production", "PORT": "3000", "REDIS_URL": "redis://redis:6379"},
        "throwaway_env": ["API_TOKEN"],
        "port": 3000,
        "health": "/api/ping",
        "services": {"redis": {"image": "redis:7", "health": {"command": ["redis-cli", "ping"]}}},
    }
    assert derived.notes == [
        "services.api.environment.MONGO_URL: left out (its value comes from the host's "
        "environment)",
        "services.api.environment.API_TOKEN: left out (its name looks like a secret); a random "
        "value is made up for each run instead (throwaway_env)",
    ]


def test_fastapi_target_entrypoint_long_ports_and_dependencies_of_dependencies(
    tmp_path: Path,
) -> None:
    sandbox, derived = read(tmp_path, "fastapi.yml", "compose.yaml", service="app")
    assert written(sandbox) == {
        "build": {"target": "prod"},
        "entrypoint": ["/app/docker-entrypoint.sh"],
        "command": ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8080"],
        "health": "/status",  # python -c "urllib.request.urlopen('http://localhost:8080/status')"
        "services": {
            "db": {
                "image": "mysql:8.0",
                "command": ["--default-authentication-plugin=mysql_native_password"],
                "env": {"MYSQL_DATABASE": "app", "MYSQL_ALLOW_EMPTY_PASSWORD": "yes"},
                "health": {"command": ["mysqladmin", "ping", "-h", "localhost"]},
            },
            "search": {
                "image": "opensearchproject/opensearch:2",
                "env": {"discovery.type": "single-node"},
            },
        },
    }
    assert sandbox.port == 8080  # the target side of {target: 8080, published: 80}
    assert list(sandbox.services) == ["db", "search"]  # db first: search depends on it
    assert derived.notes[0] == (
        "services.consumer: built from this repository too; not started (only services that "
        "run from an image are)"
    )


def test_rails_merge_lists_bound_ports_and_yaml_1_2_values(tmp_path: Path) -> None:
    sandbox, derived = read(tmp_path, "rails.yml")
    assert sandbox.port == 3000  # "127.0.0.1:3000:3000/tcp"; the udp port is not HTTP
    assert sandbox.health == "/up"  # curl --fail localhost:3000/up, no scheme
    assert sandbox.command == [
        "bash",
        "-c",
        "bin/rails db:prepare && bin/rails server -b 0.0.0.0 -p 3000",
    ]
    assert sandbox.build.args == {"RUBY_VERSION": "3.3.0", "BUNDLE_WITHOUT": "development:test"}
    assert sandbox.env == {
        "RAILS_ENV": "production",
        "RAILS_LOG_TO_STDOUT": "on",
        "RAILS_SERVE_STATIC_FILES": "yes",
        "WEB_CONCURRENCY": "2",
        "RAILS_MAX_THREADS": "5",
        "MALLOC_ARENA_MAX": "2.0",
        "DATABASE_HOST": "db",
        "SOLID_QUEUE_IN_PUMA": "false",
    }
    assert sandbox.services["db"].env == {
        "POSTGRES_USER": "rails",
        "POSTGRES_HOST_AUTH_METHOD": "trust",
    }
    assert sandbox.services["db"].health is not None
    assert sandbox.services["db"].health.command == "pg_isready -U rails"
    assert (
        "services.web.environment.RAILS_MASTER_KEY: left out (its name looks like a secret); a "
        "random value is made up for each run instead (throwaway_env)" in derived.notes
    )
    assert "RAILS_MASTER_KEY" in sandbox.throwaway_env  # a random value: Rails still boots
    assert "services.web.build.args.BUILD_TOKEN: left out (its name looks like a secret)" in (
        derived.notes
    )


def test_keys_written_in_mutbot_yml_win(tmp_path: Path) -> None:
    sandbox, _ = read(
        tmp_path,
        "django-prod.yml",
        "deploy/docker-compose.prod.yml",
        service="web",
        port=9000,
        health="/ready",
        command="gunicorn config.wsgi --workers 4",
        env={"DEBUG": "0", "EXTRA": "1"},
        throwaway_env=["SESSION_SALT"],
        build={"args": {"BUILD_ENV": "test"}},
        services={"cache": {"image": "redis:7"}},
    )
    assert sandbox.port == 9000 and sandbox.health == "/ready"
    assert sandbox.command == "gunicorn config.wsgi --workers 4"
    assert sandbox.env["DEBUG"] == "0" and sandbox.env["EXTRA"] == "1"
    assert sandbox.env["REDIS_URL"] == "redis://cache:6379/0"  # the rest from compose
    assert sandbox.throwaway_env == ["DJANGO_SECRET_KEY", "SESSION_SALT"]
    assert sandbox.build.target == "runtime"  # not written: from compose
    assert sandbox.build.args == {"PYTHON_VERSION": "3.11", "BUILD_ENV": "test"}
    assert sandbox.services["cache"].model_dump(exclude_defaults=True) == {"image": "redis:7"}
    assert sandbox.services["db"].image == "postgres:16"
    assert sandbox.dockerfile == "docker/Dockerfile.prod"


def compose(tmp_path: Path, text: str, **keys: Any) -> Any:
    (tmp_path / "docker-compose.yml").write_text(text)
    return with_compose(Sandbox.model_validate({"compose": "docker-compose.yml", **keys}), tmp_path)


def test_schema_errors_name_the_file_and_the_key_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        compose(
            tmp_path,
            "services:\n"
            "  web:\n"
            "    bulid: .\n"
            "    ports: ['8000:8000', {targt: 80}, true]\n"
            "    depends_on: {db: {condition: healthy}}\n"
            "  db: {image: 5}\n",
        )
    where = tmp_path / "docker-compose.yml"
    assert str(info.value).splitlines() == [
        f"{where}: services.db.image: 5 is not of type 'string'",
        f"{where}: services.web.depends_on.db.condition: 'healthy' is not one of "
        "['service_started', 'service_healthy', 'service_completed_successfully']",
        f"{where}: services.web.ports.1: unknown key 'targt'; did you mean 'target'?",
        f"{where}: services.web.ports.2: expected number or string or object, got True",
        f"{where}: services.web: unknown key 'bulid'; did you mean 'build'?",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services:\n  web:\n    build: ../elsewhere\n", "services.web.build.context: must stay "
         "inside the project folder, got '../elsewhere'"),
        ("services:\n  web:\n    build: {context: ., dockerfile: ../../Dockerfile}\n",
         "services.web.build.dockerfile: must stay inside the project folder"),
        ("services:\n  web:\n    build: /srv/app\n", "services.web.build.context: must be a path "
         "relative to the compose file"),
        ("services:\n  web:\n    build: https://github.com/a/b.git\n", "a remote context "
         "('https://github.com/a/b.git') is not supported"),
        ("services:\n  web:\n    build: {dockerfile_inline: 'FROM x'}\n",
         "services.web.build.dockerfile_inline: not supported"),
        ("services:\n  web: {build: ., depends_on: [db]}\n", "services.web.depends_on: no "
         "service 'db' in this file"),
        ("services:\n  db: {image: postgres}\n", "no service has build:"),
        ("services:\n  web: {build: ., command: 'gunicorn \"app'}\n", "services.web.command: "
         "cannot split into words: No closing quotation"),
        ("services: [web]\n", "services: [] is not of type 'object'".replace("[]", "['web']")),
        ("- a\n", "expected a compose file (a mapping with services:)"),
        ("services:\n\tweb: {}\n", "not valid YAML at line 2, column 1"),
        ("a: &a [*a]\n", "at line 1, column 4: an alias refers to itself"),
        ("services:\n  web: {build: .}\n  web: {image: x}\n", "at line 3, column 3: the key 'web' "
         "appears twice in this mapping"),
    ],
)  # fmt: skip
def test_invalid_compose_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        compose(tmp_path, text)
    assert str(info.value).startswith(f"{tmp_path / 'docker-compose.yml'}: ")
    assert message in str(info.value)


def test_interpolation_without_a_default_is_empty_and_said(tmp_path: Path) -> None:
    sandbox, derived = compose(
        tmp_path,
        "services:\n"
        "  web:\n"
        "    build: {context: ., target: '${TARGET:-prod}'}\n"
        "    command: ['serve', '--port', '${PORT}', '--name', '${NAME-app}', '$${HOME}x']\n"
        "    ports: ['${HOST_PORT:-80}:${APP_PORT:-5000}']\n"
        "    depends_on: [db]\n"
        "  db:\n"
        "    image: 'postgres:${PG:-${PG_MAJOR:-15}}'\n",
    )
    assert sandbox.build.target == "prod"
    assert sandbox.command == ["serve", "--port", "", "--name", "app", "${HOME}x"]
    assert sandbox.port == 5000
    assert sandbox.services["db"].image == "postgres:15"
    assert (
        "services.web.command: ${PORT} has no default here (the sandbox has none of the "
        "deployment's variables, and .env is not read): it is empty" in derived.notes
    )


def test_what_a_healthcheck_on_another_port_or_without_http_says(tmp_path: Path) -> None:
    sandbox, derived = compose(
        tmp_path,
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    ports: ['8000:8000', '9000']\n"
        "    healthcheck: {test: ['CMD', 'curl', '-f', 'http://localhost:9090/metrics']}\n",
    )
    assert sandbox.port == 8000 and sandbox.health == "/healthz"  # the model's default
    assert derived.notes == [
        "services.web.ports: several container ports (8000, 9000); measuring 8000 (set "
        "sandbox.port to choose)",
        "services.web.healthcheck: probes port 9090, not the service's port 8000: its path "
        "/metrics is not used",
    ]
    sandbox, derived = compose(
        tmp_path,
        "services:\n  web:\n    build: .\n    healthcheck: {test: ['CMD', 'pgrep', 'gunicorn']}\n",
    )
    assert sandbox.port == 8080
    assert derived.notes == [
        "services.web: no healthcheck asks HTTP; the health path is sandbox.health's"
    ]
    sandbox, _ = compose(
        tmp_path,
        "services:\n  web:\n    build: .\n"
        "    healthcheck: {test: 'wget --spider http://localhost:5000/ping'}\n",
    )
    assert (sandbox.port, sandbox.health) == (5000, "/ping")  # the probe's port: no ports:
