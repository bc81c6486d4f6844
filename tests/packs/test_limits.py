"""The limits a candidate runs with: the measured service's CPU and memory limits as its change
leaves them (mutbot.packs.limits), and the policy's checks before a trial runs with them
(mutbot.guarding.own_limits): readable, not below the sandbox's smallest, and what the backend
can enforce. Requests change nothing the sandbox enforces."""

from __future__ import annotations

import pytest

from mutbot.backends.base import Limits
from mutbot.config_sandbox import Sandbox
from mutbot.errors import StageFailure
from mutbot.guarding import own_limits
from mutbot.packs.guard import Changed, Guarded
from mutbot.packs.limits import REQUESTS, Asked, asked
from mutbot.packs.model import Reaches, Site, Value

COMPOSE = "orchestration.{}@docker-compose.yml:services.api.deploy.resources.{}"
KUBE = "orchestration.{}@k8s/api.yaml:Deployment/api/api.resources.{}"
MIB = 1024**2


def change(key: str, after: Value, before: Value = "1g", reaches: Reaches = "resources") -> Changed:
    path = key.partition("@")[2].partition(":")[0]
    return Changed(key, "tune", before, after, (True, after is not None), Site(path, 9, "yaml"),
                   reaches)  # fmt: skip


def memory(after: Value, key: str = COMPOSE.format("memory_limit", "limits.memory")) -> Changed:
    return change(key, after)


def test_a_compose_size_is_binary_and_a_kubernetes_quantity_as_written() -> None:
    assert asked([memory("256m")]) == Asked(memory=256 * MIB)
    assert asked([memory("1G")]).memory == 1024 * MIB
    assert asked([memory("512M", KUBE.format("memory_limit", "limits.memory"))]).memory == 512e6
    assert asked([memory("256Mi", KUBE.format("memory_limit", "limits.memory"))]).memory == (
        256 * MIB
    )
    cpus = change(KUBE.format("cpu_limit", "limits.cpu"), "500m", "2")
    assert asked([cpus]) == Asked(cpus=0.5)
    assert asked([change(COMPOSE.format("cpu_limit", "limits.cpus"), "1.5", "2")]).cpus == 1.5


def test_requests_and_other_packs_settings_change_no_limit() -> None:
    request = change(COMPOSE.format("memory_request", "reservations.memory"), "128m")
    assert asked([request]) == Asked(note=f"{REQUESTS}: measured at the config's limits")
    both = asked([request, memory("256m")])
    assert (both.memory, both.note) == (256 * MIB, REQUESTS)
    other = Changed("gunicorn.workers", "tune", 1, 3, (False, True), None, "command")
    assert asked([other]) == Asked()
    unmeasured = change(COMPOSE.format("memory_limit", "limits.memory"), "64m", reaches="none")
    assert asked([unmeasured]) == Asked()  # the guard refuses it; nothing to run with


@pytest.mark.parametrize(
    ("after", "problem"),
    [
        (None, "removes the memory limit at docker-compose.yml:9: the sandbox always has one"),
        ("lots", "cannot read the memory limit 'lots' at docker-compose.yml:9"),
        ("0", "cannot read the memory limit '0' at docker-compose.yml:9"),
    ],
)
def test_a_limit_that_cannot_be_run_with_is_a_problem(after: Value, problem: str) -> None:
    assert asked([memory(after)]).problem == problem


def test_two_different_limits_for_the_measured_service_are_a_problem() -> None:
    kube = memory("512Mi", KUBE.format("memory_limit", "limits.memory"))
    assert asked([memory("256m"), kube]).problem == (
        "two different memory limits for the measured service: 256m at docker-compose.yml:9 "
        "and 512Mi at k8s/api.yaml:9"
    )
    same = memory("256Mi", KUBE.format("memory_limit", "limits.memory"))
    assert asked([memory("256m"), same]).memory == 256 * MIB


SANDBOX = Sandbox.model_validate({"cpus": 1, "memory": "512m"})


def limits(*changed: Changed, refuses: str | None = None) -> tuple[Limits | None, str]:
    return own_limits(Guarded(None, ("resources",), changed), SANDBOX, lambda _: refuses)


def test_the_candidate_runs_with_its_own_limits_and_the_configs_for_the_rest() -> None:
    assert limits(memory("256m")) == (Limits(1.0, 256 * MIB), "")
    cpus = change(COMPOSE.format("cpu_limit", "limits.cpus"), "0.5", "1")
    assert limits(cpus) == (Limits(0.5, 512 * MIB), "")
    assert limits(memory("512m")) == (None, "")  # the config's own: nothing to change
    request = change(COMPOSE.format("memory_request", "reservations.memory"), "128m")
    assert limits(request) == (None, f"{REQUESTS}: measured at the config's limits")


def test_limits_it_cannot_run_with_are_refused_at_the_policy_stage() -> None:
    with pytest.raises(StageFailure) as info:
        limits(memory("4m"))
    assert (info.value.stage, info.value.reason) == (
        "policy",
        "a memory limit of 4m is below the sandbox's smallest (6m)",
    )
    with pytest.raises(StageFailure) as info:
        limits(change(KUBE.format("cpu_limit", "limits.cpu"), "5m", "1"))
    assert info.value.reason == "a CPU limit of 0.005 is below the sandbox's smallest (0.01)"
    with pytest.raises(StageFailure) as info:
        limits(memory("lots"))
    assert info.value.reason == "cannot read the memory limit 'lots' at docker-compose.yml:9"
    with pytest.raises(StageFailure) as info:
        limits(memory("256m"), refuses="no CPU quota here")
    assert info.value.reason == "no CPU quota here"  # the backend's word
