"""`sandbox.compose` end to end on real Docker: the service a compose file describes is built
(context, target, args from the file), started with its command and filtered environment,
and reaches the Postgres it depends on, which runs without the password the file gave it."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mutbot.backends.base import CorePlan
from mutbot.backends.docker_backend import DockerBackend
from mutbot.run.options import RunOptions, load_inputs
from mutbot.trial import wait_healthy
from testing.service_apps import write_service_app

pytestmark = pytest.mark.docker

COMPOSE = """\
x-db-env: &db-env
  POSTGRES_USER: postgres
services:
  web:
    build:
      context: ./app
      target: app
      args:
        GREETING: ${GREETING:-from compose}
    command: ["python", "server.py"]
    environment:
      STORE: postgres
      DATABASE_URL: postgresql://postgres:hunter2@db:5432/postgres
      SESSION_SECRET: dev-only
    ports: ["8080:8080"]
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8080/healthz')"]
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres:16
    environment:
      <<: *db-env
      POSTGRES_PASSWORD: hunter2
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U $${POSTGRES_USER}"]
      interval: 2s
"""
CONFIG = """\
version: 1
targets: [app/server.py]
sandbox: {compose: docker-compose.yml, memory: 128m, startup_timeout: 30s}
load: {locustfile: locustfile.py}
"""
LOCUST = "from locust import HttpUser, task\n\nclass V(HttpUser):\n    @task\n    def i(self):\n        self.client.get('/')\n"  # noqa: E501


def test_a_compose_service_runs_with_its_postgres(tmp_path: Path, docker_clean: Any) -> None:
    project = tmp_path / "project"
    write_service_app(project / "app")
    (project / "docker-compose.yml").write_text(COMPOSE)
    (project / ".mutbot.yml").write_text(CONFIG)
    (project / "locustfile.py").write_text(LOCUST)
    notes: list[str] = []
    config, _ = load_inputs(RunOptions(project=project), notes.append)
    sandbox = config.sandbox
    assert (sandbox.context, sandbox.build.target, sandbox.port, sandbox.health) == (
        "app",
        "app",
        8080,
        "/healthz",
    )
    assert any("POSTGRES_HOST_AUTH_METHOD=trust" in note for note in notes)
    backend = DockerBackend(sandbox, "t-compose-pg", CorePlan(None, None))
    try:
        artifact = backend.build(project, "mutbot-t-compose-pg:x", tmp_path / "b.log")
        seen = []
        for trial in range(2):
            instance = backend.start(artifact, tmp_path / f"{trial}.log")
            wait_healthy(instance, sandbox.health, 30)
            with urllib.request.urlopen(instance.url + "/info", timeout=5) as response:
                info = json.loads(response.read())
            instance.stop()
            seen.append(info["seen"])
        env = info["env"]
        assert info["greeting"] == "from compose"  # the build arg's default
        assert info["argv"] == ["server.py"]
        assert env["DATABASE_URL"] == "postgresql://postgres@db:5432/postgres"
        assert env["SESSION_SECRET"] not in ("", "dev-only") and len(env["SESSION_SECRET"]) == 32
        assert "hunter2" not in json.dumps(info)
        assert seen == [1, 1]  # a fresh database for every trial, reached without a password
    finally:
        backend.close()
