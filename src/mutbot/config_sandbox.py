"""The `sandbox` section of .mutbot.yml: how the service is built, started and given the
services it needs (pure). docs/config.md describes every key."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from mutbot.config_base import Duration, Section, Size
from mutbot.envfilter import NO_PASSWORD_SWITCHES
from mutbot.secretnames import looks_secret
from mutbot.units import parse_size, shown

DOCKER_MINIMUM = 6 * 1024**2  # Docker refuses a memory limit below 6 MiB
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")  # a compose service name, a DNS label


def _scalars(value: object) -> object:
    """Environment values as compose writes them: text, numbers and booleans, all as text."""
    if not isinstance(value, dict):
        return value  # the model says "expected a mapping"
    out: dict[object, object] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            out[key] = "true" if item else "false"
        elif isinstance(item, int | float):
            out[key] = str(item)
        elif item is None:
            out[key] = ""
        else:
            out[key] = item
    return out


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")


def _variable_names(names: list[str]) -> list[str]:
    for name in names:
        if not _VARIABLE.fullmatch(name):
            raise ValueError(f"{shown(name)} is not an environment variable name")
    return names


def _no_secrets(value: dict[str, str]) -> dict[str, str]:
    for key in _variable_names(list(value)):
        if looks_secret(key) and key not in NO_PASSWORD_SWITCHES:
            raise ValueError(
                f"{key} looks like a secret, and secrets never enter a sandbox; give the service "
                f"a default for tests, list {key} under throwaway_env (a random value made up "
                "for each run), or for a database use its no-password mode (e.g. "
                "POSTGRES_HOST_AUTH_METHOD: trust)"
            )
    return value


Env = Annotated[dict[str, str], BeforeValidator(_scalars)]
# A string is split into words as compose and `docker run` split it (no shell runs it); a list is
# the exact argument vector.
Command = str | list[str]


def _plausible_memory(value: int) -> int:
    if value < DOCKER_MINIMUM:
        hint = f"; did you mean {value}m?" if value <= 64 * 1024 else ""
        raise ValueError(
            f"{value} bytes is below Docker's minimum of 6m (sizes take a unit: 256m, 1g){hint}"
        )
    return value


class Build(Section):
    target: str | None = None  # the Dockerfile stage to build (docker build --target)
    args: Env = Field(default_factory=dict)  # build arguments; they stay in the image history

    @field_validator("args")
    @classmethod
    def _no_secret_args(cls, value: dict[str, str]) -> dict[str, str]:
        return _no_secrets(value)


class ServiceHealth(Section):
    """When a service is ready: a command inside it exits 0, or a TCP port accepts."""

    command: Command | None = None
    port: int | None = Field(None, ge=1, le=65535)
    timeout: Duration = 60.0

    @model_validator(mode="after")
    def _one(self) -> ServiceHealth:
        if (self.command is None) == (self.port is None):
            raise ValueError("expected exactly one of command (e.g. pg_isready) or port")
        return self


class Service(Section):
    """A dependency started from an image on the run's internal network, reachable by its
    name, fresh for every trial unless `sandbox.reset` says otherwise."""

    image: str = Field(min_length=1)
    command: Command | None = None
    env: Env = Field(default_factory=dict)
    throwaway_env: list[str] = Field(default_factory=list)  # random values made up per run
    health: ServiceHealth | None = None  # None: the image's HEALTHCHECK, else "running"
    memory: Size | None = None

    @field_validator("env")
    @classmethod
    def _no_secret_env(cls, value: dict[str, str]) -> dict[str, str]:
        return _no_secrets(value)

    @field_validator("memory")
    @classmethod
    def _plausible(cls, value: int | None) -> int | None:
        return None if value is None else _plausible_memory(value)

    @field_validator("throwaway_env")
    @classmethod
    def _names_only(cls, value: list[str]) -> list[str]:
        return _variable_names(value)


class Sandbox(Section):
    dockerfile: str = "Dockerfile"
    context: str = "."
    build: Build = Field(default_factory=Build)
    command: Command | None = None  # the container's command, instead of the image's CMD
    entrypoint: Command | None = None  # instead of the image's ENTRYPOINT
    env: Env = Field(default_factory=dict)  # literal values; never a secret
    throwaway_env: list[str] = Field(default_factory=list)  # random values made up per run
    local_command: str | None = None  # how the local backend starts the service
    port: int = Field(8080, ge=1, le=65535)
    health: str = "/healthz"
    cpus: float = Field(1.0, gt=0, le=256)
    memory: Size = parse_size("256m")
    startup_timeout: Duration = 30.0
    build_timeout: Duration = 600.0
    network: Literal["isolated", "loopback"] = "isolated"
    services: dict[str, Service] = Field(default_factory=dict)
    reset: Literal["trial", "candidate"] = "trial"  # how often services start afresh
    compose: str | None = None  # take build, command, env and services from this compose file
    service: str | None = None  # ... from this service of it

    @field_validator("env")
    @classmethod
    def _no_secret_env(cls, value: dict[str, str]) -> dict[str, str]:
        return _no_secrets(value)

    @field_validator("memory")
    @classmethod
    def _plausible(cls, value: int) -> int:
        return _plausible_memory(value)

    @field_validator("throwaway_env")
    @classmethod
    def _names_only(cls, value: list[str]) -> list[str]:
        return _variable_names(value)

    @field_validator("health")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"expected an HTTP path starting with '/', got {shown(value)}")
        return value

    @field_validator("services")
    @classmethod
    def _names(cls, value: dict[str, Service]) -> dict[str, Service]:
        for name in value:
            if not _NAME.fullmatch(name):
                raise ValueError(
                    f"service name {shown(name)}: expected lower-case letters, digits, '_', "
                    "'.' or '-' (it becomes a host name on the sandbox's network)"
                )
        return value

    @model_validator(mode="after")
    def _compose_pair(self) -> Sandbox:
        if self.service is not None and self.compose is None:
            raise ValueError("sandbox.service names a service of sandbox.compose; set compose too")
        return self
