"""A server's command line where it is written (pure): a Dockerfile CMD/ENTRYPOINT in exec form
(`["gunicorn", "app:app"]`) or shell form, a line of a shell script (continuations followed), a
compose `command:` string or list, a Kubernetes `args`/`command` list. Reads the options as
written, each with the span of its value, and edits them in place or adds a missing one right
after the program word in the line's own style."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from mutbot.discover.process import Launch
from mutbot.packs import cmdwords
from mutbot.packs.cmdwords import Word
from mutbot.packs.model import Edit, Value
from mutbot.packs.view import View

_PLAIN = re.compile(r"[\w.:/@%+,=-]+")


@dataclass(frozen=True)
class Flag:
    """One option of the server's command line as written."""

    name: str  # "--workers", "-w"
    value: str | None  # the value as the program receives it; None: a switch
    path: str | None  # None: the command is not written in a repository file
    line: int | None
    span: tuple[int, int] | None  # of the value in the file; None: not editable in place
    words: tuple[Word, ...] = ()  # the words it takes, for removal


@dataclass(frozen=True)
class Command:
    """The server's words in one file: the program word first."""

    path: str
    words: tuple[Word, ...]
    separator: str  # between exec-form items: ", " or a newline and indentation


def command(view: View, launch: Launch) -> Command | None:
    """The command that starts the server, found in the file and line the launch names."""
    for path, line in _places(view, launch):
        text = view.repo.read(path)
        if text is None or line is None:
            continue
        start = cmdwords.line_start(text, line)
        if start is None:
            continue
        found = _find(cmdwords.commands(path, text, start), launch)
        if found is not None:
            return Command(path, tuple(found), _separator(text, found))
    return None


def flags(view: View, launch: Launch, switches: Collection[str] = ()) -> list[Flag]:
    """Every option after the program word, as written: `--name value`, `--name=value`, `-n v`.
    `switches` names the options that take no value (`--reload`); a single-dash word longer
    than two letters (`-w4`) is read as one name: ask `flag()` with the names to split it.
    A command not written in a repository file (the sandbox config's) reads from the launch."""
    found = command(view, launch)
    words = list(found.words[1:]) if found else [cmdwords.loose(w) for w in launch.argv[1:]]
    path = found.path if found else None
    return _options(words, path, (view.repo.read(path) or "") if path else "", switches)


def flag(view: View, launch: Launch, names: Sequence[str]) -> Flag | None:
    """The named option in effect (the last written), reading `--workers 2`, `--workers=2`,
    `-w 2`, `-w2` and `-w=2`."""
    found = command(view, launch)
    path = found.path if found else None
    return _pick(flags(view, launch), names, (view.repo.read(path) or "") if path else "")


def read_args(text: str, switches: Collection[str] = ()) -> list[Flag]:
    """The options of a command-line string held elsewhere (`GUNICORN_CMD_ARGS`); spans and
    lines count in `text`, and `path` is None."""
    words = [w for command in cmdwords.shell(text, 0, len(text), "nested") for w in command]
    return _options(words, None, text, switches)


def args_flag(text: str, names: Sequence[str]) -> Flag | None:
    """The named option in effect in a command-line string (as `flag()` reads a command)."""
    return _pick(read_args(text), names, text)


def set_in_args(text: str, names: Sequence[str], value: Value) -> str | None:
    """`text` (a command-line string) with the first of `names` set to `value`: in place
    where written, else added at the end. None when it cannot be written safely."""
    if value is None or not names:
        return None
    wanted = _text(value)
    written = _pick(read_args(text), names, text)
    if written is None:
        return f"{text.rstrip()} {names[0]} {wanted}".lstrip() if _PLAIN.fullmatch(wanted) else None
    if written.span is None or not written.words or written.value is None:
        return None
    rendered = _render(wanted, written.words[-1], written.span)
    if rendered is None:
        return None
    return text[: written.span[0]] + rendered + text[written.span[1] :]


def set_flag(
    view: View, launch: Launch, names: Sequence[str], value: Value
) -> tuple[Edit, ...] | None:
    """Edits that give the first of `names` the value `value`: in place where written, else
    added right after the program word (`names` first is the form added: `--workers`). None
    when the command is not in a file a candidate may change, or cannot be edited safely."""
    found = command(view, launch)
    if found is None or not view.editable(found.path) or value is None or not names:
        return None
    text = _text(value)
    written = flag(view, launch, names)
    if written is not None:
        if written.span is None or not written.words or written.value is None:
            return None
        rendered = _render(text, written.words[-1], written.span)
        if rendered is None:
            return None
        return (Edit(found.path, *written.span, rendered),)
    return _insert(found, names[0], text)


def set_switch(view: View, launch: Launch, name: str) -> tuple[Edit, ...] | None:
    """Edits that add the switch `name` (`--preload`) right after the program word; None when
    it is written already or the command cannot be edited."""
    found = command(view, launch)
    if found is None or not view.editable(found.path):
        return None
    if any(w.text == name for w in found.words[1:]):
        return None
    return _insert(found, name, None)


def _insert(found: Command, name: str, text: str | None) -> tuple[Edit, ...] | None:
    program = found.words[0]
    if program.context == "exec":
        items = [json.dumps(name)] + ([json.dumps(text)] if text is not None else [])
        added = "".join(found.separator + item for item in items)
    elif text is None:
        added = f" {name}"
    elif _PLAIN.fullmatch(text):
        added = f" {name} {text}"
    elif program.context == "shell":
        added = f" {name} {shlex.quote(text)}"
    else:
        return None
    return (Edit(found.path, program.end, program.end, added),)


def drop_flag(
    view: View, launch: Launch, names: Collection[str], switch: bool = True
) -> tuple[Edit, ...] | None:
    """Edits that remove every named option (a switch, or with its value when `switch` is
    False) and the space or list separator before it; None when one cannot be removed."""
    found = command(view, launch)
    if found is None or not view.editable(found.path):
        return None
    text = view.repo.read(found.path) or ""
    edits = []
    for i, word in enumerate(found.words[1:], 1):
        if word.text.split("=", 1)[0] not in names:
            continue
        last = word
        if not switch and "=" not in word.text and i + 1 < len(found.words):
            last = found.words[i + 1]
        before = found.words[i - 1]
        gap = text[before.end : word.start]
        if (word.context == "exec" and "\n" not in gap) or (
            word.context != "exec" and gap.strip(" \t") == ""
        ):
            edits.append(Edit(found.path, before.end, last.end, ""))
        else:
            return None
    return tuple(edits) or None


def _options(
    words: list[Word], path: str | None, text: str, switches: Collection[str]
) -> list[Flag]:
    out: list[Flag] = []
    i = 0
    while i < len(words):
        word = words[i]
        if not word.text.startswith("-") or word.text in ("-", "--"):
            i += 1
            continue
        name, equals, value = word.text.partition("=")
        if equals and len(name) >= 2:
            out.append(_flag(name, value, word, len(name) + 1, path, text, (word,)))
        elif word.text in switches or i + 1 >= len(words) or _is_option(words[i + 1].text):
            out.append(Flag(word.text, None, path, _line(text, word), None, (word,)))
        else:
            nxt = words[i + 1]
            out.append(_flag(word.text, nxt.text, nxt, 0, path, text, (word, nxt)))
            i += 1
        i += 1
    return out


def _pick(every: list[Flag], names: Sequence[str], text: str) -> Flag | None:
    found = [f for f in every if f.name in names]
    short = [n for n in names if len(n) == 2 and n[0] == "-" and n[1] != "-"]
    for f in every:
        glued = next((n for n in short if f.name.startswith(n) and f.name != n), None)
        if glued is not None and f.words:
            word = f.words[0]
            cut = len(glued) + (1 if word.text[len(glued)] == "=" else 0)
            found.append(_flag(glued, word.text[cut:], word, cut, f.path, text, (word,)))
    found.sort(key=lambda f: f.words[0].start if f.words else 0)
    return found[-1] if found else None


def _places(view: View, launch: Launch) -> list[tuple[str, int | None]]:
    places = [(launch.source.path, launch.source.line)]
    image = view.image
    if image is not None:
        for written in (image.entrypoint, image.cmd):
            if written is not None and written.source.path == launch.source.path:
                places.append((written.source.path, written.source.line))
    return list(dict.fromkeys(places))


def _find(commands: Iterable[list[Word]], launch: Launch) -> list[Word] | None:
    """The words from the program word on of the command that matches the launch best: the
    program's name followed by the launch's words (a prefix: continuations may add more)."""
    program = posixpath.basename(launch.program)
    rest = list(launch.argv[1:])
    loose: list[Word] | None = None
    for words in commands:
        for i, word in enumerate(words):
            if posixpath.basename(word.text) != program:
                continue
            after = [w.text for w in words[i + 1 : i + 1 + len(rest)]]
            if after == rest:
                return words[i:]
            loose = loose or words[i:]
    return loose


def _flag(
    name: str, value: str, word: Word, cut: int, path: str | None, text: str,
    words: tuple[Word, ...],
) -> Flag:  # fmt: skip
    span = (word.body[0] + cut, word.body[1]) if word.body is not None else None
    return Flag(name, value, path, _line(text, word), span, words)


def _line(text: str, word: Word) -> int | None:
    return text.count("\n", 0, word.start) + 1 if text else None


def _is_option(text: str) -> bool:
    return text.startswith("-") and text != "-" and not re.fullmatch(r"-\d+(\.\d+)?", text)


def _render(value: str, word: Word, span: tuple[int, int]) -> str | None:
    """`value` written into `span` of `word` so the program receives exactly it."""
    if _PLAIN.fullmatch(value):
        return value
    if word.context != "shell" or word.body != (word.start, word.end) or span[0] != word.start:
        return None  # inside quotes or a list item: only plain words are safe
    return shlex.quote(value)


def _separator(text: str, words: list[Word]) -> str:
    """What stands between two items of the list: `, `, `,\n    `, or `\n  - ` in a block."""
    if len(words) > 1 and words[0].context == "exec" == words[1].context:
        gap = text[words[0].end : words[1].start]
        if gap.strip() in (",", "-"):
            return gap
    before = text[text.rfind("\n", 0, words[0].start) + 1 : words[0].start]
    return "\n" + before if re.fullmatch(r"[ \t]*-[ \t]+", before) else ", "


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
