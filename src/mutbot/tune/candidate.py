"""A configuration of the space as a candidate (pure): the packs' edits for every changed
setting, one diff, the guard's and the diff policy's checks, a title that names the values."""

from __future__ import annotations

from collections.abc import Mapping

from mutbot.candidates import Candidate
from mutbot.edits import diff_files
from mutbot.errors import StageFailure
from mutbot.packs.guard import check
from mutbot.packs.model import Edit, EditConflict, Move, Value, apply_edits
from mutbot.packs.view import View
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


def title(moves: tuple[Move, ...]) -> str:
    parts = [f"{m.seen.setting.name} {_shown(m.seen.value)} → {_shown(m.value)}" for m in moves]
    return f"Search: {', '.join(parts)}"[:200]


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
    edits = merged(tuple(e for m in moves for e in m.edits))
    missing = sorted({e.path for e in edits} - files.keys())
    if missing:
        return f"not a target file: {', '.join(missing)}"
    try:
        new = apply_edits(dict(files), edits)
    except EditConflict as exc:
        return f"the edits collide: {exc}"
    diff = diff_files({path: files[path] for path in new}, new)
    if not diff:
        return "the edits change nothing"
    if view is not None:
        guarded = check(view, {p: files[p] for p in new}, dict(new))
        if guarded.problem:
            return guarded.problem
    try:
        check_diff(diff, rules)
    except StageFailure as exc:
        return str(exc).removeprefix("policy: ")
    kind = "incremental" if len(moves) == 1 else "radical"
    return Candidate(title=title(moves), rationale=rationale, kind=kind, diff=diff)
