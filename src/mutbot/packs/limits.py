"""The limits a candidate asks its sandbox to run with (pure): the measured service's CPU and
memory limits as its change leaves them in a compose file or Kubernetes manifest (the
orchestration pack's settings that reach "resources"). Its trials run with them, the baseline's
with the config's. Requests and other resource bounds (pids, shm, swap) change nothing the
sandbox enforces: a candidate that changes only those is measured at the config's limits."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mutbot.packs.guard import Changed
from mutbot.packs.orchestration_detect import amount

PACK = "orchestration"
LIMITS = {"cpu_limit": "CPU limit", "memory_limit": "memory limit"}
REQUESTS = "requests and other resource bounds do not change the sandbox"


@dataclass(frozen=True)
class Asked:
    cpus: float | None = None  # the candidate's own CPU limit; None: the config's
    memory: int | None = None  # bytes; None: the config's
    problem: str | None = None  # why it cannot be measured, in one line
    note: str | None = None  # what it changes that the sandbox does not enforce


def kind(change: Changed) -> str | None:
    """The orchestration setting's kind ("memory_limit"), or None for another pack's."""
    if not change.key.startswith(f"{PACK}."):
        return None
    return change.key.removeprefix(f"{PACK}.").partition("@")[0]


def asked(changed: Sequence[Changed]) -> Asked:
    """The limits of the measured service the candidate's change sets, read in the units of
    the file each is written in (compose sizes are binary, Kubernetes quantities as written)."""
    found: dict[str, dict[float, Changed]] = {}
    other = False
    for change in changed:
        what = kind(change)
        if what is None or change.reaches != "resources":
            continue
        if what not in LIMITS:
            other = True
            continue
        label = LIMITS[what]
        if change.after is None:
            problem = f"removes the {label} at {change.site}: the sandbox always has one"
            return Asked(problem=problem)
        value = amount(str(change.after), change.site.path) if change.site else None
        if value is None or not math.isfinite(value) or value <= 0:
            return Asked(problem=f"cannot read the {label} {str(change.after)!r} at {change.site}")
        found.setdefault(what, {})[value] = change
    for what, values in found.items():
        if len(values) > 1:
            shown = " and ".join(f"{c.after} at {c.site}" for c in values.values())
            return Asked(problem=f"two different {LIMITS[what]}s for the measured service: {shown}")
    cpus = next(iter(found.get("cpu_limit", {})), None)
    memory = next(iter(found.get("memory_limit", {})), None)
    note = None
    if other:
        note = REQUESTS + (": measured at the config's limits" if not found else "")
    return Asked(cpus, round(memory) if memory is not None else None, None, note)
