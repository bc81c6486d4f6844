"""Compose and Kubernetes detector (pure): services and containers without CPU or memory
limits, and Kubernetes requests far from the measured use.

YAML is composed, not loaded, so every finding has the line of its node; invalid YAML gives
no findings rather than an error (another tool reports broken files)."""

from __future__ import annotations

import posixpath
import re

from yaml.nodes import MappingNode, Node, SequenceNode

from mutbot.discover import nodes
from mutbot.proposers.base import DetectContext, Opportunity, TargetFile

_COMPOSE = re.compile(r"(docker-)?compose([.-][\w.-]*)?\.ya?ml")
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob"}
_QUANTITY = re.compile(r"((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?")
_FACTORS = {"": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_FACTORS |= {"P": 1e15, "E": 1e18} | {f"{p}i": 1024.0 ** (n + 1) for n, p in enumerate("KMGTPE")}
_DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
# A request counts as far from use above 2x or below 1/1.5 of the measured value.
_TOO_HIGH, _TOO_LOW = 2.0, 1 / 1.5

Finding = tuple[str, int, str]


def detect(file: TargetFile, context: DetectContext) -> list[Opportunity]:
    name = posixpath.basename(file.path)
    if not name.endswith((".yml", ".yaml")):
        return []
    docs = nodes.documents(file.text)
    found: list[Finding] = []
    for doc in docs:
        if _COMPOSE.fullmatch(name):
            found += _compose(doc)
        kind = nodes.text(nodes.get(doc, "kind"))
        if kind in _WORKLOADS:
            found += _workload(doc, kind, context.baseline)
    return [Opportunity(category=c, path=file.path, line=n, why=w) for c, n, w in found]


def quantity(value: str) -> float | None:
    """A Kubernetes quantity as a plain number: "500m" -> 0.5, "256Mi" -> 268435456."""
    match = _QUANTITY.fullmatch(value.strip())
    if match is None:
        return None
    return float(match.group(1)) * _FACTORS[match.group(2) or ""]


def _compose(doc: Node) -> list[Finding]:
    services = nodes.get(doc, "services")
    if not isinstance(services, MappingNode):
        return []
    found = []
    for key, service in services.value:
        limits = nodes.path(service, "deploy", "resources", "limits")
        limited = any(nodes.get(limits, k) is not None for k in ("cpus", "memory"))
        own = any(nodes.get(service, k) is not None for k in ("mem_limit", "cpus"))
        if not limited and not own:
            why = f"service `{key.value}` has no deploy.resources.limits, mem_limit or cpus"
            found.append(("no-resource-limits", nodes.line(key), why))
    return found


def _workload(doc: Node, kind: str, baseline: dict[str, float] | None) -> list[Finding]:
    if kind == "Pod":
        template: Node | None = doc
    elif kind == "CronJob":
        template = nodes.path(doc, "spec", "jobTemplate", "spec", "template")
    else:
        template = nodes.path(doc, "spec", "template")
    containers = nodes.path(template, "spec", "containers")
    if not isinstance(containers, SequenceNode):
        return []
    named = [(c, nodes.get(c, "name")) for c in containers.value if isinstance(c, MappingNode)]
    found = []
    for container, name in named:
        limits = nodes.path(container, "resources", "limits")
        if not any(nodes.get(limits, k) is not None for k in ("cpu", "memory")):
            said = f"container `{nodes.text(name)}` in {kind}"
            why = f"{said} has no resources.limits (cpu or memory)"
            found.append(("no-resource-limits", nodes.line(name or container), why))
    default = nodes.text(nodes.path(template, "metadata", "annotations", _DEFAULT_CONTAINER))
    main = next((c for c in named if nodes.text(c[1]) == default), named[0] if named else None)
    if main is not None and baseline and (far := _requests_far(main[0], baseline)):
        found.append(("requests-far-from-use", nodes.line(main[1] or main[0]), far))
    return found


def _requests_far(container: Node, baseline: dict[str, float]) -> str | None:
    """Why the main container's requests are far from the measured use, or None."""
    requests = nodes.path(container, "resources", "requests")
    far = []
    checks = (("cpu", "cpu_cores_mean", 1.0, "cores"), ("memory", "memory_peak_mb", 2.0**20, "MiB"))
    for key, metric, unit, label in checks:
        written, measured = nodes.text(nodes.get(requests, key)), baseline.get(metric)
        asked = quantity(written) if written else None
        if asked is None or not measured or measured <= 0:
            continue
        asked /= unit
        if asked > _TOO_HIGH * measured or asked < _TOO_LOW * measured:
            far.append(f"{key} {written} ({asked:.4g} {label}) vs {measured:.4g} {label} used")
    if not far:
        return None
    return "requests far from the measured use: " + "; ".join(far)
