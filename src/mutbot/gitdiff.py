"""A strict reader of git diffs (pure): which files a diff names, with which modes, and how many
lines it changes.

Only the plain form `git diff` writes is accepted: every file starts with `diff --git a/X b/Y`;
`---`/`+++` name `a/X`, `b/Y` or `/dev/null`, consistent with the header and with any
`rename`/`copy` lines; hunks hold exactly the lines their `@@` counts say. Anything else
(traditional diffs, text between files, unknown header lines) is an error, because `git apply`
reads such input in ways a lenient parser does not (it strips any first path component and
follows `rename from` over the header). Names may be C-quoted; they are decoded as git does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEADER = 8192
_MODE = r"([0-7]{6})"
_HEADER_LINES: dict[str, re.Pattern[str]] = {
    "old mode": re.compile(rf"old mode {_MODE}"),
    "new mode": re.compile(rf"new mode {_MODE}"),
    "deleted file mode": re.compile(rf"deleted file mode {_MODE}"),
    "new file mode": re.compile(rf"new file mode {_MODE}"),
    "similarity index": re.compile(r"similarity index (\d{1,3})%"),
    "dissimilarity index": re.compile(r"dissimilarity index (\d{1,3})%"),
    "rename from": re.compile(r"rename from (.+)"),
    "rename to": re.compile(r"rename to (.+)"),
    "copy from": re.compile(r"copy from (.+)"),
    "copy to": re.compile(r"copy to (.+)"),
    "index": re.compile(rf"index [0-9a-f]{{4,64}}\.\.[0-9a-f]{{4,64}}(?: {_MODE})?"),
}
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@.*")
_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


class DiffError(ValueError):
    """The diff is not in the plain form; the message names the line."""


@dataclass(frozen=True)
class FileDiff:
    old: str | None  # the path read (None: the file is created)
    new: str | None  # the path written (None: the file is deleted)
    modes: tuple[str, ...]  # every mode the header states
    copy: bool  # `copy from/to`: old stays, new is created
    binary: bool
    added: int
    removed: int
    hunks: int

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p in (self.old, self.new) if p is not None))


def unquote(text: str) -> str:
    """A C-quoted name ("a/\\303\\251.ini") decoded as git's unquote_c_style does."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a quoted name: {text!r}")
    out, i, body = bytearray(), 0, text[1:-1]
    while i < len(body):
        char = body[i]
        if char == '"':
            raise ValueError(f"a bare quote inside {text!r}")
        if char != "\\":
            out += char.encode()
            i += 1
            continue
        escape = body[i + 1 : i + 2]
        if escape in _ESCAPES:
            out.append(_ESCAPES[escape])
            i += 2
        elif re.fullmatch(r"[0-3][0-7]{2}", body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        else:
            raise ValueError(f"an escape git does not know in {text!r}")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{text!r} is not UTF-8") from exc


def _name(text: str) -> str:
    return unquote(text) if text.startswith('"') else text


def _side(text: str, prefix: str) -> str | None:
    """`a/X` → X; anything else (another prefix, a bad quote) → None."""
    try:
        name = _name(text)
    except ValueError:
        return None
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None


def header_names(rest: str) -> list[tuple[str, str]]:
    """Every way to read `a/X b/Y` (each side quoted or not) out of a `diff --git` header."""
    found = []
    for at in (i for i, c in enumerate(rest) if c == " "):
        old, new = _side(rest[:at], "a/"), _side(rest[at + 1 :], "b/")
        if old is not None and new is not None:
            found.append((old, new))
    return found


class _Reader:
    def __init__(self, diff: str) -> None:
        self.lines = diff.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.at = 0

    def peek(self) -> str | None:
        return self.lines[self.at] if self.at < len(self.lines) else None

    def take(self) -> str:
        line = self.lines[self.at]
        self.at += 1
        return line

    def error(self, message: str, offset: int = 0, at: int | None = None) -> DiffError:
        return DiffError(f"line {(self.at if at is None else at) + offset}: {message}")


def parse(diff: str) -> list[FileDiff]:
    """The files of a git diff, in order; DiffError for anything not in the plain form."""
    reader = _Reader(diff)
    if not any(line.startswith("diff --git ") for line in reader.lines):
        if any(line.startswith(("--- ", "+++ ")) for line in reader.lines):
            raise DiffError("no `diff --git` header (expected a diff as `git diff` writes it)")
        raise DiffError("the diff names no file (expected a git-style unified diff)")
    files = []
    while (line := reader.peek()) is not None:
        if line.startswith("diff --git "):
            files.append(_file(reader))
        elif line.strip():
            raise reader.error(f"expected `diff --git a/… b/…`, got {_excerpt(line)}", 1)
        else:
            reader.take()
    return files


def _file(reader: _Reader) -> FileDiff:
    header = reader.take()
    if len(header) > MAX_HEADER:  # reading the names is quadratic in the header's length
        raise reader.error(f"a `diff --git` line longer than {MAX_HEADER} characters")
    seen: dict[str, re.Match[str]] = {}
    while (line := reader.peek()) is not None:
        key = next((k for k in _HEADER_LINES if line.startswith(k + " ")), None)
        if key is None:
            break
        match = _HEADER_LINES[key].fullmatch(line)
        if match is None:
            raise reader.error(f"malformed header line {_excerpt(line)}", 1)
        if key in seen:
            raise reader.error(f"a second `{key}` line", 1)
        reader.take()
        seen[key] = match
    old, new, copy = _names(reader, header, seen, reader.at - len(seen))
    modes = tuple(
        match.group(1)
        for key, match in seen.items()
        if ("mode" in key or key == "index") and match.group(1) is not None
    )
    shown = new or old or ""
    line = reader.peek()
    if line is not None and (line == "GIT binary patch" or line.startswith("Binary files ")):
        while (line := reader.peek()) is not None and not line.startswith("diff --git "):
            reader.take()
        return FileDiff(old, new, modes, copy, True, 0, 0, 0)
    if line is None or not line.startswith("--- "):
        return FileDiff(old, new, modes, copy, False, 0, 0, 0)
    _expect_name(reader, "--- ", "a/", old)
    _expect_name(reader, "+++ ", "b/", new)
    added = removed = hunks = 0
    while (line := reader.peek()) is not None and line.startswith("@@"):
        plus, minus = _hunk(reader)
        added, removed, hunks = added + plus, removed + minus, hunks + 1
    if not hunks:
        raise reader.error(f"no hunk after the `---`/`+++` lines of {shown}", 1)
    return FileDiff(old, new, modes, copy, False, added, removed, hunks)


def _names(
    reader: _Reader, header: str, seen: dict[str, re.Match[str]], line: int
) -> tuple[str | None, str | None, bool]:
    """(old, new, copy) from the header, checked against rename/copy and new/deleted lines;
    errors name the header's line."""
    readings = header_names(header.removeprefix("diff --git "))
    if not readings:
        raise reader.error(f"the header does not name a/… b/…: {_excerpt(header)}", at=line)
    moved = [k for k in ("rename", "copy") if f"{k} from" in seen or f"{k} to" in seen]
    if moved:
        if len(moved) > 1 or f"{moved[0]} from" not in seen or f"{moved[0]} to" not in seen:
            raise reader.error("a rename or copy needs one `from` and one `to` line", at=line)
        try:
            old = _name(seen[f"{moved[0]} from"].group(1))
            new = _name(seen[f"{moved[0]} to"].group(1))
        except ValueError as exc:
            raise reader.error(str(exc), at=line) from exc
        if (old, new) not in readings:
            raise reader.error(
                f"`{moved[0]} from {old}` / `{moved[0]} to {new}` disagree with the header "
                f"{_excerpt(header)}",
                at=line,
            )
        if "new file mode" in seen or "deleted file mode" in seen:
            raise reader.error(f"a {moved[0]} that also creates or deletes a file", at=line)
        return old, new, moved[0] == "copy"
    same = {old for old, new in readings if old == new}
    if len(same) != 1:
        raise reader.error(f"the header names two different files: {_excerpt(header)}", at=line)
    name = same.pop()
    if "new file mode" in seen and "deleted file mode" in seen:
        raise reader.error(f"{name} is both created and deleted", at=line)
    if "new file mode" in seen:
        return None, name, False
    if "deleted file mode" in seen:
        return name, None, False
    return name, name, False


def _expect_name(reader: _Reader, marker: str, prefix: str, name: str | None) -> None:
    line = reader.peek()
    if line is None or not line.startswith(marker):
        raise reader.error(f"expected a `{marker.strip()}` line", 1)
    written = line[len(marker) :]
    written = written.split("\t", 1)[0]  # git adds a tab after names with spaces; quoted or not
    ok = written == "/dev/null" if name is None else _side(written, prefix) == name
    if not ok:
        want = "/dev/null" if name is None else f"{prefix}{name}"
        raise reader.error(f"`{marker}{written}` disagrees with the header (expected {want})", 1)
    reader.take()


def _hunk(reader: _Reader) -> tuple[int, int]:
    match = _HUNK.fullmatch(reader.peek() or "")
    if match is None:
        raise reader.error(f"malformed hunk header {_excerpt(reader.peek() or '')}", 1)
    reader.take()
    old_left = int(match.group(2) or "1")
    new_left = int(match.group(4) or "1")
    added = removed = 0
    while old_left > 0 or new_left > 0:
        line = reader.peek()
        if line is None:
            raise reader.error("the diff ends inside a hunk (its @@ counts are too large)")
        kind = line[:1]
        if kind in (" ", ""):  # git also takes an empty line as an empty context line
            old_left, new_left = old_left - 1, new_left - 1
        elif kind == "-":
            old_left, removed = old_left - 1, removed + 1
        elif kind == "+":
            new_left, added = new_left - 1, added + 1
        elif kind != "\\":
            raise reader.error(f"unexpected line in a hunk: {_excerpt(line)}", 1)
        if old_left < 0 or new_left < 0:
            raise reader.error("a hunk holds more lines than its @@ counts say", 1)
        reader.take()
    if (line := reader.peek()) is not None and line.startswith("\\"):
        reader.take()  # "\ No newline at end of file" after the last line
    return added, removed


def _excerpt(line: str, limit: int = 80) -> str:
    return repr(line if len(line) <= limit else line[: limit - 1] + "…")
