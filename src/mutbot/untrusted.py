"""Files and payloads mutbot does not control, read with bounded work (pure but for `read`).

JSON goes through pydantic_core's parser rather than `json.loads`: it is not recursive (it
stops at 200 levels of nesting where `json.loads` dies of RecursionError), refuses NaN and
Infinity (results.json may keep NaN), and reports a 5,000-digit number as a parse error instead
of a stray ValueError. A number too large for a double (1e400, or an integer of 400 digits) is
refused as well, so that later arithmetic never overflows.

YAML is PyYAML's safe loader without anchors and aliases (a 501-byte file of nested aliases
expands to hundreds of megabytes) and with a nesting limit (its composer recurses); a value it
cannot construct (a 5,000-digit integer, the date 2024-13-45) is a YAML error with its place,
not a stray ValueError. Compose files are read as Compose reads them (`load_compose_yaml`):
YAML 1.2, with anchors and aliases counted once expanded.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic_core import from_json
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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
    aliases = False  # anchors and aliases allowed (then bounded after expansion)

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if not self.aliases and (
            isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None
        ):
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


def load_compose_yaml(text: str) -> Any:
    """A YAML document as Docker Compose reads it: YAML 1.2 scalars (`no`, `on` and
    `8080:80` are text, not a boolean and a base-60 number), with anchors, aliases and `<<`
    merge keys, which real compose files use for shared settings. Aliases are bounded: the
    document, every alias expanded, may hold at most MAX_EXPANDED_NODES nodes and nest at most
    MAX_YAML_DEPTH levels; an alias to itself is refused."""
    return yaml.load(text, Loader=_ComposeLoader)


MAX_EXPANDED_NODES = 50_000  # a large compose file has a few thousand
_INT_12 = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_12 = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN)"
)


class _ComposeLoader(_Loader):
    aliases = True
    yaml_implicit_resolvers = {}  # noqa: RUF012  (filled below, replacing YAML 1.1's)

    def compose_document(self) -> Node | None:
        node: Node | None = super().compose_document()
        if node is not None:
            _Expansion().measure(node, 0)
        return node

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen = set()
        for key, _ in node.value:  # Compose refuses a key given twice; PyYAML keeps the last
            if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    raise YamlRefused(
                        problem=f"the key {key.value[:60]!r} appears twice in this mapping",
                        problem_mark=key.start_mark,
                    )
                seen.add(key.value)
        return node

    def construct_yaml_int(self, node: Node) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
        base = {"0o": 8, "0x": 16}.get(text[:2], 10)
        return int(text[2:] if base != 10 else text, base)


# YAML 1.2's core schema, as Compose's parser reads it (PyYAML reads YAML 1.1)
for _tag, _pattern, _first in (
    ("bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    ("null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    ("int", re.compile(rf"^(?:{_INT_12.pattern})$"), "-+0123456789"),
    ("float", re.compile(rf"^(?:{_FLOAT_12.pattern})$"), "-+.0123456789"),
    ("merge", re.compile(r"^(?:<<)$"), "<"),
):
    _ComposeLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", _pattern, list(_first))
_ComposeLoader.add_constructor("tag:yaml.org,2002:int", _ComposeLoader.construct_yaml_int)


class _Expansion:
    """Nodes and depth of a composed document with every alias expanded, counted without
    expanding (each node once), refused past the bounds."""

    def __init__(self) -> None:
        self.measured: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height)
        self.open: set[int] = set()

    def measure(self, node: Node, depth: int) -> tuple[int, int]:
        if id(node) in self.open:
            raise YamlRefused(problem="an alias refers to itself", problem_mark=node.start_mark)
        size, height = self.measured.get(id(node)) or self._children(node, depth)
        if depth + height > MAX_YAML_DEPTH:
            raise YamlRefused(
                problem=f"nested deeper than {MAX_YAML_DEPTH} levels (aliases expanded)",
                problem_mark=node.start_mark,
            )
        return size, height

    def _children(self, node: Node, depth: int) -> tuple[int, int]:
        if depth > MAX_YAML_DEPTH:
            raise YamlRefused(
                problem=f"nested deeper than {MAX_YAML_DEPTH} levels (aliases expanded)",
                problem_mark=node.start_mark,
            )
        value = node.value
        children = (
            [n for pair in value for n in pair] if isinstance(node, MappingNode)
            else value if isinstance(node, SequenceNode) else []
        )  # fmt: skip
        self.open.add(id(node))
        size, height = 1, 0
        for child in children:
            child_size, child_height = self.measure(child, depth + 1)
            size += child_size
            height = max(height, child_height + 1)
            if size > MAX_EXPANDED_NODES:
                raise YamlRefused(
                    problem=f"more than {MAX_EXPANDED_NODES:,} values once its aliases are "
                    "expanded",
                    problem_mark=node.start_mark,
                )
        self.open.discard(id(node))
        self.measured[id(node)] = size, height
        return size, height


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
