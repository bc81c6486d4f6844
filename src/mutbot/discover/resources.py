"""CPU and memory limits for the sandbox (pure): production's, from the compose service's
`deploy.resources.limits` (or `cpus`/`mem_limit`) or the Kubernetes container's
`resources.limits`; else a default to check. Every trial runs with them, and the cost figures
are computed at them."""

from __future__ import annotations

from mutbot.config_sandbox import DOCKER_MINIMUM
from mutbot.discover import compose, kubernetes
from mutbot.discover.model import Guess
from mutbot.units import parse_size

DEFAULT_CPUS = Guess(1.0, "no limit found", None, "set production's CPU limit")
DEFAULT_MEMORY = Guess("512m", "no limit found", None, "set production's memory limit")


def limits(
    service: compose.Service | None, pod: kubernetes.Container | None
) -> tuple[Guess[float], Guess[str]]:
    cpus = (service.cpus if service else None) or (pod.cpus if pod else None)
    memory = None
    for written in ((service.memory if service else None), (pod.memory if pod else None)):
        if written is not None and memory is None:
            size = _size(written.value)
            memory = Guess(size, written.why, written.source) if size else None
    return cpus or DEFAULT_CPUS, memory or DEFAULT_MEMORY


def _size(written: str) -> str | None:
    """A size as the config writes it ("512Mi" -> "512m", "1G" -> "1g"); None when it is not one
    or below Docker's minimum."""
    try:
        size = parse_size(written)
    except ValueError:
        return None
    if size < DOCKER_MINIMUM:
        return None
    for unit, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
