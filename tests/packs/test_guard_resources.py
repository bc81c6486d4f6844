"""The guard over compose files and Kubernetes manifests with the registered packs: a change to
the measured service's CPU or memory limits or requests reaches the sandbox's resources and
passes; any other change there is refused (a never setting by name, a setting no sandbox
measures, a line no pack knows), and a manifest of another workload is not measured at all."""

from __future__ import annotations

from mutbot.packs.guard import NEVER, RESOURCES, UNKNOWN, Guarded, check
from testing.packs import view_of

DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nCMD ["python", "app.py"]\n'
COMPOSE = """\
services:
  api:
    build: .
    ports:
      - "8080:8080"
    environment:
      LOG_LEVEL: info
    deploy:
      replicas: 2
      resources:
        limits:
          cpus: "1"
          memory: 1g
        reservations:
          memory: 512m
  db:
    image: postgres:16
    mem_limit: 1g
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          resources:
            requests:
              cpu: 500m
              memory: 512Mi
            limits:
              cpu: "2"
              memory: 2Gi
        - name: log-shipper
          image: fluent/fluent-bit:3.0
          resources:
            limits:
              memory: 128Mi
"""
POSTGRES = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  template:
    spec:
      containers:
        - name: postgres
          image: postgres:16
          resources:
            limits:
              memory: 1Gi
"""
FILES = {
    "Dockerfile": DOCKERFILE,
    "app.py": "print('api')\n",
    "docker-compose.yml": COMPOSE,
    "k8s/api.yaml": DEPLOYMENT,
    "k8s/db.yaml": POSTGRES,
}


def guard(path: str, old: str, new: str) -> Guarded:
    assert FILES[path].count(old) == 1, old
    return check(view_of(FILES), {path: FILES[path]}, {path: FILES[path].replace(old, new)})


def test_the_files_that_hold_the_measured_resources_reach_them_and_the_others_nothing() -> None:
    view = view_of(FILES)
    assert view.reaches("docker-compose.yml") == "resources"
    assert view.reaches("k8s/api.yaml") == "resources"
    assert view.reaches("k8s/db.yaml") == "none"  # copied into the image, never read by it
    assert view.reaches("app.py") == "build"


def test_a_compose_memory_limit_of_the_measured_service_passes() -> None:
    found = guard("docker-compose.yml", "memory: 1g", "memory: 256m")
    assert found.ok and found.reaches == ("resources",)
    [change] = found.changed
    assert change.key == (
        "orchestration.memory_limit@docker-compose.yml:services.api.deploy.resources.limits.memory"
    )
    assert (change.before, change.after, change.reaches) == ("1g", "256m", "resources")
    assert guard("docker-compose.yml", 'cpus: "1"', 'cpus: "0.5"').ok
    assert guard("docker-compose.yml", "memory: 512m", "memory: 128m").ok  # a reservation


def test_anything_else_in_that_compose_file_is_refused() -> None:
    key = "orchestration.replicas@docker-compose.yml:services.api.deploy.replicas"
    assert guard("docker-compose.yml", "replicas: 2", "replicas: 4").problem == (
        f"not measured: {key} at docker-compose.yml:9 ({RESOURCES})"
    )
    db = "orchestration.memory_limit@docker-compose.yml:services.db.mem_limit"
    assert guard("docker-compose.yml", "mem_limit: 1g", "mem_limit: 2g").problem == (
        f"not measured: {db} at docker-compose.yml:18 ({RESOURCES})"
    )
    assert guard("docker-compose.yml", "LOG_LEVEL: info", "LOG_LEVEL: debug").problem == (
        f"{UNKNOWN}: docker-compose.yml:7"
    )
    port = "orchestration.port@docker-compose.yml:services.api.ports[0]"
    assert guard("docker-compose.yml", '"8080:8080"', '"9090:8080"').problem == (
        f"changes {port} at docker-compose.yml:5 ({NEVER})"
    )


def test_a_limit_beside_another_change_is_still_refused() -> None:
    both = COMPOSE.replace("memory: 1g", "memory: 256m").replace("info", "debug")
    found = check(view_of(FILES), {"docker-compose.yml": COMPOSE}, {"docker-compose.yml": both})
    assert found.problem == f"{UNKNOWN}: docker-compose.yml:7"


def test_the_measured_kubernetes_containers_limits_and_requests_pass() -> None:
    found = guard("k8s/api.yaml", "memory: 2Gi", "memory: 512Mi")
    assert found.ok and found.reaches == ("resources",)
    assert found.changed[0].key.endswith("Deployment/api/api.resources.limits.memory")
    assert guard("k8s/api.yaml", "cpu: 500m", "cpu: 250m").ok


def test_anything_else_in_that_manifest_is_refused() -> None:
    sidecar = "Deployment/api/log-shipper.resources.limits.memory"
    shipper = guard("k8s/api.yaml", "memory: 128Mi", "memory: 64Mi")
    assert shipper.problem is not None and sidecar in shipper.problem
    assert shipper.problem.startswith("not measured: orchestration.memory_limit@k8s/api.yaml:")
    assert guard("k8s/api.yaml", "value: info", "value: debug").problem == (
        f"{UNKNOWN}: k8s/api.yaml:16"
    )
    assert guard("k8s/api.yaml", "containerPort: 8080", "containerPort: 9090").problem == (
        "changes orchestration.port@k8s/api.yaml:Deployment/api/api.ports[0].containerPort "
        f"at k8s/api.yaml:13 ({NEVER})"
    )
    replicas = guard("k8s/api.yaml", "replicas: 3", "replicas: 6").problem
    assert replicas is not None and replicas.endswith(f"({RESOURCES})")


def test_a_manifest_of_another_workload_is_not_measured() -> None:
    assert guard("k8s/db.yaml", "memory: 1Gi", "memory: 2Gi").problem == (
        "not measured: the sandbox never reads k8s/db.yaml"
    )
