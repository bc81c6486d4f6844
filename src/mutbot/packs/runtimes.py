"""What the runtime and server packs (Node, Go, the JVM, nginx) share (pure): the sandbox's
limits as a runtime should see them, where a variable the runtime reads is set or would be
added, and moves made from a seen setting's setter."""

from __future__ import annotations

import math
from collections.abc import Callable

from mutbot.packs import envsites
from mutbot.packs.model import Edit, Move, Reaches, Seen, Setter, Site, Value
from mutbot.packs.view import View

MIB = 1024 * 1024


def cpus(view: View) -> int:
    """The CPU limit, rounded up: the most cores the service can keep busy."""
    return max(1, math.ceil(view.sandbox.cpus))


def memory_mib(view: View) -> int:
    return view.sandbox.memory // MIB


def written_at(view: View, name: str) -> tuple[Site, Reaches, str] | None:
    """Where the variable is set (a repository file, else the sandbox config), which sandbox
    input a change there reaches, and its value; None when nothing sets it."""
    found = envsites.env_site(view, name)
    if found is None:
        return None
    if found.site is None:
        return Site(".mutbot.yml", 1, "sandbox"), "environment", found.value
    return found.site, view.reaches(found.site.path), found.value


def added_at(view: View) -> Site | None:
    """Where a new ENV line goes; when the Dockerfile is not one a candidate may change, the
    line that starts the service (for an opportunity that names a place)."""
    site = envsites.add_site(view)
    start = (view.image.entrypoint or view.image.cmd) if view.image else None
    if site is None and start is not None:
        return Site(start.source.path, start.source.line or 1, "env")
    return site


def probe(make: Callable[[Value], tuple[Edit, ...] | None], sample: Value) -> Setter | None:
    """A setter when the place can be edited at all (tried with a sample value)."""
    if make(sample) is None:
        return None
    return lambda value: make(value) or ()


def moves(seen: Seen, value: Value, rule: str) -> tuple[Move, ...]:
    return (Move(seen, value, rule, seen.setter(value)),) if seen.setter else ()


def pick(found: dict[str, Seen], wanted: list[tuple[str, Value, str]]) -> list[Move]:
    """Exploratory moves: each (setting, value, rule) once, where the setting can be changed
    and does not have that value already."""
    out: list[Move] = []
    for name, value, rule in dict(((n, v), (n, v, r)) for n, v, r in wanted).values():
        current = found.get(name)
        if current is not None and current.setter is not None and current.value != value:
            out += moves(current, value, rule)
    return out
