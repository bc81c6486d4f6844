"""How the Dockerfile pack's fixes are made and read back (pure): a move through a setting's
setter or an edit inside one RUN, each offered only when the changed file reads as intended,
and a whole rewrite as the one span that changed."""

from __future__ import annotations

from collections.abc import Callable

from mutbot.packs.dockerfile_read import Built, entries, read
from mutbot.packs.model import Edit, Finding, Move, Seen, Site, Value, apply_edits

PACK = "dockerfile"


def site(built: Built, line: int) -> Site:
    return Site(built.path, line, "instruction")


def finding(
    built: Built,
    category: str,
    line: int,
    why: str,
    title: str,
    moves: list[Move] | tuple[Move, ...] = (),
    name: str | None = None,
) -> Finding:
    key = f"{PACK}.{name}" if name else None
    return Finding(category, PACK, site(built, line), why, title, tuple(moves), key)


def after(built: Built, edits: tuple[Edit, ...]) -> Built | None:
    new = apply_edits({built.path: built.text}, edits)[built.path]
    target = None if built.chain[-1] == len(built.stages) - 1 else built.final.alias
    return read(built.path, new, target)


def value_after(built: Built, edits: tuple[Edit, ...], name: str) -> Value:
    """The value `name` reads once the edits are applied (None when it is gone)."""
    again = after(built, edits)
    found = {e.name: e.value for e in entries(again)} if again else {}
    return found.get(name)


def through_setter(built: Built, seen: Seen | None, value: str, rule: str) -> Move | None:
    """A move through the setting's setter, offered only when the file reads it back."""
    if seen is None or seen.setter is None:
        return None
    edits = seen.setter(value)
    if not edits or value_after(built, edits, seen.setting.name) != value:
        return None
    return Move(seen, value, rule, edits)


def inserted(
    built: Built,
    seen: Seen | None,
    changes: list[tuple[int, int, str]],
    still: Callable[[str], bool],
    rule: str,
) -> Move | None:
    """A move that edits a RUN in place; offered only when the RUN no longer shows what
    `still` looks for."""
    if seen is None or seen.setter is None or not changes:
        return None
    edits = tuple(Edit(built.path, s, e, t) for s, e, t in changes)
    value = value_after(built, edits, seen.setting.name)
    if not isinstance(value, str) or still(value):
        return None
    return Move(seen, value, rule, edits)


def changed_span(built: Built, new: str) -> Edit:
    """A whole-file rewrite as the one span that changed."""
    old = built.text
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return Edit(built.path, head, len(old) - tail, new[head : len(new) - tail])
