"""Sandbox backends: a Protocol (base.Backend) plus this registry, like pre-commit's languages."""

from __future__ import annotations

from mutbot.backends import docker_backend, local_backend
from mutbot.backends.base import Backend, BackendSpec, CorePlan, plan_cores
from mutbot.config_sandbox import Sandbox
from mutbot.errors import SandboxError

BACKENDS: dict[str, BackendSpec] = {
    "docker": BackendSpec(available=docker_backend.available, create=docker_backend.DockerBackend),
    "local": BackendSpec(available=local_backend.available, create=local_backend.LocalBackend),
}


def choose(requested: str | None, fallback: bool = True) -> str:
    """`docker` whenever an engine answers, else `local` (only with `fallback`); an explicit
    choice must be usable."""
    if requested:
        if requested not in BACKENDS:
            raise SandboxError(
                f"unknown backend {requested!r}; expected one of {', '.join(BACKENDS)}"
            )
        why = BACKENDS[requested].available()
        if why:
            raise SandboxError(f"backend {requested!r} is not usable here: {why}")
        return requested
    why = BACKENDS["docker"].available()
    if why is None:
        return "docker"
    if not fallback:
        raise SandboxError(
            f"{why}: start Docker, or ask for the weaker local backend by name "
            "(the action's `backend: local` input; docs/sandbox.md)"
        )
    return "local"


def create(name: str, sandbox: Sandbox, run_id: str, cores: CorePlan) -> Backend:
    return BACKENDS[name].create(sandbox, run_id, cores)


__all__ = ["BACKENDS", "Backend", "CorePlan", "choose", "create", "plan_cores"]
