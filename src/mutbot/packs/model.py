"""What a technology pack knows and finds (pure): typed settings with their defaults and safety
class, the places a setting is written (or would be added), the edits that change it, and the
findings and moves a pack proposes. Every edit is a span of one file's text, so comments,
quoting and formatting around it stay as the user wrote them."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from mutbot.edits import EditError

Value = int | float | bool | str | None
SettingType = Literal["int", "float", "bool", "enum", "str", "size", "duration"]
# tune: a tuning setting a proposer may change; prove: may change only when the build and the
# start prove it safe (a non-root USER, a slimmer base); never: no proposer ever changes it.
Safety = Literal["tune", "prove", "never"]
# Which sandbox input a change reaches: the image's build inputs, the container's command or
# environment, the sandbox's resources; "none": nothing the measured sandbox consumes.
Reaches = Literal["build", "command", "environment", "resources", "none"]


@dataclass(frozen=True)
class Setting:
    """One setting a technology has, whether or not the repository writes it."""

    name: str  # the pack's own name for it: "workers", "worker_processes", "GOMAXPROCS"
    type: SettingType
    default: Value  # the value in effect when nothing sets it
    doc: str  # one line: what it does
    safety: Safety = "tune"
    unit: str | None = None  # "s", "MiB", "connections", ...
    low: float | None = None  # the domain of numbers, inclusive
    high: float | None = None
    choices: tuple[str, ...] = ()  # enums
    interacts: tuple[str, ...] = ()  # what it must be judged with: "threads", "cpus", ...
    default_note: str = ""  # how the default is reached, when it is not a plain value


@dataclass(frozen=True)
class Edit:
    """Replace `[start, end)` of one file's text with `text` (start == end: an insertion)."""

    path: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Site:
    """A place in a file: where a setting is written, or where it would be added."""

    path: str
    line: int  # 1-based
    form: str  # how it is written: "flag", "env", "file", "instruction", ...

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


Setter = Callable[[Value], tuple[Edit, ...]]


@dataclass(frozen=True)
class Seen:
    """One setting of one pack as the sandbox's service runs it: the value in effect, whether
    the repository writes it (else the default is in effect), where, and how to change it."""

    pack: str
    setting: Setting
    value: Value
    written: bool
    site: Site | None  # where it is written, else where it would be added; None: nowhere
    raw: str | None = None  # the text as written
    reaches: Reaches = "none"
    setter: Setter | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.pack}.{self.setting.name}"

    @property
    def shown(self) -> str:
        if self.written:
            return f"{self.setting.name} = {self.raw if self.raw is not None else self.value}"
        note = f" ({self.setting.default_note})" if self.setting.default_note else ""
        return f"{self.setting.name} not set: default {self.value!r}{note}"


@dataclass(frozen=True)
class Move:
    """A new value for one seen setting, why this value, and the edits that write it."""

    seen: Seen
    value: Value
    rule: str  # why this value: "2 × CPUs + 1 (limit 1): 3"
    edits: tuple[Edit, ...]

    @property
    def change(self) -> str:
        name, old = self.seen.setting.name, self.seen.value
        if not self.seen.written:
            return f"set {name} to {self.value!r} (default {old!r})"
        if isinstance(old, bool) or isinstance(self.value, bool):
            return f"turn {name} {'on' if self.value else 'off'}"
        if isinstance(old, int | float) and isinstance(self.value, int | float):
            verb = "raise" if self.value > old else "lower"
            return f"{verb} {name} from {old!r} to {self.value!r}"
        was = self.seen.raw if old is None and self.seen.raw else repr(old)
        return f"set {name} to {self.value!r} (was {was})"


@dataclass(frozen=True)
class Finding:
    """What a detector saw, and the fix: the moves that make one candidate (one per fix)."""

    category: str  # one of mutbot.proposers.base.CATEGORIES
    pack: str
    site: Site
    why: str  # one short sentence naming the evidence
    title: str
    fix: tuple[Move, ...] = ()  # empty: an opportunity only (listed, not proposed)
    key: str | None = None  # the setting it is about: "gunicorn.workers"


def make_move(seen: Seen, value: Value, rule: str) -> Move | None:
    """The move that sets `seen` to `value`; None where it cannot be written (no setter, a
    `never` setting, no change, or edits the file's form refuses)."""
    if seen.setter is None or value == seen.value or seen.setting.safety == "never":
        return None
    try:
        edits = seen.setter(value)
    except EditError:
        return None
    return Move(seen, value, rule, edits) if edits else None


class EditConflict(ValueError):
    """Edits that overlap, or that do not fit the text they were made for."""


def apply_edits(files: dict[str, str], edits: tuple[Edit, ...]) -> dict[str, str]:
    """The new text of every file the edits change. Edits of one file must not overlap; they
    apply from the end of the file backwards, so earlier spans stay valid."""
    out: dict[str, str] = {}
    by_path: dict[str, list[Edit]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(edit)
    for path, found in by_path.items():
        if path not in files:
            raise EditConflict(f"{path}: no such file")
        text = files[path]
        ordered = sorted(found, key=lambda e: (e.start, e.end))
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end or (after.start == before.start == after.end):
                raise EditConflict(f"{path}: two edits at {after.start}")
        for edit in reversed(ordered):
            if not 0 <= edit.start <= edit.end <= len(text):
                raise EditConflict(f"{path}: edit {edit.start}..{edit.end} outside the file")
            text = text[: edit.start] + edit.text + text[edit.end :]
        out[path] = text
    return out
