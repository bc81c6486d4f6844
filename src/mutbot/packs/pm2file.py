"""pm2 ecosystem files (pure): `module.exports = { apps: [{...}] }` in JavaScript, or the same
in JSON (an `apps` list, or a bare list of apps). Reads each app's properties with the span of
every value, and writes a changed or added property in the file's own style: its key quoting,
its string quotes, its indentation, trailing commas kept as they are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mutbot.packs.model import Edit, Value

Kind = Literal["str", "num", "bool", "obj", "arr", "expr"]
_APPS = re.compile(r"""(?:["']apps["']|\bapps)\s*:\s*\[""")
_KEY = re.compile(r"[\w$]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_CLOSE = {"{": "}", "[": "]", "(": ")"}


@dataclass(frozen=True)
class Prop:
    key: str | None  # None: a spread (`...base`)
    key_start: int
    start: int  # the value as written (quotes included)
    end: int
    text: str
    kind: Kind
    comma: int | None  # just after its trailing comma

    @property
    def literal(self) -> str:
        """A string's content (escapes aside), else the text as written."""
        return self.text[1:-1] if self.kind == "str" else self.text


@dataclass(frozen=True)
class Obj:
    path: str
    text: str
    opened: int  # just after its `{`
    closed: int  # at its `}`
    props: tuple[Prop, ...]

    def get(self, key: str) -> Prop | None:
        return next((p for p in reversed(self.props) if p.key == key), None)

    def inner(self, key: str) -> Obj | None:
        found = self.get(key)
        return _object(self.path, self.text, found.start) if found and found.kind == "obj" else None

    def line(self, at: int) -> int:
        return self.text.count("\n", 0, at) + 1

    def change(self, prop: Prop, value: Value) -> Edit:
        return Edit(self.path, prop.start, prop.end, self.render(value, prop))

    def add(self, key: str, value: Value, after: Prop | None = None) -> tuple[Edit, ...]:
        """`key: value` after the property `after` (the last one when None); before the first
        property when the object holds only spreads it cannot read past."""
        anchor = after or (self.props[-1] if self.props else None)
        item = f"{self._key(key)}: {self.render(value)}"
        text = self.text
        if anchor is None:
            return (Edit(self.path, self.opened, self.opened, f" {item} "),)
        eol = text.find("\n", anchor.comma or anchor.end)
        rest = text[anchor.comma or anchor.end : eol if eol >= 0 else len(text)].strip()
        own_line = text.rfind("\n", 0, anchor.key_start) > text.rfind("\n", 0, self.opened)
        if not own_line or eol < 0 or (rest and not rest.startswith("//")):
            at = anchor.comma or anchor.end
            return (Edit(self.path, at, at, f" {item}," if anchor.comma else f", {item}"),)
        indent = text[text.rfind("\n", 0, anchor.key_start) + 1 : anchor.key_start]
        trailing = "," if anchor.comma or anchor is not self.props[-1] else ""
        if anchor.comma is None:
            comma = Edit(self.path, anchor.end, anchor.end, ",")
            line = Edit(self.path, eol, eol, f"\n{indent}{item}{trailing}")
            if eol == anchor.end:
                return (Edit(self.path, eol, eol, f",\n{indent}{item}{trailing}"),)
            return comma, line
        return (Edit(self.path, eol, eol, f"\n{indent}{item}{trailing}"),)

    def add_line(self, key: str, after: Prop | None = None) -> int:
        """The line an added `key` lands on."""
        anchor = after or (self.props[-1] if self.props else None)
        if anchor is None:
            return self.line(self.opened)
        own_line = self.text.rfind("\n", 0, anchor.key_start) > self.text.rfind(
            "\n", 0, self.opened
        )
        return self.line(anchor.end) + (1 if own_line else 0)

    def render(self, value: Value, like: Prop | None = None) -> str:
        """A JavaScript (or JSON) literal for `value`, in the quotes the file uses."""
        if isinstance(value, bool):
            return "true" if value else "false"
        quoted_number = like is not None and like.kind == "str" and _NUMBER.fullmatch(like.literal)
        if isinstance(value, int | float) or (
            isinstance(value, str) and _NUMBER.fullmatch(value) and not quoted_number
        ):
            return str(value)
        quote = like.text[0] if like and like.kind == "str" else self._quote()
        body = str(value).replace("\\", "\\\\").replace(quote, "\\" + quote)
        return f"{quote}{body}{quote}"

    def _quote(self) -> str:
        if self.path.endswith(".json"):
            return '"'
        strings = [p.text[0] for p in self.props if p.kind == "str"]
        return strings[0] if strings else "'"

    def _key(self, key: str) -> str:
        first = next((self.text[p.key_start] for p in self.props if p.key), "")
        quote = '"' if self.path.endswith(".json") else first if first in "\"'" else ""
        return f"{quote}{key}{quote}"


def apps(path: str, text: str) -> list[Obj]:
    """Every app object the file declares, in order."""
    found = _APPS.search(text)
    at = found.end() if found else None
    if at is None and path.endswith(".json") and text.lstrip().startswith("["):
        at = text.index("[") + 1
    out: list[Obj] = []
    while at is not None and at < len(text):
        at = _skip(text, at)
        if at >= len(text) or text[at] == "]":
            break
        if text[at] == "{":
            obj = _object(path, text, at)
            if obj is None:
                break
            out.append(obj)
            at = obj.closed + 1
        else:
            at = _value_end(text, at)
        at = _skip(text, at)
        at = at + 1 if at < len(text) and text[at] == "," else None
    return out


def _object(path: str, text: str, at: int) -> Obj | None:
    props: list[Prop] = []
    i = at + 1
    while True:
        i = _skip(text, i)
        if i >= len(text):
            return None
        if text[i] == "}":
            return Obj(path, text, at + 1, i, tuple(props))
        key_start = i
        if text.startswith("...", i):
            key, start = None, i + 3
        else:
            if text[i] in "\"'":
                end = _string_end(text, i)
                key = text[i + 1 : end - 1]
            elif found := _KEY.match(text, i):
                key, end = found[0], found.end()
            else:
                return None
            i = _skip(text, end)
            if i >= len(text) or text[i] != ":":
                return None  # a shorthand or a method: not an ecosystem file worth editing
            start = _skip(text, i + 1)
        end = _value_end(text, start)
        i = _skip(text, end)
        comma = i + 1 if i < len(text) and text[i] == "," else None
        props.append(
            Prop(key, key_start, start, end, text[start:end], _kind(text[start:end]), comma)
        )
        i = comma if comma is not None else i


def _kind(value: str) -> Kind:
    if not value:
        return "expr"
    if value[0] in "\"'" and _string_end(value, 0) == len(value):
        return "str"
    if _NUMBER.fullmatch(value):
        return "num"
    if value in ("true", "false"):
        return "bool"
    if value[0] in "{[" and _value_end(value, 0) == len(value):
        return "obj" if value[0] == "{" else "arr"
    return "expr"


def _skip(text: str, i: int) -> int:
    """Past whitespace and comments."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            break
    return i


def _string_end(text: str, i: int) -> int:
    quote, j = text[i], i + 1
    while j < len(text) and text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    return min(j + 1, len(text))


def _value_end(text: str, i: int) -> int:
    """Where the value starting at `i` ends: before the `,` or the closing bracket at its own
    depth, trailing whitespace and comments left out."""
    depth: list[str] = []
    end = i
    while i < len(text):
        ch = text[i]
        if ch in "\"'`":
            i = end = _string_end(text, i)
            continue
        if text.startswith(("//", "/*"), i):
            i = _skip(text, i)
            continue
        if ch in _CLOSE:
            depth.append(_CLOSE[ch])
        elif depth and ch == depth[-1]:
            depth.pop()
        elif not depth and ch in ",}])":
            break
        i += 1
        if not ch.isspace():
            end = i
    return end
