"""The packs' edits to a repository's files as one diff (pure): applied together, to target
files only, and checked by the packs' guard. The search proposer and the closed-loop search
both write candidates this way."""

from __future__ import annotations

from collections.abc import Mapping

from mutbot.edits import diff_files
from mutbot.packs.guard import check
from mutbot.packs.model import Edit, EditConflict, apply_edits
from mutbot.packs.view import View


class Unwritable(ValueError):
    """The edits cannot become a diff; the message says why in one line."""


def written(files: Mapping[str, str], edits: tuple[Edit, ...], view: View | None) -> str:
    """The diff the edits make ("" when they change nothing), or Unwritable."""
    missing = sorted({e.path for e in edits} - files.keys())
    if missing:
        raise Unwritable(f"not a target file: {', '.join(missing)}")
    try:
        new = apply_edits(dict(files), edits)
    except EditConflict as exc:
        raise Unwritable(f"the edits collide: {exc}") from None
    diff = diff_files({path: files[path] for path in new}, new)
    if diff and view is not None:
        guarded = check(view, {p: files[p] for p in new}, dict(new))
        if guarded.problem:
            raise Unwritable(guarded.problem)
    return diff
