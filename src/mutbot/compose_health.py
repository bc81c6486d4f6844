"""What a compose `healthcheck:` says (pure): the HTTP path and port a service's own probe asks
(curl, wget or Python's urllib against localhost), or the command a dependency's health check
runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# localhost:8000/health, http://127.0.0.1:8000/health, 'http://localhost/ping' in python -c
_LOCAL_URL = re.compile(
    r"(?<![\w.@/-])(?:(https?)://)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])"
    r"(?::(\d{1,5}))?(/[^\s'\"`|;&()<>\\]*)?(?![\w.-])",
    re.IGNORECASE,
)
_HTTP_CLIENTS = ("curl", "wget", "http", "urllib", "requests", "httpx", "fetch")


@dataclass(frozen=True)
class Probe:
    port: int
    path: str


def check_of(healthcheck: Any, interpolate: Callable[[str], str]) -> list[str] | str | None:
    """The check a healthcheck runs: a list (exec form, CMD), a string (shell form,
    CMD-SHELL or a plain string), or None (none, NONE or disable: true)."""
    if not isinstance(healthcheck, dict) or str(healthcheck.get("disable")).lower() == "true":
        return None
    test = healthcheck.get("test")
    if isinstance(test, str):
        return interpolate(test) or None
    if not isinstance(test, list) or not test:
        return None
    head, rest = str(test[0]), [interpolate(str(word)) for word in test[1:]]
    if head == "NONE":
        return None
    if head == "CMD-SHELL":
        return " ".join(rest) or None
    return (rest if head == "CMD" else [interpolate(str(w)) for w in test]) or None


def http_probe(healthcheck: Any, interpolate: Callable[[str], str]) -> Probe | None:
    """The port and path of a healthcheck that asks the service over HTTP on localhost."""
    test = check_of(healthcheck, interpolate)
    if test is None:
        return None
    text = test if isinstance(test, str) else " ".join(test)
    if not any(client in text.lower() for client in _HTTP_CLIENTS):
        return None
    for found in _LOCAL_URL.finditer(text):
        scheme, port, path = (found[1] or "http").lower(), found[2], found[3] or "/"
        number = int(port) if port else (443 if scheme == "https" else 80)
        if 1 <= number <= 65535:
            return Probe(number, path)
    return None


def service_health(healthcheck: Any, interpolate: Callable[[str], str]) -> dict[str, Any] | None:
    """A dependency's health as `sandbox.services.NAME.health` takes it: the command its
    healthcheck runs inside it (pg_isready, redis-cli ping)."""
    test = check_of(healthcheck, interpolate)
    return None if test is None else {"command": test}
