"""Compose files and Kubernetes manifests read as settings (pure). Each setting is a scalar in
the file, named `kind@file:where` ("port@k8s/api.yaml:Deployment/api/web.ports[0].containerPort",
"cpu_limit@docker-compose.yml:services.web.deploy.resources.limits.cpus"), so its kind, and
with it its safety class, follows from its name. A limit that is not written is a setting at
its default, with the mapping and keys it would be added under."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from yaml.nodes import MappingNode, Node, ScalarNode

from mutbot.discover import compose, kubernetes, nodes
from mutbot.discover.dockerfile_syntax import image_ref
from mutbot.packs.model import Reaches, Value
from mutbot.packs.orchestration_yaml import leaves
from mutbot.packs.view import View

STATEFUL_IMAGES = frozenset(
    {"postgres", "postgis", "mysql", "mariadb", "redis", "valkey", "keydb", "mongo", "mongodb",
     "elasticsearch", "opensearch", "rabbitmq", "kafka", "zookeeper", "etcd", "cassandra",
     "minio", "clickhouse", "influxdb", "neo4j", "couchdb", "memcached"}
)  # fmt: skip
TOOLS = frozenset(
    {"nginx", "envoy", "haproxy", "traefik", "caddy", "proxyv2", "cloud-sql-proxy",
     "oauth2-proxy", "busybox", "alpine", "curl", "pgbouncer", "fluent-bit"}
)  # fmt: skip
RESOURCE_KINDS = {"cpu_limit", "memory_limit", "cpu_request", "memory_request", "resources"}
_COMPOSE_NEVER = {
    "ports": "port", "expose": "port", "healthcheck": "healthcheck", "user": "security",
    "privileged": "security", "cap_add": "security", "cap_drop": "security",
    "security_opt": "security", "read_only": "security", "userns_mode": "security",
    "network_mode": "host", "hostname": "host", "extra_hosts": "host", "pid": "host",
    "ipc": "host",
}  # fmt: skip
_COMPOSE_RESOURCES = {
    "mem_limit": "memory_limit", "cpus": "cpu_limit", "mem_reservation": "memory_request",
    "memswap_limit": "resources", "cpu_shares": "resources", "cpu_quota": "resources",
    "cpuset": "resources", "pids_limit": "resources", "shm_size": "resources",
}  # fmt: skip
_DEPLOY = {"limits.cpus": "cpu_limit", "limits.memory": "memory_limit",
           "reservations.cpus": "cpu_request", "reservations.memory": "memory_request"}  # fmt: skip
_POD_NEVER = {
    "securityContext": "security", "serviceAccountName": "security",
    "automountServiceAccountToken": "security", "hostNetwork": "host", "hostPID": "host",
    "hostIPC": "host", "hostname": "host",
}  # fmt: skip
_CONTAINER_NEVER = {"ports": "port", "readinessProbe": "probe", "livenessProbe": "probe",
                    "startupProbe": "probe", "securityContext": "security"}  # fmt: skip
_KUBE = {"limits.cpu": "cpu_limit", "limits.memory": "memory_limit",
         "requests.cpu": "cpu_request", "requests.memory": "memory_request"}  # fmt: skip
_STATE_VOLUMES = ("persistentVolumeClaim", "emptyDir", "hostPath")
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob"}


@dataclass(frozen=True)
class Item:
    """One setting as read: written (a scalar) or missing (where its keys would be added)."""

    where: str  # "docker-compose.yml:services.web.ports[0]"
    kind: str  # a template of the pack's settings
    value: Value
    line: int
    scalar: ScalarNode | None = None
    parent: MappingNode | None = None  # the mapping a missing one is added to
    keys: tuple[str, ...] = ()
    reaches: Reaches = "none"

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.where}"


@dataclass(frozen=True)
class Workload:
    """A compose service or a Kubernetes container (or Service), as the detectors need it."""

    path: str
    label: str  # "service `web`", "Deployment api / container `web`"
    line: int
    image: str
    measured: bool  # its resources are the sandbox's
    stateful: bool
    main: bool  # a service, or the main container of its pod
    items: tuple[Item, ...]

    @property
    def container(self) -> bool:
        return "container `" in self.label or self.label.startswith("service `")


def workloads(view: View) -> list[Workload]:
    out: list[Workload] = []
    for path in view.repo.files:
        text = view.repo.read(path) if path.endswith((".yml", ".yaml")) else None
        if text is None:
            continue
        if compose.is_compose(path):
            out += _compose(view, path, text)
        elif kubernetes.is_manifest(path, text):
            out += _manifests(path, text)
    return _measure_kubernetes(view, out)


def _leaves(node: Node | None, where: str, kind: str, reaches: Reaches = "none") -> list[Item]:
    return [
        Item(w, kind, nodes.text(s), nodes.line(s), s, reaches=reaches)
        for w, s in leaves(node, where)
    ]


def _stateful_image(image: str) -> bool:
    base = image_ref(image).name.rsplit("/", 1)[-1] if image else ""
    return base in STATEFUL_IMAGES or base.split("-")[0] in STATEFUL_IMAGES


def _replicas(node: Node | None, where: str, keys: tuple[str, ...], stateful: bool,
              line: int) -> list[Item]:  # fmt: skip
    """The replica count: `never` for a stateful workload (kind stateful_replicas), else a
    tuning setting no single sandbox measures; 1 when not written."""
    kind = "stateful_replicas" if stateful else "replicas"
    found = nodes.path(node, *keys)
    at = f"{where}.{'.'.join(keys)}"
    if isinstance(found, ScalarNode):
        written = nodes.text(found) or ""
        value = int(written) if written.isdigit() else None  # a template: no number to read
        return [Item(at, kind, value, nodes.line(found), found)]
    if found is not None or stateful or not isinstance(node, MappingNode):
        return _leaves(found, at, "stateful_replicas") if found is not None else []
    return [Item(at, kind, 1, line, parent=node, keys=keys)]


def _missing_limits(
    items: list[Item], node: Node, where: str, keys: Mapping[str, tuple[str, ...]], line: int,
    reaches: Reaches,
) -> list[Item]:  # fmt: skip
    """The CPU and memory limits not written, at their default (none)."""
    if not isinstance(node, MappingNode):
        return []
    missing = [(k, path) for k, path in keys.items() if not any(i.kind == k for i in items)]
    return [
        Item(f"{where}.{'.'.join(path)}", kind, None, line, None, node, path, reaches)
        for kind, path in missing
    ]


def _measured_services(view: View, path: str) -> set[str]:
    """The services that run what the sandbox measures: they build its Dockerfile and, unless
    the sandbox sets its own command, run the image's (a worker's `command:` is another
    process)."""
    found = compose.services(view.repo, path)
    built = [s for s in found if s.build and s.build.dockerfile == view.sandbox.dockerfile]
    if view.sandbox.command is None and view.sandbox.entrypoint is None:
        built = [s for s in built if s.command is None and s.entrypoint is None] or built
    return {s.name for s in built}


def _compose(view: View, path: str, text: str) -> list[Workload]:
    docs = nodes.documents(text)
    measured = _measured_services(view, path)
    out = []
    for key, service in nodes.entries(nodes.get(docs[0], "services") if docs else None):
        name, where, line = str(key.value), f"{path}:services.{key.value}", nodes.line(key)
        image = nodes.text(nodes.get(service, "image")) or ""
        stateful = _stateful_image(image) or nodes.get(service, "volumes") is not None
        reach: Reaches = "resources" if name in measured else "none"
        items: list[Item] = []
        for field, kind in _COMPOSE_NEVER.items():
            items += _leaves(nodes.get(service, field), f"{where}.{field}", kind)
        for field, kind in _COMPOSE_RESOURCES.items():
            items += _leaves(nodes.get(service, field), f"{where}.{field}", kind, reach)
        resources = nodes.path(service, "deploy", "resources")
        for dotted, kind in _DEPLOY.items():
            node = nodes.path(resources, *dotted.split("."))
            items += _leaves(node, f"{where}.deploy.resources.{dotted}", kind, reach)
        limits = {"cpu_limit": ("deploy", "resources", "limits", "cpus"),
                  "memory_limit": ("deploy", "resources", "limits", "memory")}  # fmt: skip
        items += _missing_limits(items, service, where, limits, line, reach)
        items += _replicas(service, where, ("deploy", "replicas"), stateful, line)
        scale = "stateful_replicas" if stateful else "replicas"
        items += _leaves(nodes.get(service, "scale"), f"{where}.scale", scale)
        label = f"service `{name}`"
        out.append(Workload(path, label, line, image, name in measured, stateful, True,
                            tuple(items)))  # fmt: skip
    return out


def _manifests(path: str, text: str) -> list[Workload]:
    out: list[Workload] = []
    for doc in nodes.documents(text):
        kind = nodes.text(nodes.get(doc, "kind")) or ""
        name = nodes.text(nodes.path(doc, "metadata", "name")) or "?"
        where = f"{path}:{kind}/{name}"
        if kind == "Service":
            items = _leaves(nodes.path(doc, "spec", "ports"), f"{where}.spec.ports", "port")
            label = f"Service {name}"
            out.append(Workload(path, label, nodes.line(doc), "", False, False, False,
                                tuple(items)))  # fmt: skip
        elif kind in _WORKLOADS:
            out += _workload(path, doc, kind, name, where)
    return out


def _workload(path: str, doc: Node, kind: str, name: str, where: str) -> list[Workload]:
    template: Node | None = doc  # a Pod is its own template
    spec_at = "spec"
    if kind == "CronJob":
        template = nodes.path(doc, "spec", "jobTemplate", "spec", "template")
        spec_at = "spec.jobTemplate.spec.template.spec"
    elif kind != "Pod":
        template, spec_at = nodes.path(doc, "spec", "template"), "spec.template.spec"
    spec = nodes.get(template, "spec")
    containers = [c for c in nodes.seq(nodes.get(spec, "containers")) if isinstance(c, MappingNode)]
    images = [nodes.text(nodes.get(c, "image")) or "" for c in containers]
    volumes = [v for v in nodes.seq(nodes.get(spec, "volumes"))
               if any(nodes.get(v, k) is not None for k in _STATE_VOLUMES)]  # fmt: skip
    stateful = (
        kind == "StatefulSet"
        or any(_stateful_image(i) for i in images)
        or bool(volumes)
        or nodes.path(doc, "spec", "volumeClaimTemplates") is not None
    )
    pod: list[Item] = []
    for field, what in _POD_NEVER.items():
        pod += _leaves(nodes.get(spec, field), f"{where}.{spec_at}.{field}", what)
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        pod += _replicas(nodes.get(doc, "spec"), f"{where}.spec", ("replicas",), stateful,
                         nodes.line(doc))  # fmt: skip
    default = nodes.text(nodes.path(template, "metadata", "annotations",
                                    "kubectl.kubernetes.io/default-container"))  # fmt: skip
    names = [nodes.text(nodes.get(c, "name")) or str(i) for i, c in enumerate(containers)]
    main = names.index(default) if default in names else 0
    out = []
    for index, (container, cname) in enumerate(zip(containers, names, strict=True)):
        at = f"{where}/{cname}"
        items: list[Item] = list(pod) if index == 0 else []  # the pod's own: with the first
        for field, what in _CONTAINER_NEVER.items():
            items += _leaves(nodes.get(container, field), f"{at}.{field}", what)
        resources = nodes.get(container, "resources")
        for field, node in nodes.items(resources):
            for key, value in nodes.items(node):
                what = _KUBE.get(f"{field}.{key}", "resources")
                items += _leaves(value, f"{at}.resources.{field}.{key}", what)
        limits = {"cpu_limit": ("resources", "limits", "cpu"),
                  "memory_limit": ("resources", "limits", "memory")}  # fmt: skip
        line = nodes.line(nodes.get(container, "name") or container)
        items += _missing_limits(items, container, at, limits, line, "none")
        label = f"{kind} {name} / container `{cname}`"
        out.append(Workload(path, label, line, images[index], False, stateful, index == main,
                            tuple(items)))  # fmt: skip
    return out


def _image_name(image: str) -> str:
    return image_ref(image).name.rsplit("/", 1)[-1] if image else ""


def _measure_kubernetes(view: View, found: list[Workload]) -> list[Workload]:
    """The Kubernetes container the sandbox measures: the main container of a stateless
    workload whose image is named like a compose service built from the measured Dockerfile,
    else the only such container in the repository. Its resources reach the sandbox's."""
    built = set()
    for path in view.repo.files:
        if compose.is_compose(path):
            for s in compose.services(view.repo, path):
                if s.build and s.build.dockerfile == view.sandbox.dockerfile and s.image:
                    built.add(_image_name(s.image))
    candidates = [
        i for i, w in enumerate(found)
        if "container `" in w.label and w.main and not w.stateful
        and _image_name(w.image) not in TOOLS
    ]  # fmt: skip
    named = [i for i in candidates if _image_name(found[i].image) in built]
    chosen = named or (candidates if len(candidates) == 1 else [])
    out = list(found)
    for i in chosen:
        items = tuple(
            replace(item, reaches="resources") if item.kind in RESOURCE_KINDS else item
            for item in found[i].items
        )
        out[i] = replace(found[i], measured=True, items=items)
    return out


def deploy_files(view: View) -> dict[str, Reaches]:
    """Every compose file and manifest with a workload: "resources" where it holds the measured
    service's (or container's) resources, else "none"."""
    out: dict[str, Reaches] = {}
    for workload in workloads(view):
        if workload.measured:
            out[workload.path] = "resources"
        else:
            out.setdefault(workload.path, "none")
    return out
