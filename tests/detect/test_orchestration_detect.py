from __future__ import annotations

import pytest

from mutbot.detect.orchestration import detect, quantity
from mutbot.proposers.base import DetectContext, TargetFile
from testing.repos import ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "orchestration"
NO_BASELINE = DetectContext(baseline=None, cpus=1.0, memory_bytes=512 * 1024**2)


def context(cpu: float, memory_mb: float) -> DetectContext:
    return DetectContext({"cpu_cores_mean": cpu, "memory_peak_mb": memory_mb}, 1.0, 512 * 1024**2)


def found(name: str, text: str, ctx: DetectContext = NO_BASELINE) -> set[tuple[str, int]]:
    return {(o.category, o.line) for o in detect(TargetFile(name, text), ctx)}


def fixture(name: str, ctx: DetectContext = NO_BASELINE) -> set[tuple[str, int]]:
    return found(f"deploy/{name}", (FIXTURES / name).read_text(), ctx)


def test_compose_service_without_limits() -> None:
    assert fixture("docker-compose.yml") == {("no-resource-limits", 17)}
    text = (FIXTURES / "docker-compose.yml").read_text()
    [only] = detect(TargetFile("docker-compose.yml", text), NO_BASELINE)
    assert only.path == "docker-compose.yml" and "`worker`" in only.why


def test_deployment_container_without_limits() -> None:
    assert fixture("deployment.yaml") == {("no-resource-limits", 33)}


def test_multi_document_manifest() -> None:
    assert fixture("app.yaml") == {("no-resource-limits", 27)}


def test_invalid_yaml_gives_nothing() -> None:
    assert fixture("invalid.yaml") == set()
    assert found("k8s.yaml", "kind: Pod\nspec: [\n") == set()
    assert found("compose.yaml", "\tservices:\n") == set()


def test_requests_far_from_use() -> None:
    got = fixture("app.yaml", context(cpu=0.3, memory_mb=200))
    assert got == {("no-resource-limits", 27), ("requests-far-from-use", 27)}
    text = (FIXTURES / "app.yaml").read_text()
    why = next(
        o.why
        for o in detect(TargetFile("app.yaml", text), context(cpu=0.3, memory_mb=200))
        if o.category == "requests-far-from-use"
    )
    assert why == (
        "requests far from the measured use: cpu 2 (2 cores) vs 0.3 cores used; "
        "memory 1Gi (1024 MiB) vs 200 MiB used"
    )


@pytest.mark.parametrize(
    ("cpu", "memory_mb", "far"),
    [
        (0.4, 200, False),  # 500m, 256Mi: close enough
        (0.26, 129, False),  # just under 2x
        (0.2, 200, True),  # 500m is more than 2x 0.2 cores
        (0.8, 200, True),  # 500m is less than 0.8 / 1.5
        (0.4, 100, True),  # 256Mi is more than 2x 100 MiB
        (0.4, 400, True),  # 256Mi is less than 400 / 1.5
        (0.0, 0.0, False),  # nothing measured
    ],
)
def test_requests_thresholds(cpu: float, memory_mb: float, far: bool) -> None:
    got = fixture("deployment.yaml", context(cpu, memory_mb))
    assert (("requests-far-from-use", 18) in got) is far
    assert ("requests-far-from-use", 33) not in got  # the sidecar is not what was measured


def test_without_baseline_requests_are_not_judged() -> None:
    assert ("requests-far-from-use", 27) not in fixture("app.yaml")


def test_default_container_annotation_picks_the_measured_container() -> None:
    text = """\
kind: Pod
metadata:
  annotations:
    kubectl.kubernetes.io/default-container: app
spec:
  containers:
    - name: proxy
      resources: {requests: {cpu: 4}, limits: {cpu: 4}}
    - name: app
      resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}
"""
    assert found("pod.yaml", text, context(cpu=0.1, memory_mb=50)) == set()
    text = text.replace("default-container: app", "default-container: proxy")
    assert found("pod.yaml", text, context(cpu=0.1, memory_mb=50)) == {("requests-far-from-use", 7)}


def test_cronjob_and_statefulset_containers() -> None:
    text = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: report
              image: report:1
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      containers:
        - name: db
          image: postgres:16
          resources:
            limits: {memory: 1Gi}
"""
    assert found("jobs.yml", text) == {("no-resource-limits", 11)}


def test_compose_limits_through_merge_keys_and_names() -> None:
    text = """\
x-limits: &limits
  deploy:
    resources:
      limits: {cpus: "0.5", memory: 128M}
services:
  a:
    <<: *limits
    image: a:1
  b:
    image: b:1
"""
    for name in ("compose.yaml", "docker-compose.prod.yml", "compose.override.yaml"):
        assert found(f"ops/{name}", text) == {("no-resource-limits", 9)}
    assert found("services.yaml", text) == set()  # not a compose file name
    assert found("compose.json", text) == set()


def test_other_yaml_is_ignored() -> None:
    workflow = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    assert found(".github/workflows/ci.yml", workflow) == set()
    assert found("k8s/service.yaml", "kind: Service\nspec: {ports: [{port: 80}]}\n") == set()
    assert found("empty.yaml", "---\n---\n") == set()


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
def test_quantity(text: str, value: float | None) -> None:
    assert quantity(text) == value
