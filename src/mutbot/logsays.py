"""What a service's or its tests' log lines say about why it failed (pure): a database,
cache or broker it cannot reach, a Python module the image lacks, an environment variable it
needs. Part of `mutbot doctor`'s diagnoses (diagnose.py)."""

from __future__ import annotations

import re

PORTS = {5432: "PostgreSQL", 3306: "MySQL", 6379: "Redis", 27017: "MongoDB", 5672: "RabbitMQ"}
PORTS |= {11211: "Memcached", 9200: "Elasticsearch"}
_EXAMPLES = {  # a sandbox.services entry a user can paste, per well-known port
    5432: "{image: postgres:16, env: {POSTGRES_HOST_AUTH_METHOD: trust}, "
    "health: {command: pg_isready -h 127.0.0.1}}",
    6379: "{image: redis:7, health: {port: 6379}}",
    3306: "{image: mysql:8, env: {MYSQL_ALLOW_EMPTY_PASSWORD: 'yes'}, health: {port: 3306}}",
}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


# What clients print when their server is not there: (pattern, host group, port group, port
# when the message names none). The first pattern that matches, on the last line that matches
# any, wins.
_UNREACHABLE: tuple[tuple[str, int | None, int | None, int | None], ...] = (
    (r'connection to server at "([^"]+)".*?port (\d+) failed', 1, 2, None),  # libpq
    (r'could not translate host name "([^"]+)"', 1, None, 5432),  # libpq
    (r'connection to server on socket "[^"]*\.s\.PGSQL\.(\d+)"', None, 1, None),  # libpq, no URL
    (r"Error -?\d+ connecting to ([\w.-]+):(\d+)", 1, 2, None),  # redis-py
    (r"(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN) ([\w.-]+)(?::(\d+))?", 1, 2, None),  # Node
    (r"dial tcp \[?([\w.:-]+?)\]?:(\d+): connect", 1, 2, None),  # Go
    (r"dial tcp: lookup ([\w.-]+)", 1, None, None),  # Go
    (r"Can't connect to MySQL server on '([^':]+)", 1, None, 3306),
    (r"\b([a-z][\w.-]*):(\d{2,5})\b.*(?:refused|not known|no such host|timed out)", 1, 2, None),
)


def unreachable(services: tuple[str, ...], lines: tuple[str, ...], who: str) -> list[str]:
    """A database, cache or broker the service cannot reach: what to add or fix."""
    for line in reversed(lines):
        for pattern, host_at, port_at, default in _UNREACHABLE:
            found = re.search(pattern, line)
            if found:
                host = found[host_at] if host_at else "localhost"
                port = found[port_at] if port_at else None
                return [_reach(services, who, host, int(port) if port else default)]
    return []


def _reach(services: tuple[str, ...], who: str, host: str, port: int | None) -> str:
    what = PORTS.get(port or 0, "a server")
    where = f"{host}:{port}" if port else host
    if host in services:
        return (
            f"{who} cannot reach {what} at {where}, though sandbox.services.{host} runs: does "
            "it listen on that port, and does its health check wait until it does?"
        )
    example = _EXAMPLES.get(port or 0)
    name = "db" if host in LOCAL_HOSTS else host
    add = f" e.g. `{name}: {example}`" if example else ""
    if host in LOCAL_HOSTS:
        return (
            f"{who} cannot reach {what} at {where}, inside its own container: give it the "
            "database's address in sandbox.env (by a service's name, as in compose) and add that "
            f"service under sandbox.services;{add}"
        )
    return (
        f"{who} cannot reach {what} at {where}: nothing called {host} runs in the sandbox; "
        f"add it under sandbox.services (docs/config.md),{add}"
    )


def hints(lines: tuple[str, ...]) -> list[str]:
    text = "\n".join(lines)
    hints = []
    if missing := missing_module(lines):
        hints.append(f"the image lacks the Python module {missing}: install it in the Dockerfile")
    for pattern in (
        r"KeyError: '([A-Z][A-Z0-9_]{2,})'",
        r"[Ss]et the ([A-Z][A-Z0-9_]{2,}) environment variable",
        r"\b([A-Z][A-Z0-9_]{2,}) (?:environment variable )?(?:is not set|must be set|is required)",
    ):
        if variable := re.search(pattern, text):
            name = variable[1]
            hints.append(
                f"the service needs the environment variable {name}: set it under sandbox.env "
                "(or list it under sandbox.throwaway_env when it is a secret)"
            )
            break
    return hints


def missing_module(lines: tuple[str, ...]) -> str | None:
    for line in reversed(lines):
        found = re.search(r"No module named '?([\w.]+)'?", line)
        if found:
            return found[1].split(".")[0]
    return None
