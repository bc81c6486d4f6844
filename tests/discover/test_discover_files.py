"""Dockerfiles, compose files and Kubernetes manifests read with their lines."""

from __future__ import annotations

import pytest

from mutbot.discover import compose, kubernetes
from mutbot.discover.dockerfiles import (
    dockerignore,
    image_path,
    is_dockerfile,
    read_image,
    repo_path,
)
from mutbot.discover.model import Repo, Source


def repo(files: dict[str, str]) -> Repo:
    return Repo(files, files.get)


@pytest.mark.parametrize(
    ("dockerfile", "port"),
    [
        ("FROM python:3.11\nEXPOSE 8000\n", 8000),
        ("FROM x\nexpose 5000/tcp\n", 5000),
        ("FROM x\nEXPOSE 80 443\n", 80),
        ("FROM x AS build\nEXPOSE 1234\nFROM y\nEXPOSE 4321\n", 4321),
        ("FROM x\nARG PORT=9000\nEXPOSE $PORT\n", 9000),
        ("FROM x\nENV PORT 7000\nEXPOSE ${PORT}\n", 7000),
        ("FROM x\nEXPOSE ${PORT:-6000}\n", 6000),
        ("FROM x\nEXPOSE \\\n  8081\n", 8081),
        ("FROM x\nEXPOSE $UNKNOWN\n", None),
        ("FROM x\nEXPOSE 99999\n", None),
        ('FROM x\nCMD ["serve"]\n', None),
    ],
)
def test_exposed_port(dockerfile: str, port: int | None) -> None:
    image = read_image(repo({"Dockerfile": dockerfile}), "Dockerfile")
    assert image is not None
    assert (image.ports[0].value if image.ports else None) == port


def test_stages_targets_commands_and_copies() -> None:
    text = (
        "ARG PY=3.11\nFROM python:${PY}-slim AS base\nWORKDIR /app\nENV A=1 B=two\n"
        'COPY requirements.txt .\nRUN pip install -r requirements.txt\nCMD ["python", "base.py"]\n'
        "FROM base AS runtime\nCOPY src/ ./src/\nCOPY boot.sh /usr/local/bin/boot\n"
        'ENTRYPOINT ["boot"]\n'
        "FROM base AS dev\nCOPY . .\nCMD flask run --debug\n"
        "HEALTHCHECK --interval=5s CMD curl -f http://localhost:8000/healthz || exit 1\n"
    )
    files = {"Dockerfile": text, "src/app.py": "", "boot.sh": "", "requirements.txt": ""}
    dev = read_image(repo(files), "Dockerfile")
    assert dev is not None and dev.aliases == ("base", "runtime", "dev")
    assert dev.cmd is not None and dev.cmd.words == "flask run --debug"
    assert dev.cmd.source == Source("Dockerfile", 14)
    assert dev.healthcheck is not None and dev.healthcheck.source == Source("Dockerfile", 15)
    assert dev.env["B"] == ("two", Source("Dockerfile", 4))
    runtime = read_image(repo(files), "Dockerfile", "runtime")
    assert runtime is not None
    assert runtime.entrypoint is not None and runtime.entrypoint.words == ["boot"]
    assert runtime.cmd is None  # ENTRYPOINT resets the CMD of an earlier stage
    assert repo_path(repo(files), runtime, ".", "/usr/local/bin/boot") == "boot.sh"
    assert repo_path(repo(files), runtime, ".", "src/app.py") == "src/app.py"
    assert repo_path(repo(files), runtime, ".", "requirements.txt") == "requirements.txt"
    assert image_path(runtime, ".", "src/app.py") == "/app/src/app.py"
    assert image_path(runtime, ".", "tests/test_x.py") is None
    assert read_image(repo(files), "Dockerfile", "missing") is None


def test_dockerignore() -> None:
    ignore = "# comment\n**/__pycache__\ntests\n*.md\n!README.md\n/secret.txt\n"
    excluded = dockerignore(repo({"app/.dockerignore": ignore}), "app")
    assert excluded("app/tests/test_a.py")
    assert excluded("app/pkg/__pycache__/x.pyc")
    assert excluded("app/NOTES.md")
    assert not excluded("app/README.md")
    assert excluded("app/secret.txt")
    assert not excluded("app/src/tests.py")


COMPOSE = """
x-common: &common
  restart: unless-stopped
  environment: &env
    LOG_LEVEL: info
services:
  web:
    <<: *common
    build:
      context: ./svc
      dockerfile: docker/Dockerfile.prod
      target: runtime
      args:
        - VERSION=1.2
        - TOKEN
    command: gunicorn app:app --bind 0.0.0.0:8000
    env_file: [.env.web, {path: missing.env, required: false}, .env.prod]
    environment:
      - DEBUG=0
      - HOST_ONLY
    ports: ["127.0.0.1:8080:8000/tcp", {target: 9000, published: 9000}]
    expose: ["7000"]
    healthcheck:
      test: ["CMD-SHELL", "curl -f http://localhost:8000/health"]
    depends_on:
      db: {condition: service_healthy}
    deploy:
      resources:
        limits: {cpus: "0.75", memory: 300M}
  db:
    image: postgres:16
    mem_limit: 1g
    healthcheck: {test: ["CMD", "pg_isready"]}
    depends_on: [cache]
  cache:
    image: redis:7
    healthcheck: {disable: true}
"""


def test_compose_services() -> None:
    files = {
        "deploy/compose.yaml": COMPOSE,
        "deploy/.env.web": "# web\nexport WORKERS=2\nNAME='x y'\nA=b # c\n",
        "deploy/.env.prod-sample": "FROM_SAMPLE=1\n",
    }
    web, db, cache = compose.services(repo(files), "deploy/compose.yaml")
    assert web.name == "web" and web.source == Source("deploy/compose.yaml", 7)
    assert web.build is not None
    assert (web.build.context, web.build.dockerfile) == (
        "deploy/svc",
        "deploy/svc/docker/Dockerfile.prod",
    )
    assert (web.build.target, web.build.args) == ("runtime", {"VERSION": "1.2", "TOKEN": None})
    assert web.build.sources["target"] == Source("deploy/compose.yaml", 12)
    assert web.command is not None and web.command.words == [
        "gunicorn",
        "app:app",
        "--bind",
        "0.0.0.0:8000",
    ]
    assert web.environment == {
        "WORKERS": "2",
        "NAME": "x y",
        "A": "b",
        "DEBUG": "0",
        "FROM_SAMPLE": "1",
        "HOST_ONLY": None,
    }
    assert web.env_sources["WORKERS"] == Source("deploy/.env.web", 2)
    assert web.env_sources["FROM_SAMPLE"] == Source("deploy/.env.prod-sample", 1)
    assert web.env_sources["DEBUG"] == Source("deploy/compose.yaml", 19)
    assert [(f.path, f.read) for f in web.env_files] == [
        ("deploy/.env.web", "deploy/.env.web"),
        ("deploy/missing.env", None),
        ("deploy/.env.prod", "deploy/.env.prod-sample"),  # secrets stay out; samples are in git
    ]
    assert [p.value for p in web.ports] == [8000, 9000, 7000]
    assert (
        web.healthcheck is not None
        and web.healthcheck.words == "curl -f http://localhost:8000/health"
    )
    assert web.depends_on == ("db",)
    assert web.cpus is not None and web.cpus.value == 0.75
    assert web.memory is not None and web.memory.value == "300M"
    assert db.healthcheck is not None and db.healthcheck.words == ["pg_isready"]
    assert db.memory is not None and db.memory.value == "1g"
    assert db.depends_on == ("cache",)
    assert cache.healthcheck is None and cache.build is None


def test_merge_keys_follow_anchors() -> None:
    text = "x: &base\n  environment: {A: '1'}\nservices:\n  s:\n    <<: *base\n    image: i\n"
    (service,) = compose.services(repo({"compose.yml": text}), "compose.yml")
    assert service.environment == {"A": "1"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "services: [1, 2]",
        "services:\n  a: [",
        "a: &a [*a]",
        "services:\n  web:\n    build: {context: git@github.com:x/y.git}\n",
        "\t",
    ],
)
def test_odd_compose_files(text: str) -> None:
    for service in compose.services(repo({"compose.yml": text}), "compose.yml"):
        assert service.build is None


def test_compose_file_rank() -> None:
    """A production file first, then the plain names, then the others, dev and override last."""
    names = [
        "docker-compose.override.yml",
        "compose.yaml",
        "docker-compose.dev.yml",
        "deploy/docker-compose.prod.yml",
        "compose.staging.yaml",
    ]
    assert sorted(names, key=compose.rank) == [
        "deploy/docker-compose.prod.yml",
        "compose.yaml",
        "compose.staging.yaml",
        "docker-compose.dev.yml",
        "docker-compose.override.yml",
    ]


MANIFEST = """
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/web:1.0
          command: ["/entry"]
          args: ["serve", "--port", "8080"]
          ports:
            - {name: http, containerPort: 8080}
          env:
            - {name: MODE, value: prod}
            - name: API_KEY
              valueFrom: {secretKeyRef: {name: s, key: k}}
          readinessProbe:
            httpGet: {path: /ready, port: http}
          livenessProbe:
            httpGet: {path: /live, port: 8081}
          resources:
            limits: {cpu: 250m, memory: 1Gi}
"""


def test_kubernetes_containers() -> None:
    (app,) = kubernetes.containers(repo({"k8s/web.yaml": MANIFEST}), "k8s/web.yaml")
    assert (app.workload, app.name, app.image) == ("Deployment web", "app", "ghcr.io/acme/web:1.0")
    assert [p.value for p in app.ports] == [8080]
    assert [(p.kind, p.path, app.probe_port(p)) for p in app.probes] == [
        ("readinessProbe", "/ready", 8080), ("livenessProbe", "/live", 8081),
    ]  # fmt: skip
    assert app.probes[0].source == Source("k8s/web.yaml", 25)
    assert app.env == {"MODE": "prod", "API_KEY": None}
    assert app.command is not None and app.command.words == ["/entry"]
    assert app.args is not None and app.args.words == ["serve", "--port", "8080"]
    assert app.cpus is not None and app.cpus.value == 0.25
    assert app.memory is not None and app.memory.value == "1Gi"
    templated = "kind: Deployment\nspec: {{ .Values.spec }}\n"
    assert (
        kubernetes.containers(repo({"chart/templates/d.yaml": templated}), "chart/templates/d.yaml")
        == []
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Dockerfile", True),
        ("services/api/Dockerfile", True),
        ("Dockerfile.prod", True),
        ("Dockerfile-dev", True),
        ("api.Dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.dockerignore", False),
        ("Dockerfile.md", False),
        ("docker-compose.yml", False),
        ("app.py", False),
    ],
)
def test_is_dockerfile(path: str, expected: bool) -> None:
    assert is_dockerfile(path) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", 0.5),
        ("1", 1.0),
        ("1.5", 1.5),
        ("256Mi", 256 * 1024**2),
        ("1Gi", 1024**3),
        ("512M", 512e6),
        ("1e3", 1000.0),
        ("2k", 2000.0),
        ("lots", None),
        ("", None),
    ],
)
def test_kubernetes_quantity(text: str, value: float | None) -> None:
    assert kubernetes.quantity(text) == value
