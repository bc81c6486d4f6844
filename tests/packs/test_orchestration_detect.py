"""The orchestration pack's detectors over real-shaped manifests (testing/fixtures/orchestration)
and small ones: services and containers without limits, and the measured container's requests
far from the baseline's use (above 2x or below 1/1.5 of it)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mutbot.packs.orchestration import PACK
from testing.packs import view_of
from testing.repos import ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "orchestration"


def found(
    files: dict[str, str], cpu: float | None = None, memory_mb: float | None = None
) -> set[tuple[str, str, int]]:
    view = view_of(files)
    if cpu is not None:
        view = replace(view, baseline={"cpu_cores_mean": cpu, "memory_peak_mb": memory_mb or 0.0})
    return {(f.category, f.site.path, f.site.line) for f in PACK.detect(view, PACK.scan(view))}


def fixture(name: str) -> set[tuple[str, int]]:
    """(category, line) of each finding in one fixture, read as deploy/<name>."""
    path = f"deploy/{name}"
    return {(c, n) for c, p, n in found({path: (FIXTURES / name).read_text()}) if p == path}


def test_the_fixtures() -> None:
    assert fixture("docker-compose.yml") == {("no-resource-limits", 17)}  # service `worker`
    assert fixture("deployment.yaml") == {("no-resource-limits", 33)}  # the log-shipper
    assert fixture("app.yaml") == {("no-resource-limits", 27)}  # one of several documents
    assert fixture("invalid.yaml") == set()


def test_requests_far_from_use() -> None:
    view = replace(
        view_of({"app.yaml": (FIXTURES / "app.yaml").read_text()}),
        baseline={"cpu_cores_mean": 0.3, "memory_peak_mb": 200.0},
    )
    [far] = [f for f in PACK.detect(view, PACK.scan(view)) if f.category == "requests-far-from-use"]
    assert far.why == (
        "requests far from the measured use: cpu 2 (2 cores) vs 0.3 cores used; "
        "memory 1Gi (1024 MiB) vs 200 MiB used"
    )


# The fixture's pricing Deployment without the emptyDir it shares with its log shipper: a
# volume makes a workload stateful, and the requests of a stateful one are not judged.
STATELESS = (FIXTURES / "deployment.yaml").read_text().split("          volumeMounts:")[0]


@pytest.mark.parametrize(
    ("cpu", "memory_mb", "line"),
    [
        (0.4, 200, None),  # 500m, 256Mi: close enough
        (0.26, 129, None),  # just under 2x
        (0.2, 200, 24),  # 500m is more than 2x 0.2 cores
        (0.8, 200, 24),  # 500m is less than 0.8 / 1.5
        (0.4, 100, 25),  # 256Mi is more than 2x 100 MiB
        (0.4, 400, 25),  # 256Mi is less than 400 / 1.5
        (0.0, 0.0, None),  # nothing measured
    ],
)
def test_requests_thresholds(cpu: float, memory_mb: float, line: int | None) -> None:
    view = replace(
        view_of({"deploy.yaml": STATELESS}),
        baseline={"cpu_cores_mean": cpu, "memory_peak_mb": memory_mb},
    )
    got = PACK.detect(view, PACK.scan(view))
    # the requests' opportunities; a limit right-sized from the peak is a fix (its own test)
    far = {f.site.line for f in got if f.category == "requests-far-from-use" and not f.fix}
    assert far == ({line} if line else set())  # never the sidecar's


def test_without_a_baseline_requests_are_not_judged() -> None:
    assert not [c for c, _, _ in found({"deploy.yaml": STATELESS}) if c != "no-resource-limits"]


POD = """\
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


def test_the_default_container_annotation_picks_the_measured_container() -> None:
    assert found({"pod.yaml": POD}, 0.1, 50) == set()
    proxy = POD.replace("default-container: app", "default-container: proxy")
    assert found({"pod.yaml": proxy}, 0.1, 50) == {("requests-far-from-use", "pod.yaml", 8)}


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
    assert found({"jobs.yml": text}) == {("no-resource-limits", "jobs.yml", 11)}


def test_compose_limits_through_merge_keys_and_file_names() -> None:
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
        assert found({f"ops/{name}": text}) == {("no-resource-limits", f"ops/{name}", 9)}
    assert found({"ops/services.yaml": text}) == set()  # not a compose file name
    assert found({"ops/compose.json": text}) == set()


def test_other_yaml_is_ignored() -> None:
    files = {
        "k8s/service.yaml": "kind: Service\nspec: {ports: [{port: 80}]}\n",
        "empty.yaml": "---\n---\n",
    }
    assert found(files) == set()
