"""The orchestration pack's detectors (pure), opportunities only: a service or container
without CPU and memory limits, and the measured container's requests far from what the
baseline used (above 2× or below 1/1.5 of it)."""

from __future__ import annotations

import re

from mutbot.discover import compose
from mutbot.discover.kubernetes import quantity
from mutbot.packs.model import Finding, Site
from mutbot.packs.orchestration_read import Workload
from mutbot.packs.view import View

PACK = "orchestration"
TOO_HIGH, TOO_LOW = 2.0, 1 / 1.5
_CHECKS = (("cpu_request", "cpu", "cpu_cores_mean", 1.0, "cores"),
           ("memory_request", "memory", "memory_peak_mb", 2.0**20, "MiB"))  # fmt: skip
_COMPOSE_BYTES = re.compile(r"(\d+(?:\.\d+)?)\s*([bkmg]?)b?", re.IGNORECASE)


def findings(view: View, workloads: list[Workload]) -> list[Finding]:
    out = [f for w in workloads if (f := _no_limits(w))]
    judged = [w for w in workloads if w.measured] or [
        w for w in workloads if w.main and w.container and not w.stateful
    ]
    if view.baseline:
        out += [f for w in judged if (f := _far(w, dict(view.baseline)))]
    return out


def _no_limits(workload: Workload) -> Finding | None:
    limits = [i for i in workload.items if i.kind in ("cpu_limit", "memory_limit")]
    if not workload.container or not limits or any(i.scalar is not None for i in limits):
        return None
    why = f"{workload.label} has no CPU or memory limit: it may take the whole host"
    title = f"Set CPU and memory limits for {workload.label} ({workload.path}:{workload.line})"
    site = Site(workload.path, workload.line, "yaml")
    return Finding("no-resource-limits", PACK, site, why, title, (), f"{PACK}.{limits[0].name}")


def amount(written: str, path: str) -> float | None:
    """A CPU count or a size as a number. Compose sizes are binary (`512m`: 512 MiB); the
    rest are Kubernetes quantities (`512M`: 512 × 10⁶)."""
    found = _COMPOSE_BYTES.fullmatch(written.strip()) if compose.is_compose(path) else None
    if found and found[2]:
        return float(found[1]) * 1024.0 ** "bkmg".index(found[2].lower())
    return quantity(written)


def _far(workload: Workload, baseline: dict[str, float]) -> Finding | None:
    far, first = [], None
    for kind, shown, metric, unit, label in _CHECKS:
        item = next((i for i in workload.items if i.kind == kind and i.scalar is not None), None)
        written = str(item.value) if item and item.value is not None else None
        asked = amount(written, workload.path) if written else None
        measured = baseline.get(metric)
        if item is None or asked is None or not measured or measured <= 0:
            continue
        asked /= unit
        if asked > TOO_HIGH * measured or asked < TOO_LOW * measured:
            far.append(f"{shown} {written} ({asked:.4g} {label}) vs {measured:.4g} {label} used")
            first = first or item
    if first is None:
        return None
    why = "requests far from the measured use: " + "; ".join(far)
    title = f"Right-size the requests of {workload.label} ({workload.path}:{workload.line})"
    site = Site(workload.path, first.line, "yaml")
    return Finding("requests-far-from-use", PACK, site, why, title, (), f"{PACK}.{first.name}")
