"""Edits to diffs (pure): a proposer states the new text of a file, or exact search/replace
edits, and the unified diff is computed here, so every diff applies to the files it came from."""

from __future__ import annotations

import difflib


class EditError(ValueError):
    """An edit that cannot be made; the message is exact enough to send back to its author."""


def replace_once(text: str, search: str, replace: str, path: str) -> str:
    """Replace the one occurrence of `search`; none or several is an error naming which."""
    if not search:
        raise EditError(f"{path}: the search text is empty")
    count = text.count(search)
    if count == 0:
        raise EditError(f"{path}: the search text was not found: {_excerpt(search)}")
    if count > 1:
        raise EditError(
            f"{path}: the search text occurs {count} times; include more context to make it "
            f"unique: {_excerpt(search)}"
        )
    return text.replace(search, replace, 1)


def unified_diff(path: str, old: str, new: str) -> str:
    """A git-style diff of one file ('a/PATH', 'b/PATH'); empty when nothing changed."""
    if old == new:
        return ""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"a/{path}",
        f"b/{path}",
    )
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in lines:
        out.append(line)
        if not line.endswith("\n"):  # a last line without newline, as git writes it
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def diff_files(old: dict[str, str], new: dict[str, str]) -> str:
    """The diff of every file whose text changed, in path order."""
    return "".join(unified_diff(path, old[path], new[path]) for path in sorted(new))


def _excerpt(text: str, limit: int = 80) -> str:
    one = text.strip().replace("\n", "⏎")
    return repr(one if len(one) <= limit else one[: limit - 1] + "…")
