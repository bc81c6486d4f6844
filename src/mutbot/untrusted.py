"""Files and payloads mutbot does not control, read with bounded work (pure but for `read`).

JSON goes through pydantic_core's parser rather than `json.loads`: it is not recursive (it
stops at 200 levels of nesting where `json.loads` dies of RecursionError), refuses NaN and
Infinity (results.json may keep NaN), and reports a 5,000-digit number as a parse error instead
of a stray ValueError. A number too large for a double (1e400, or an integer of 400 digits) is
refused as well, so that later arithmetic never overflows.

YAML is PyYAML's safe loader without anchors and aliases (a 501-byte file of nested aliases
expands to hundreds of megabytes) and with a nesting limit (its composer recurses); a value it
cannot construct (a 5,000-digit integer, the date 2024-13-45) is a YAML error with its place,
not a stray ValueError.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic_core import from_json
from yaml.nodes import Node

MAX_YAML_DEPTH = 32  # .mutbot.yml needs four levels
_BIGGEST = sys.float_info.max
_WHERE = re.compile(r"(.*) at line (\d+) column (\d+)")


class JsonError(ValueError):
    """Not usable JSON; the message is one line ("not valid JSON at line 3, column 12: ...")."""


def loads(data: str | bytes, *, allow_nan: bool = False) -> Any:
    """The JSON value of `data`, or JsonError. `allow_nan`: NaN stands for a figure that could
    not be measured (results.json); Infinity and numbers beyond a double are refused still."""
    if isinstance(data, str):  # lone surrogates become bytes that are not UTF-8: an error
        data = data.encode("utf-8", "surrogatepass")
    try:
        value = from_json(data, allow_inf_nan=allow_nan)
    except ValueError as exc:
        raise JsonError(_one_line(str(exc))) from None
    if not _finite(value):
        raise JsonError("a number beyond ±1.8e308, which no double holds")
    return value


class YamlRefused(yaml.MarkedYAMLError):
    """Valid YAML that mutbot does not read (anchors, aliases, deep nesting, odd values)."""


def load_yaml(text: str) -> Any:
    """The YAML document in `text`; yaml.YAMLError (YamlRefused among them) when it is not."""
    return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader


class _Loader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise YamlRefused(
                problem="anchors and aliases (&name, *name) are not supported; write the value out",
                problem_mark=event.start_mark,
            )
        if self.depth >= MAX_YAML_DEPTH:
            raise YamlRefused(
                problem=f"nested deeper than {MAX_YAML_DEPTH} levels",
                problem_mark=event.start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            why = str(exc).split(";")[0][:120]
            raise YamlRefused(
                problem=f"cannot read this value: {why}", problem_mark=node.start_mark
            ) from None


def read(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a file; ValueError when it holds more (a FIFO or a device
    would otherwise be read forever). OSError as `open` raises it."""
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {_size(limit)}")
    return data


def _one_line(message: str) -> str:
    """From "expected value at line 3 column 12" to "not valid JSON at line 3, column 12:
    expected value"."""
    found = _WHERE.fullmatch(message.strip())
    if found is None:
        return "not valid JSON: " + (message.strip().splitlines() or ["?"])[0]
    return f"not valid JSON at line {found[2]}, column {found[3]}: {found[1]}"


def _finite(value: Any) -> bool:
    # iterative: the parser allows 200 levels, and a wide document should not cost recursion
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, float):
            if math.isinf(item):
                return False
        elif isinstance(item, int):
            if abs(item) > _BIGGEST:
                return False
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return True


def _size(limit: int) -> str:
    for unit, factor in (("MiB", 1024**2), ("KiB", 1024)):
        if limit >= factor:
            return f"{limit / factor:g} {unit}"
    return f"{limit} bytes"
