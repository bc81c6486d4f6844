"""The services the measured one depends on (pure): compose `depends_on` services that run from
an image become `sandbox.services`, with their environment (through mutbot.envfilter; a
database whose password was left out runs in its no-password mode), command and health check
(their compose healthcheck, else the usual one for a known image)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mutbot.discover import compose
from mutbot.discover.dockerfiles import Words
from mutbot.discover.model import Guess
from mutbot.envfilter import filter_env, trust_env

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_PORTS = {
    "mysql": 3306, "mariadb": 3306, "mongo": 27017, "rabbitmq": 5672, "memcached": 11211,
    "elasticsearch": 9200, "opensearch": 9200, "kafka": 9092, "zookeeper": 2181, "minio": 9000,
    "nats": 4222, "cassandra": 9042, "clickhouse": 8123, "valkey": 6379, "keydb": 6379,
}  # fmt: skip


@dataclass(frozen=True)
class Dependency:
    name: str
    image: Guess[str]
    command: Guess[Words] | None
    env: dict[str, Guess[str]]
    health: Guess[Words | int] | None  # a command, or a TCP port
    memory: Guess[str] | None
    left_out: list[str] = field(default_factory=list)  # comments on what was not taken


def dependencies(
    chosen: compose.Service, every: list[compose.Service]
) -> tuple[list[Dependency], list[Guess[str]]]:
    """The services `chosen` depends on (and theirs), dependencies first; and notes on the
    ones that cannot be started (built here, no image, a name that is no host name)."""
    by_name = {s.name: s for s in every if s.file == chosen.file}
    order: list[str] = []

    def visit(name: str, depth: int) -> None:
        for dep in by_name[name].depends_on if name in by_name else ():
            if dep not in order and dep != chosen.name and depth < 10:
                visit(dep, depth + 1)
                order.append(dep)

    visit(chosen.name, 0)
    found, notes = [], []
    for name in order:
        service = by_name.get(name)
        where = service.source if service else chosen.source
        if service is None:
            notes.append(
                Guess(
                    name,
                    f"depends_on names `{name}`, which the file does not define",
                    where,
                    "add it to sandbox.services",
                )
            )
        elif service.build is not None:
            notes.append(
                Guess(
                    name,
                    f"depends on `{name}`, built here too: not started",
                    where,
                    "the sandbox starts only services that run from an image",
                )
            )
        elif not service.image:
            notes.append(
                Guess(name, f"depends on `{name}`, which has no image: not started", where)
            )
        elif not _NAME.fullmatch(name):
            notes.append(
                Guess(
                    name,
                    f"depends on `{name}`, whose name is no host name: not started",
                    where,
                    "rename it in sandbox.services and in the service's settings",
                )
            )
        else:
            found.append(_dependency(service))
    return found, notes


def _dependency(service: compose.Service) -> Dependency:
    assert service.image is not None
    image = _defaulted(service.image)
    kept = filter_env(service.environment)
    gone = {d.name for d in kept.dropped}
    secrets = [  # values that must not reach the config through a command
        value
        for name, value in service.environment.items()
        if value and len(value) >= 4 and name in gone and value not in kept.env.values()
    ]
    env = {
        name: Guess(value, "environment", service.env_sources.get(name))
        for name, value in kept.env.items()
    }
    trust = trust_env(image, kept.dropped)
    for name, value in trust.items():
        dropped = ", ".join(d.name for d in kept.dropped if "PASS" in d.name.upper())
        env[name] = Guess(value, f"runs without a password: {dropped} left out")
    left_out = [f"{d.name} ({d.why})" for d in kept.dropped] + list(kept.notes)
    command = None
    if service.command is not None:
        if any(s in " ".join(service.command.argv()) for s in secrets):
            left_out.append("its command (it holds a secret's value)")
        else:
            command = Guess(service.command.words, "command", service.command.source)
    return Dependency(
        service.name,
        Guess(image, "image", service.source),
        command,
        env,
        _health(service, image, {**kept.env, **trust}, secrets),
        service.memory,
        left_out,
    )


def _health(
    service: compose.Service, image: str, env: dict[str, str], secrets: list[str]
) -> Guess[Words | int] | None:
    check = service.healthcheck
    if check is not None and not any(s in " ".join(check.argv()) for s in secrets):
        words = check.words
        test = (
            words.replace("$$", "$")
            if isinstance(words, str)
            else [w.replace("$$", "$") for w in words]
        )
        return Guess(test, "healthcheck", check.source)
    repository = image.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1].lower()
    if repository in ("postgres", "postgis", "timescaledb"):
        user = env.get("POSTGRES_USER")
        command = (
            f"pg_isready -U {user}" if user and re.fullmatch(r"[\w.-]+", user) else "pg_isready"
        )
        return Guess(command, f"the usual check for {repository}")
    if repository in ("redis", "redis-stack-server"):
        return Guess("redis-cli ping", "the usual check for redis")
    if repository in _PORTS:
        return Guess(_PORTS[repository], f"{repository}'s port")
    if service.ports:
        port = service.ports[0]
        return Guess(port.value, port.why, port.source)
    return None


def _defaulted(value: str) -> str:
    """`${TAG:-16}` as compose reads it with no variable set."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)
