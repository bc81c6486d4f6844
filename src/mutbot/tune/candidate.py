"""A configuration of the space as a candidate (pure): the packs' edits for every changed
setting, one diff, the guard's and the diff policy's checks, a title that names the values."""

from __future__ import annotations

from collections.abc import Mapping

from mutbot.candidates import Candidate
from mutbot.errors import StageFailure
from mutbot.packs.model import Edit, Move, Value
from mutbot.packs.view import View
from mutbot.packs.written import Unwritable, written
from mutbot.policy import DiffRules, check_diff
from mutbot.tune.space import Space


def merged(edits: tuple[Edit, ...]) -> tuple[Edit, ...]:
    """Two settings added at the same place (two flags after a command) make one insertion,
    in the order given; apply_edits refuses insertions that share a point."""
    out: dict[tuple[str, int, int], Edit] = {}
    for edit in edits:
        where = (edit.path, edit.start, edit.end)
        if edit.start == edit.end and where in out:
            out[where] = Edit(edit.path, edit.start, edit.end, out[where].text + edit.text)
        else:
            out.setdefault(where, edit)
    return tuple(out.values())


LONG = 24  # a value longer than this (a whole RUN line) is named by the words it changes


def title(moves: tuple[Move, ...]) -> str:
    parts = [f"{m.seen.setting.name} {_change(m.seen.value, m.value)}" for m in moves]
    return f"Search: {', '.join(parts)}"[:200]


def _change(old: Value, new: Value) -> str:
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > LONG:
        before, after = old.split(), new.split()
        added = [w for w in after if w not in before]
        dropped = [w for w in before if w not in after]
        words = [f"adds {' '.join(added)}"] if added else []
        words += [f"drops {' '.join(dropped)}"] if dropped else []
        if words:
            return " and ".join(words)
    return f"{_shown(old)} → {_shown(new)}"


def _shown(value: Value) -> str:
    return (
        "not set"
        if value is None
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def build(
    space: Space,
    params: Mapping[str, Value],
    files: Mapping[str, str],
    view: View | None,
    rules: DiffRules,
    rationale: str,
) -> Candidate | str:
    """The candidate that writes `params`, or why there is none (one line)."""
    moves = space.moves(params)
    if moves is None:
        return "a value the packs cannot write"
    if not moves:
        return "the baseline's own configuration"
    try:
        diff = written(files, merged(tuple(e for m in moves for e in m.edits)), view)
    except Unwritable as exc:
        return str(exc)
    if not diff:
        return "the edits change nothing"
    try:
        check_diff(diff, rules)
    except StageFailure as exc:
        return str(exc).removeprefix("policy: ")
    kind = "incremental" if len(moves) == 1 else "radical"
    return Candidate(title=title(moves), rationale=rationale, kind=kind, diff=diff)
