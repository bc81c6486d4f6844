"""Right-sizing the measured service's memory limit from the baseline's peak: a limit at least
twice what the service needs becomes twice the peak (at least 64 MiB, rounded up to a power of
two) in the file's own units, one candidate per limit; the sidecar, the worker and the
database are never right-sized, and nothing is without a measured peak."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mutbot.packs.model import Finding
from mutbot.packs.orchestration import PACK
from mutbot.packs.orchestration_rightsize import target_mib, written_as
from mutbot.packs.view import View
from testing.packs import applied, proves, sample_files, view_of
from testing.repos import ROOT

SAMPLE = ROOT / "testing" / "packs" / "k8s-compose"


def sample() -> dict[str, str]:
    return sample_files(SAMPLE)


def measured(files: dict[str, str], peak_mb: float | None) -> View:
    baseline = {"memory_peak_mb": peak_mb} if peak_mb is not None else None
    return replace(view_of(files), baseline=baseline)


def rightsized(view: View) -> list[Finding]:
    return [f for f in PACK.detect(view, PACK.scan(view)) if f.fix]


@pytest.mark.parametrize(
    ("peak", "target"), [(10, 64), (31.9, 64), (33, 128), (81, 256), (120, 256), (200, 512)]
)
def test_the_target_is_twice_the_peak_rounded_up_to_a_power_of_two(
    peak: float, target: int
) -> None:
    assert target_mib(peak) == target


def test_far_above_the_peak_the_measured_limits_are_lowered() -> None:
    files = sample()
    found = rightsized(measured(files, 120.0))
    assert [(f.category, f.title) for f in found] == [
        ("requests-far-from-use", "Lower the memory limit 512M → 256M (docker-compose.yml:25)"),
        ("requests-far-from-use", "Lower the memory limit 2Gi → 256Mi (k8s/api.yaml:49)"),
    ]
    assert found[1].why == (
        "the memory limit 2Gi (2048 MiB) is more than twice what the service needs: peak 120 MiB "
        "under load"
    )
    [move] = found[1].fix
    assert move.rule == "twice the measured peak (120 MiB), at least 64 MiB, rounded up: 256 MiB"
    for finding in found:
        proves(PACK, files, finding.fix[0])
    assert applied(files, move)["k8s/api.yaml"] == files["k8s/api.yaml"].replace(
        "memory: 2Gi", "memory: 256Mi"
    )


def test_a_limit_within_twice_the_need_stays() -> None:
    found = rightsized(measured(sample(), 200.0))  # needs 512 MiB: 512M stays, 2Gi does not
    assert [f.title for f in found] == ["Lower the memory limit 2Gi → 512Mi (k8s/api.yaml:49)"]


def test_nothing_without_a_measured_peak() -> None:
    assert rightsized(measured(sample(), None)) == []
    assert rightsized(measured(sample(), 0.0)) == []


@pytest.mark.parametrize(
    ("mib", "written", "path", "text"),
    [
        (256, "1G", "docker-compose.yml", "256M"),
        (256, "1g", "compose.yaml", "256m"),
        (256, "1gb", "docker-compose.yml", "256mb"),
        (1024, "4GiB", "docker-compose.yml", "1GiB"),
        (256, "2Gi", "deploy.yaml", "256Mi"),
        (2048, "8G", "deploy.yaml", "2Gi"),
        (64, "1073741824", "docker-compose.yml", "67108864"),
    ],
)
def test_the_new_limit_is_written_in_the_files_units(
    mib: int, written: str, path: str, text: str
) -> None:
    assert written_as(mib, written, path) == text
