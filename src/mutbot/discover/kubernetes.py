"""Kubernetes manifests (pure): the containers of workloads, with their image, ports, HTTP
probes, command, literal environment and limits, each with its line. Helm templates, which are
not YAML until rendered, give nothing."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from yaml.nodes import Node

from mutbot.discover import nodes
from mutbot.discover.dockerfiles import Command
from mutbot.discover.model import Guess, Repo, Source

At = Callable[[Node], Source]
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob"}
_PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
_QUANTITY = re.compile(r"((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?")
_FACTORS = {"": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_FACTORS |= {"P": 1e15, "E": 1e18} | {f"{p}i": 1024.0 ** (n + 1) for n, p in enumerate("KMGTPE")}


@dataclass(frozen=True)
class Probe:
    kind: str  # readinessProbe, livenessProbe, startupProbe
    path: str
    port: str | None  # a number or a port's name, as written
    source: Source


@dataclass(frozen=True)
class Container:
    file: str
    workload: str  # e.g. "Deployment notes"
    name: str
    source: Source
    image: str | None
    ports: tuple[Guess[int], ...]  # containerPort
    port_names: dict[str, int]
    probes: tuple[Probe, ...]  # readiness, liveness, startup
    command: Command | None  # replaces the image's ENTRYPOINT
    args: Command | None  # replaces its CMD
    env: dict[str, str | None]  # None: from a secret, a config map or a field
    env_sources: dict[str, Source]
    cpus: Guess[float] | None
    memory: Guess[str] | None

    def probe_port(self, probe: Probe) -> int | None:
        if probe.port is None:
            return None
        if probe.port.isdigit():
            return int(probe.port)
        return self.port_names.get(probe.port)


def is_manifest(path: str, text: str) -> bool:
    parts = path.split("/")
    return (
        path.endswith((".yml", ".yaml"))
        and "templates" not in parts[:-1]
        and ".github" not in parts
        and "kind:" in text
    )


def containers(repo: Repo, path: str) -> list[Container]:
    text = repo.read(path)
    if text is None or not is_manifest(path, text):
        return []
    found = []
    for doc in nodes.documents(text):
        kind = nodes.text(nodes.get(doc, "kind"))
        if kind not in _WORKLOADS:
            continue
        name = nodes.text(nodes.path(doc, "metadata", "name")) or posixpath.basename(path)
        if kind == "Pod":
            spec = nodes.get(doc, "spec")
        elif kind == "CronJob":
            spec = nodes.path(doc, "spec", "jobTemplate", "spec", "template", "spec")
        else:
            spec = nodes.path(doc, "spec", "template", "spec")
        for node in nodes.seq(nodes.get(spec, "containers")):
            found.append(_container(path, f"{kind} {name}", node))
    return found


def _container(path: str, workload: str, node: Node) -> Container:
    def at(n: Node) -> Source:
        return Source(path, nodes.line(n))

    name_node = nodes.get(node, "name")
    ports: list[Guess[int]] = []
    names: dict[str, int] = {}
    for item in nodes.seq(nodes.get(node, "ports")):
        number_node = nodes.get(item, "containerPort")
        number = nodes.text(number_node) or ""
        if number_node is not None and number.isdigit() and 1 <= int(number) <= 65535:
            ports.append(Guess(int(number), f"containerPort {number}", at(number_node)))
            if port_name := nodes.text(nodes.get(item, "name")):
                names[port_name] = int(number)
    probes = []
    for kind in _PROBES:
        http = nodes.path(node, kind, "httpGet")
        probe_path = nodes.get(http, "path")
        if http is not None:
            written = nodes.text(probe_path) or "/"
            where = at(probe_path if probe_path is not None else http)
            probes.append(Probe(kind, written, nodes.text(nodes.get(http, "port")), where))
    env: dict[str, str | None] = {}
    env_sources: dict[str, Source] = {}
    for item in nodes.seq(nodes.get(node, "env")):
        key = nodes.text(nodes.get(item, "name"))
        if key:
            env[key] = nodes.text(nodes.get(item, "value"))
            env_sources[key] = at(item)
    limits = nodes.path(node, "resources", "limits")
    return Container(
        file=path,
        workload=workload,
        name=nodes.text(name_node) or "",
        source=at(name_node if name_node is not None else node),
        image=nodes.text(nodes.get(node, "image")),
        ports=tuple(ports),
        port_names=names,
        probes=tuple(probes),
        command=_command(nodes.get(node, "command"), at),
        args=_command(nodes.get(node, "args"), at),
        env=env,
        env_sources=env_sources,
        cpus=_cpus(nodes.get(limits, "cpu"), at),
        memory=_memory(nodes.get(limits, "memory"), at),
    )


def _command(node: Node | None, at: At) -> Command | None:
    words = nodes.texts(node)
    if node is None or words is None:
        return None
    return Command(words, at(node))


def _cpus(node: Node | None, at: At) -> Guess[float] | None:
    written = nodes.text(node)
    value = quantity(written) if written else None
    if node is None or value is None or not 0 < value <= 256:
        return None
    return Guess(value, f"limits.cpu {written}", at(node))


def quantity(value: str) -> float | None:
    """A Kubernetes quantity as a plain number: "500m" -> 0.5, "256Mi" -> 268435456."""
    match = _QUANTITY.fullmatch(value.strip())
    if match is None:
        return None
    return float(match.group(1)) * _FACTORS[match.group(2) or ""]


def _memory(node: Node | None, at: At) -> Guess[str] | None:
    written = nodes.text(node)
    if node is None or not written:
        return None
    return Guess(written, f"limits.memory {written}", at(node))
