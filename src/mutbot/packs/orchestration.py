"""The orchestration pack: what compose files and Kubernetes manifests say about the running
service. Ports, probes and health checks, security contexts and users, host namespaces, and the
replicas of stateful services (a database image, a StatefulSet, a volume) are `never`. CPU and
memory limits and requests are tuning settings; for the container the sandbox measures, a
change reaches the sandbox's resources (the candidate runs with its limits). The replicas of a
stateless workload are tuning settings no single sandbox can measure. Everything else in those
files is not seen, so no proposer changes it. Reading: `orchestration_read`; detectors:
`orchestration_detect`; the memory limit right-sized from the measured peak:
`orchestration_rightsize`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from mutbot.discover import nodes
from mutbot.packs import orchestration_detect, orchestration_rightsize
from mutbot.packs.dockerfile_settings import Instances
from mutbot.packs.model import Edit, Finding, Move, Seen, Setter, Setting, Site, Value
from mutbot.packs.orchestration_read import Item, workloads
from mutbot.packs.orchestration_yaml import added, replaced
from mutbot.packs.view import View

TEMPLATES: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("port", "str", None, "a port a container listens on or a service publishes",
                "never"),
        Setting("healthcheck", "str", None, "compose's health check of a service", "never"),
        Setting("probe", "str", None, "a Kubernetes readiness, liveness or startup probe",
                "never"),
        Setting("security", "str", None, "who the container runs as and what it may do",
                "never"),
        Setting("host", "str", None, "host networking, names and namespaces", "never"),
        Setting("stateful_replicas", "int", 1, "copies of a workload that keeps state", "never",
                low=0, default_note="one copy when not set"),
        Setting("replicas", "int", 1, "copies of a stateless workload (not measurable in one "
                "sandbox)", low=0, default_note="one copy when not set"),
        Setting("cpu_limit", "str", None, "the CPU limit", unit="cores",
                interacts=("workers", "threads"), default_note="no limit: every CPU of the host"),
        Setting("memory_limit", "str", None, "the memory limit", unit="bytes",
                interacts=("workers",), default_note="no limit: all the host's memory"),
        Setting("cpu_request", "str", None, "the CPU the scheduler reserves", unit="cores"),
        Setting("memory_request", "str", None, "the memory the scheduler reserves",
                unit="bytes"),
        Setting("resources", "str", None, "another resource bound (pids, shares, storage)"),
    )
}  # fmt: skip


def setting_for(name: str) -> Setting:
    """`kind@file:where` -> the kind's Setting under that name; KeyError for another name."""
    kind, at, _ = name.partition("@")
    template = TEMPLATES[kind]
    return replace(template, name=name) if at else template


SETTINGS = Instances(TEMPLATES, setting_for)


class OrchestrationPack:
    name = "orchestration"
    settings: Mapping[str, Setting] = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        out = []
        for workload in workloads(view):
            editable = view.editable(workload.path)
            out += [self._seen(view, workload.path, i, editable) for i in workload.items]
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        found = orchestration_detect.findings(view, workloads(view))
        return found + orchestration_rightsize.findings(view, seen)

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        """None: a limit is right-sized from measurements (a finding's fix), not stepped
        blindly."""
        return []

    def _seen(self, view: View, path: str, item: Item, editable: bool) -> Seen:
        setting = SETTINGS[item.name]
        usable = editable and item.reaches != "none" and setting.safety != "never"
        return Seen(
            pack=self.name,
            setting=setting,
            value=item.value,
            written=item.scalar is not None,
            site=Site(path, item.line, "yaml"),
            raw=nodes.text(item.scalar) if item.scalar is not None else None,
            reaches=item.reaches,
            setter=_setter(view, path, item) if usable else None,
        )


def _setter(view: View, path: str, item: Item) -> Setter:
    text = view.repo.read(path) or ""

    def put(value: Value) -> tuple[Edit, ...]:
        if value is None:
            return ()
        if item.scalar is not None:
            return (Edit(path, *replaced(item.scalar, str(value))),)
        found = added(text, item.parent, item.keys, str(value)) if item.parent else None
        return (Edit(path, found[0], found[0], found[1]),) if found else ()

    return put


PACK = OrchestrationPack()
