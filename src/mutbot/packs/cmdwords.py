"""The words of a written command with their spans in the file (pure): shell text (quotes,
continuations, operators, `sh -c "..."` inside), a Dockerfile's exec-form JSON list, a YAML flow
or block list. Each word knows the span that reads exactly its text, so a value can be edited in
place."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Literal

# exec: an item of a JSON or YAML list; shell: a word of shell text; nested: a word of shell
# text inside one quoted string (`sh -c "gunicorn app:app"`), where only plain words are safe
Context = Literal["exec", "shell", "nested"]
_OPERATORS = ("&&", "||", ";", "|", "&")
_INSTRUCTION = re.compile(r"[ \t]*(?:CMD|ENTRYPOINT)[ \t]+", re.IGNORECASE)
_YAML_KEY = re.compile(r"[ \t]*(?:-[ \t]+)?(?:command|args|entrypoint)[ \t]*:[ \t]*")
_JSON_ITEM = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_BLOCK_ITEM = re.compile(r"""(?:'([^'\n]*)'|"([^"\\\n]*)"|([^\s'"#][^\n]*?))[ \t]*$""", re.M)
_YAML_ITEM = re.compile(r"""'([^'\n]*)'|"([^"\\\n]*)"|([^,\]\s'"][^,\]\n]*?)(?=\s*[,\]])""")


@dataclass(frozen=True)
class Word:
    """One word of a command as the program receives it, and where it is written."""

    text: str
    start: int  # the word as written, quotes included
    end: int
    body: tuple[int, int] | None  # the span that reads exactly `text`; None: escapes in it
    context: Context


def commands(path: str, text: str, start: int) -> list[list[Word]]:
    """The simple commands written from `start` (a line's start), with every quoted shell
    string in them read as commands too (`sh -c "..."`)."""
    name = posixpath.basename(path)
    found: list[list[Word]]
    if instruction := _INSTRUCTION.match(text, start):
        found = _after_key(text, instruction.end(), json_only=True)
    elif name.endswith((".yml", ".yaml")) and (key := _YAML_KEY.match(text, start)):
        found = _after_key(text, key.end(), json_only=False)
    else:
        found = shell(text, start, len(text), "shell")
    nested = [
        inner
        for words in found
        for w in words
        if w.body is not None and " " in w.text and w.body != (w.start, w.end)
        for inner in shell(text, *w.body, "nested")
    ]
    return found + nested


def _after_key(text: str, at: int, json_only: bool) -> list[list[Word]]:
    if text.startswith("[", at):
        items = _list_items(text, at + 1, json_only)
        return [items] if items is not None else []
    if not json_only and text[at : at + 1] in ("\n", "\r", ""):
        return [_block_items(text, at)]
    if not json_only and text[at : at + 1] in ('"', "'"):
        scalar = word_at(text, at, len(text), "shell")  # a quoted YAML string: shell inside
        return shell(text, *scalar.body, "nested") if scalar.body else []
    return shell(text, at, len(text), "shell")


def _list_items(text: str, at: int, json_only: bool) -> list[Word] | None:
    items: list[Word] = []
    pattern = _JSON_ITEM if json_only else _YAML_ITEM
    while at < len(text):
        while at < len(text) and (text[at] in " \t,\r\n" or text.startswith("\\\n", at)):
            at += 2 if text[at] == "\\" else 1
        if text.startswith("]", at):
            return items
        found = pattern.match(text, at)
        if found is None:
            return None
        items.append(_item(found, json_only))
        at = found.end()
    return None


def _item(found: re.Match[str], json_only: bool) -> Word:
    if json_only:
        raw = found[1]
        body = found.span(1) if "\\" not in raw else None
        try:
            text = json.loads(f'"{raw}"')
        except ValueError:  # an escape JSON refuses: read as written, never edited
            text, body = raw, None
        return Word(text, *found.span(), body, "exec")
    group = next(g for g in (1, 2, 3) if found[g] is not None)
    return Word(found[group], *found.span(), found.span(group), "exec")


def _block_items(text: str, at: int) -> list[Word]:
    """A YAML block list under the key: `- item` lines indented deeper than the key."""
    key_start = text.rfind("\n", 0, at) + 1
    indent = len(text[key_start:at]) - len(text[key_start:at].lstrip(" -"))
    items: list[Word] = []
    for row in re.finditer(r"\n([ \t]*)-[ \t]+(.*)", text[at:]):
        if len(row[1]) < indent or (items and row.start() != items[-1].end - at):
            break
        begin = at + row.start(2)
        found = _BLOCK_ITEM.match(text, begin)
        if found is None or found.end() != at + row.end():
            break
        items.append(_item(found, json_only=False))
    return items


def shell(text: str, start: int, end: int, context: Context) -> list[list[Word]]:
    """Shell words from `start` up to the end of the logical line (or `end`), split into
    simple commands at the operators."""
    commands: list[list[Word]] = [[]]
    i = start
    while i < end:
        ch = text[i]
        if text.startswith("\\\n", i):
            i += 2
        elif ch in " \t\r":
            i += 1
        elif ch == "\n" or (ch == "#" and context == "shell"):
            if context == "shell":
                break
            commands.append([])
            i += 1
        elif op := next((o for o in _OPERATORS if text.startswith(o, i)), None):
            commands.append([])
            i += len(op)
        else:
            word = word_at(text, i, end, context)
            commands[-1].append(word)
            i = word.end
    return [c for c in commands if c]


def word_at(text: str, start: int, end: int, context: Context) -> Word:
    out: list[str] = []
    quotes: list[str] = []
    escaped = False
    i = start
    while i < end and text[i] not in " \t\r\n;&|":
        ch = text[i]
        if ch == "\\" and i + 1 < end:
            out.append(text[i + 1])
            escaped, i = True, i + 2
        elif ch in "'\"":
            close = text.find(ch, i + 1, end)
            close = end if close < 0 else close
            inner = text[i + 1 : close]
            escaped = escaped or (ch == '"' and "\\" in inner)
            out.append(inner)
            quotes.append(ch)
            i = close + 1
        else:
            out.append(ch)
            i += 1
    i = min(i, end)
    word = "".join(out)
    if escaped or len(quotes) > 1:
        body = None
    elif quotes:
        whole = text[start:i]
        body = (start + 1, i - 1) if whole[0] in "'\"" and whole[-1] == whole[0] else None
    else:
        body = (start, i)
    return Word(word, start, i, body, context)


def loose(text: str) -> Word:
    return Word(text, 0, 0, None, "shell")


def line_start(text: str, line: int) -> int | None:
    at = 0
    for _ in range(line - 1):
        at = text.find("\n", at) + 1
        if at == 0:
            return None
    return at
