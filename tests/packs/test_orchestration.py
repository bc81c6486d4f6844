"""The orchestration pack over its sample (a compose stack and Kubernetes manifests shaped like
a real service) and small files: ports, probes, health checks, users and security contexts and
the replicas of stateful workloads are `never`; limits and requests are tuning settings that
reach the sandbox's resources for the container it measures; stateless replicas are tuning
settings no sandbox measures; nothing else is seen. Detectors: no limits, requests far from
the measured use (opportunities)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mutbot.packs.model import Finding, Move
from mutbot.packs.orchestration import PACK
from mutbot.packs.orchestration_detect import amount
from mutbot.packs.view import Sandbox, View
from testing.packs import applied, by_key, proves, sample_files, view_of
from testing.repos import ROOT

SAMPLE = ROOT / "testing" / "packs" / "k8s-compose"


def sample() -> dict[str, str]:
    return sample_files(SAMPLE)


def findings(view: View) -> list[Finding]:
    return PACK.detect(view, PACK.scan(view))


C = "docker-compose.yml:services."
API = "k8s/api.yaml:Deployment/catalog-api"
SVC = "k8s/api.yaml:Service/catalog-api"
DB = "k8s/postgres.yaml:Deployment/catalog-db"
CACHE = "k8s/redis.yaml:StatefulSet/catalog-cache"
EXPECTED = {
    f"port@{C}web.ports[0]": ("8000:8000", "never", True),
    f"healthcheck@{C}web.healthcheck.test[0]": ("CMD", "never", True),
    f"healthcheck@{C}web.healthcheck.test[1]": ("curl", "never", True),
    f"healthcheck@{C}web.healthcheck.test[2]": ("-fsS", "never", True),
    f"healthcheck@{C}web.healthcheck.test[3]": ("http://localhost:8000/healthz", "never", True),
    f"healthcheck@{C}web.healthcheck.interval": ("10s", "never", True),
    f"healthcheck@{C}web.healthcheck.retries": ("5", "never", True),
    f"security@{C}web.user": ("10001:10001", "never", True),
    f"cpu_limit@{C}web.deploy.resources.limits.cpus": ("1.0", "tune", True),
    f"memory_limit@{C}web.deploy.resources.limits.memory": ("512M", "tune", True),
    f"memory_request@{C}web.deploy.resources.reservations.memory": ("256M", "tune", True),
    f"replicas@{C}web.deploy.replicas": (2, "tune", True),
    f"cpu_limit@{C}worker.deploy.resources.limits.cpus": (None, "tune", False),
    f"memory_limit@{C}worker.deploy.resources.limits.memory": (None, "tune", False),
    f"replicas@{C}worker.deploy.replicas": (1, "tune", False),
    f"port@{C}db.expose[0]": ("5432", "never", True),
    f"healthcheck@{C}db.healthcheck.test[0]": ("CMD-SHELL", "never", True),
    f"healthcheck@{C}db.healthcheck.test[1]": ("pg_isready -U catalog", "never", True),
    f"healthcheck@{C}db.healthcheck.interval": ("5s", "never", True),
    f"memory_limit@{C}db.deploy.resources.limits.memory": ("1G", "tune", True),
    f"cpu_limit@{C}db.deploy.resources.limits.cpus": (None, "tune", False),
    f"stateful_replicas@{C}db.deploy.replicas": (1, "never", True),
    f"port@{C}redis.ports[0]": ("6379:6379", "never", True),
    f"cpu_limit@{C}redis.deploy.resources.limits.cpus": (None, "tune", False),
    f"memory_limit@{C}redis.deploy.resources.limits.memory": (None, "tune", False),
    f"security@{API}.spec.template.spec.securityContext.runAsNonRoot": ("true", "never", True),
    f"security@{API}.spec.template.spec.securityContext.runAsUser": ("10001", "never", True),
    f"replicas@{API}.spec.replicas": (3, "tune", True),
    f"port@{API}/api.ports[0].name": ("http", "never", True),
    f"port@{API}/api.ports[0].containerPort": ("8000", "never", True),
    f"probe@{API}/api.readinessProbe.httpGet.path": ("/healthz", "never", True),
    f"probe@{API}/api.readinessProbe.httpGet.port": ("http", "never", True),
    f"probe@{API}/api.readinessProbe.periodSeconds": ("5", "never", True),
    f"probe@{API}/api.livenessProbe.httpGet.path": ("/healthz", "never", True),
    f"probe@{API}/api.livenessProbe.httpGet.port": ("http", "never", True),
    f"probe@{API}/api.livenessProbe.failureThreshold": ("3", "never", True),
    f"security@{API}/api.securityContext.allowPrivilegeEscalation": ("false", "never", True),
    f"security@{API}/api.securityContext.readOnlyRootFilesystem": ("true", "never", True),
    f"cpu_request@{API}/api.resources.requests.cpu": ("2", "tune", True),
    f"memory_request@{API}/api.resources.requests.memory": ("1Gi", "tune", True),
    f"cpu_limit@{API}/api.resources.limits.cpu": ("2", "tune", True),
    f"memory_limit@{API}/api.resources.limits.memory": ("2Gi", "tune", True),
    f"cpu_request@{API}/log-shipper.resources.requests.cpu": ("50m", "tune", True),
    f"memory_request@{API}/log-shipper.resources.requests.memory": ("64Mi", "tune", True),
    f"cpu_limit@{API}/log-shipper.resources.limits.cpu": (None, "tune", False),
    f"memory_limit@{API}/log-shipper.resources.limits.memory": (None, "tune", False),
    f"port@{SVC}.spec.ports[0].port": ("80", "never", True),
    f"port@{SVC}.spec.ports[0].targetPort": ("http", "never", True),
    f"stateful_replicas@{DB}.spec.replicas": (1, "never", True),
    f"port@{DB}/postgres.ports[0].containerPort": ("5432", "never", True),
    f"port@{DB}/postgres.ports[0].hostPort": ("5432", "never", True),
    f"cpu_limit@{DB}/postgres.resources.limits.cpu": (None, "tune", False),
    f"memory_limit@{DB}/postgres.resources.limits.memory": (None, "tune", False),
    f"stateful_replicas@{CACHE}.spec.replicas": (1, "never", True),
    f"port@{CACHE}/redis.ports[0].containerPort": ("6379", "never", True),
    f"memory_limit@{CACHE}/redis.resources.limits.memory": ("256Mi", "tune", True),
    f"cpu_limit@{CACHE}/redis.resources.limits.cpu": (None, "tune", False),
}


def test_the_sample_as_settings() -> None:
    seen = PACK.scan(view_of(sample()))
    assert {s.setting.name: (s.value, s.setting.safety, s.written) for s in seen} == EXPECTED
    for s in seen:
        assert PACK.settings[s.setting.name] == s.setting
        if not s.written:
            assert s.value == s.setting.default


def test_never_settings_have_no_setter_and_only_the_measured_resources_reach_the_sandbox() -> None:
    seen = PACK.scan(view_of(sample()))
    reaching = sorted(s.setting.name.split("@")[1] for s in seen if s.reaches == "resources")
    assert reaching == [
        "docker-compose.yml:services.web.deploy.resources.limits.cpus",
        "docker-compose.yml:services.web.deploy.resources.limits.memory",
        "docker-compose.yml:services.web.deploy.resources.reservations.memory",
        "k8s/api.yaml:Deployment/catalog-api/api.resources.limits.cpu",
        "k8s/api.yaml:Deployment/catalog-api/api.resources.limits.memory",
        "k8s/api.yaml:Deployment/catalog-api/api.resources.requests.cpu",
        "k8s/api.yaml:Deployment/catalog-api/api.resources.requests.memory",
    ]  # the worker runs celery, the sidecar ships logs: not what the sandbox measures
    for s in seen:
        assert (s.setter is not None) == (s.reaches == "resources"), s


def test_the_sample_findings() -> None:
    found = findings(view_of(sample()))
    assert [(f.category, f.site.path, f.site.line) for f in found] == [
        ("no-resource-limits", "docker-compose.yml", 32),
        ("no-resource-limits", "docker-compose.yml", 57),
        ("no-resource-limits", "k8s/api.yaml", 50),
        ("no-resource-limits", "k8s/postgres.yaml", 17),
    ]
    assert found[0].why == "service `worker` has no CPU or memory limit: it may take the whole host"
    assert all(f.fix == () for f in found) and len({f.title for f in found}) == len(found)


def test_requests_far_from_the_measured_use() -> None:
    view = replace(view_of(sample()), baseline={"cpu_cores_mean": 0.3, "memory_peak_mb": 120.0})
    far = [f for f in findings(view) if f.category == "requests-far-from-use" and not f.fix]
    assert [(f.site.path, f.site.line, f.why) for f in far] == [
        (
            "docker-compose.yml",
            27,
            "requests far from the measured use: memory 256M (256 MiB) vs 120 MiB used",
        ),
        (
            "k8s/api.yaml",
            45,
            "requests far from the measured use: cpu 2 (2 cores) vs 0.3 cores used; "
            "memory 1Gi (1024 MiB) vs 120 MiB used",
        ),
    ]
    close = replace(view, baseline={"cpu_cores_mean": 1.5, "memory_peak_mb": 600.0})
    far = [f for f in findings(close) if f.category == "requests-far-from-use" and not f.fix]
    assert [f.site.path for f in far] == ["docker-compose.yml"]  # 256M < 600 MiB / 1.5


def move(files: dict[str, str], key: str, value: str) -> Move:
    seen = by_key(PACK.scan(view_of(files)))[f"orchestration.{key}"]
    assert seen.setter is not None
    return Move(seen, value, "test", seen.setter(value))


def test_a_written_limit_is_replaced_in_place() -> None:
    files = sample()
    m = move(files, "memory_limit@k8s/api.yaml:Deployment/catalog-api/api.resources.limits.memory",
             "512Mi")  # fmt: skip
    proves(PACK, files, m)
    assert applied(files, m)["k8s/api.yaml"] == files["k8s/api.yaml"].replace(
        "memory: 2Gi", "memory: 512Mi"
    )
    m = move(files, "cpu_limit@docker-compose.yml:services.web.deploy.resources.limits.cpus", "0.5")
    proves(PACK, files, m)
    assert 'cpus: "0.5"' in applied(files, m)["docker-compose.yml"]  # its quotes kept


def test_a_missing_limit_is_added_in_the_file_style() -> None:
    text = (
        "services:\n"
        "    api:\n"
        "        build: .\n"
        "        ports:\n"
        '            - "8000:8000"\n'
        "    cache:\n"
        "        image: redis:7\n"
    )
    files = {"docker-compose.yml": text, "Dockerfile": 'FROM python:3.12-slim\nCMD ["x"]\n'}
    sandbox = Sandbox(compose="docker-compose.yml")
    view = view_of(files, sandbox)
    seen = by_key(PACK.scan(view))
    limit = seen[f"orchestration.memory_limit@{C}api.deploy.resources.limits.memory"]
    assert limit.setter is not None and not limit.written
    m = Move(limit, "256M", "test", limit.setter("256M"))
    proves(PACK, files, m, sandbox)
    assert applied(files, m)["docker-compose.yml"] == text.replace(
        '"8000:8000"\n',
        '"8000:8000"\n'
        "        deploy:\n"
        "            resources:\n"
        "                limits:\n"
        "                    memory: 256M\n",
    )


def test_a_missing_kubernetes_limit_goes_under_its_resources() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: web\n"
        "          image: acme/web:1\n          resources:\n            requests:\n"
        "              cpu: 250m\n"
    )
    files = {"deploy.yaml": text, "Dockerfile": 'FROM python:3.12-slim\nCOPY . .\nCMD ["x"]\n'}
    m = move(files, "cpu_limit@deploy.yaml:Deployment/web/web.resources.limits.cpu", "1")
    proves(PACK, files, m)
    assert applied(files, m)["deploy.yaml"] == text + "            limits:\n              cpu: 1\n"


def test_only_the_measured_resources_are_editable_whatever_the_image_copies() -> None:
    files = sample()
    files["Dockerfile"] = files["Dockerfile"].replace("COPY . .", "COPY catalog/ catalog/")
    view = view_of(files)
    seen = PACK.scan(view)
    editable = sorted(s.setting.name.split("@")[1] for s in seen if s.setter is not None)
    assert editable == sorted(s.setting.name.split("@")[1] for s in seen if s.reaches != "none")
    assert len(editable) == 7  # the web service's and the API container's limits and requests
    assert [view.reaches(p) for p in ("docker-compose.yml", "k8s/api.yaml")] == ["resources"] * 2
    # the service never reads its own deployment files, even where the image copies them
    assert view_of(sample()).reaches("k8s/postgres.yaml") == "none"


def test_nothing_is_editable_where_no_workload_is_the_measured_one() -> None:
    compose = (
        "services:\n  api:\n    build:\n      context: .\n      dockerfile: api.Dockerfile\n"
        "    deploy:\n      resources:\n        limits:\n          memory: 512m\n"
    )
    files = {"docker-compose.yml": compose, "Dockerfile": "FROM python:3.12-slim\nCOPY . .\n"}
    view = view_of(files)
    seen = PACK.scan(view)
    assert seen and all(s.setter is None and s.reaches == "none" for s in seen)
    assert view.reaches("docker-compose.yml") == "none"


@pytest.mark.parametrize(
    ("volumes", "kind"),
    [("", "replicas"), ("      volumes:\n        - name: d\n          emptyDir: {}\n",
      "stateful_replicas")],
)  # fmt: skip
def test_replicas_of_a_deployment_with_state_are_never_changed(volumes: str, kind: str) -> None:
    text = (
        "kind: Deployment\nmetadata: {name: app}\nspec:\n  replicas: 2\n  template:\n"
        f"    spec:\n{volumes}      containers:\n        - name: app\n          image: acme/app:1\n"
    )
    [replicas] = [s for s in PACK.scan(view_of({"app.yaml": text})) if "replicas" in s.key]
    assert replicas.setting.name == f"{kind}@app.yaml:Deployment/app.spec.replicas"
    assert replicas.value == 2 and replicas.setter is None


def test_other_yaml_and_broken_files_give_nothing() -> None:
    files = {
        ".github/workflows/ci.yml": "name: ci\non: push\njobs: {}\n",
        "chart/templates/deploy.yaml": "kind: Deployment\nspec: {{ .Values.spec }}\n",
        "k8s/broken.yaml": "kind: Pod\nspec: [\n",
        "compose.yaml": "\tservices:\n",
        "values.yaml": "replicas: 3\nport: 80\n",
    }
    assert PACK.scan(view_of(files)) == []
    assert findings(view_of(files)) == []


@pytest.mark.parametrize(
    ("written", "path", "value"),
    [
        ("512M", "docker-compose.yml", 512 * 2**20),  # compose sizes are binary
        ("1g", "compose.yaml", 2**30),
        ("0.5", "docker-compose.yml", 0.5),
        ("512M", "k8s/app.yaml", 512e6),  # Kubernetes: decimal
        ("500m", "k8s/app.yaml", 0.5),
        ("256Mi", "k8s/app.yaml", 256 * 2**20),
    ],
)
def test_amounts(written: str, path: str, value: float) -> None:
    assert amount(written, path) == value


def test_every_name_resolves_to_its_setting() -> None:
    assert PACK.settings["port@x.yaml:Service/a.spec.ports[0].port"].safety == "never"
    assert PACK.settings["stateful_replicas@x.yaml:StatefulSet/db.spec.replicas"].safety == "never"
    assert PACK.settings["cpu_limit@compose.yaml:services.a.cpus"].safety == "tune"
    with pytest.raises(KeyError):
        PACK.settings["image@x.yaml:Deployment/a/a.image"]
    assert {k: s.name for k, s in PACK.settings.items()} == {k: k for k in PACK.settings}
