"""Which service of the repository is the one to measure (pure): a compose service with
`build:` (a `*prod*` compose file first), else a Kubernetes container whose image is built here,
else a Dockerfile with CMD or ENTRYPOINT that is not a `*dev*` one. `--service NAME` chooses
among them; the others are listed."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from mutbot.discover import compose, kubernetes
from mutbot.discover.dockerfiles import is_dev, is_dockerfile, is_prod, rank, read_image
from mutbot.discover.model import Repo, Source

_NOT_DEPLOYMENT = {".github", "tests", "test", "docs", "examples", "testdata", "fixtures"}
_NOT_DEPLOYMENT |= {"vendor", "node_modules", ".venv", "venv", "site-packages"}
_PROXIES = {"nginx", "proxy", "traefik", "caddy", "haproxy", "envoy", "web-proxy", "lb"}
_WORKERS = {"worker", "celery", "beat", "scheduler", "cron", "consumer", "queue", "migrate", "jobs"}
_APP_NAMES = ("web", "app", "api", "server", "backend", "service", "site")
# Images that are infrastructure, not something a repository builds.
_PUBLIC = re.compile(
    r"(docker\.io/)?(library/|bitnami/)?(postgres|postgis/postgis|mysql|mariadb|redis|memcached|"
    r"mongo|rabbitmq|nginx|traefik|caddy|haproxy|envoyproxy/envoy|busybox|alpine|debian|ubuntu|"
    r"elasticsearch|opensearch|kafka|zookeeper|minio/minio|localstack/localstack|vault|consul|"
    r"prom/[\w-]+|grafana/[\w-]+|jaegertracing/[\w-]+|otel/[\w-]+|datadog/[\w-]+|fluent/[\w-]+)"
    r"(:.*)?"
)
MAX_MANIFESTS = 200


@dataclass(frozen=True)
class Candidate:
    kind: str  # "compose", "kubernetes" or "dockerfile"
    name: str  # the service's, the container's, or the Dockerfile's path
    label: str  # how a comment names it
    why: str  # why it is a candidate
    source: Source
    dockerfile: str
    context: str
    target: str | None = None
    service: compose.Service | None = None
    container: kubernetes.Container | None = None


def deployment_files(repo: Repo) -> list[str]:
    return [f for f in repo.files if not set(f.split("/")[:-1]) & _NOT_DEPLOYMENT]


def compose_services(repo: Repo) -> list[compose.Service]:
    files = sorted((f for f in deployment_files(repo) if compose.is_compose(f)), key=compose.rank)
    return [s for f in files for s in compose.services(repo, f)]


def containers(repo: Repo) -> list[kubernetes.Container]:
    yamls = [
        f
        for f in deployment_files(repo)
        if f.endswith((".yml", ".yaml")) and not compose.is_compose(f)
    ]
    return [c for f in yamls[:MAX_MANIFESTS] for c in kubernetes.containers(repo, f)]


def public(image: str) -> bool:
    return bool(_PUBLIC.fullmatch(image.lower()))


def candidates(
    repo: Repo, services: list[compose.Service], pods: list[kubernetes.Container]
) -> list[Candidate]:
    """Every way the service may be described, the likeliest first."""
    found: list[Candidate] = []
    seen: set[tuple[str, str, str | None]] = set()
    built = [s for s in services if s.build is not None]
    for service in sorted(built, key=lambda s: _service_rank(s, services)):
        assert service.build is not None
        key = (service.build.dockerfile, service.build.context, service.build.target)
        if key in seen:
            continue  # the same image in a dev and a prod compose file
        seen.add(key)
        label = f"compose service `{service.name}` ({service.file})"
        why = "a compose service with build:"
        found.append(
            Candidate("compose", service.name, label, why, service.source, service.build.dockerfile,
                      service.build.context, service.build.target, service=service)
        )  # fmt: skip
    dockerfiles = sorted(
        (f for f in deployment_files(repo) if is_dockerfile(f)),
        key=lambda f: rank(f, read_image(repo, f)),
    )
    ours = [c for c in pods if c.image and not public(c.image)]
    if dockerfiles:
        for pod in ours:
            label = f"container `{pod.name}` of {pod.workload} ({pod.file})"
            why = "a Kubernetes container whose image is built here, from " + dockerfiles[0]
            found.append(
                Candidate("kubernetes", pod.name, label, why, pod.source, dockerfiles[0],
                          posixpath.dirname(dockerfiles[0]) or ".", container=pod)
            )  # fmt: skip
    for path in dockerfiles:
        if not any(c.dockerfile == path for c in found if c.kind == "compose"):
            label = f"Dockerfile {path}"
            image = read_image(repo, path)
            why = "a Dockerfile with CMD or ENTRYPOINT, not a dev one"
            if image is None or not image.runnable:
                why = "a Dockerfile without CMD or ENTRYPOINT"
            elif is_dev(path):
                why = "a development Dockerfile, the only runnable one"
            found.append(
                Candidate("dockerfile", path, label, why, Source(path), path,
                          posixpath.dirname(path) or ".")
            )  # fmt: skip
    return found


def _service_rank(
    service: compose.Service, every: list[compose.Service]
) -> tuple[tuple[bool, bool, bool, int, str], bool, int, bool, bool]:
    """Within compose files: the file's rank, then not a proxy, a worker or a dev build, then
    an app-like name, then one a proxy sends to, then one that needs other services."""
    assert service.build is not None
    words = set(re.split(r"[^a-z0-9]+", service.name.lower()))
    proxy = bool(words & _PROXIES) or "nginx" in service.build.dockerfile.lower()
    dev = is_dev(service.build.dockerfile) and not is_prod(service.build.dockerfile)
    named = next((i for i, n in enumerate(_APP_NAMES) if n in words), len(_APP_NAMES))
    same_file = [s for s in every if s.file == service.file]
    behind_proxy = any(
        service.name in s.depends_on and set(re.split(r"[^a-z0-9]+", s.name.lower())) & _PROXIES
        for s in same_file
    )
    return (
        compose.rank(service.file),
        proxy or dev or bool(words & _WORKERS),
        named,
        not behind_proxy,
        not service.depends_on,
    )


def choose(found: list[Candidate], wanted: str | None) -> Candidate | None:
    """The first candidate, or the one `wanted` names (a compose service, a container, a
    workload or a Dockerfile path); None when `wanted` names none."""
    if wanted is None:
        return found[0] if found else None
    for candidate in found:
        names = {candidate.name, candidate.dockerfile}
        if candidate.container is not None:
            names.add(candidate.container.workload.split(" ", 1)[-1])
        if wanted in names:
            return candidate
    return None


def matching_container(
    chosen: Candidate, pods: list[kubernetes.Container]
) -> kubernetes.Container | None:
    """The Kubernetes container that runs the chosen service: the one built here whose name,
    workload or image names it, or the only one built here."""
    if chosen.container is not None:
        return chosen.container
    ours = [c for c in pods if c.image and not public(c.image)]
    names = {chosen.name.lower(), posixpath.basename(chosen.context).lower()}
    if chosen.service is not None and chosen.service.image:
        names.add(_repository(chosen.service.image))
    for pod in ours:
        found = {
            pod.name.lower(),
            pod.workload.split(" ", 1)[-1].lower(),
            _repository(pod.image or ""),
        }
        if names & found:
            return pod
    return ours[0] if len(ours) == 1 else None


def _repository(image: str) -> str:
    name = image.split("@")[0]
    name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    return name.rsplit("/", 1)[-1].lower()
