"""YAML nodes as settings (pure): every scalar under a node with its dotted name and its line,
the edit that replaces one scalar in the quoting style it was written in, and the insertion of
missing keys as block lines at the indentation of the mapping they go into."""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mutbot.discover import nodes

_PLAIN = re.compile(r"[A-Za-z0-9._/+-]+")
_SPECIAL = {"true", "false", "yes", "no", "on", "off", "null", "~", ""}


def leaves(node: Node | None, name: str) -> list[tuple[str, ScalarNode]]:
    """(dotted name, scalar) of every scalar under `node`: `ports[0]`, `httpGet.port`."""
    if isinstance(node, ScalarNode):
        return [(name, node)] if nodes.text(node) is not None else []
    out: list[tuple[str, ScalarNode]] = []
    if isinstance(node, MappingNode):
        for key, value in nodes.items(node):
            out += leaves(value, f"{name}.{key}")
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(nodes.seq(node)):
            out += leaves(item, f"{name}[{i}]")
    return out


def last_offset(node: Node) -> int:
    """Where the last scalar under `node` ends (a block's end mark runs into what follows)."""
    if isinstance(node, ScalarNode):
        return int(node.end_mark.index)
    children: list[Node] = []
    if isinstance(node, MappingNode):
        children = [n for pair in node.value for n in pair if isinstance(n, Node)]
    elif isinstance(node, SequenceNode):
        children = nodes.seq(node)
    return max((last_offset(c) for c in children), default=int(node.end_mark.index))


def formatted(value: str, style: str | None = None) -> str:
    """A scalar's text: in the quotes it had, else plain when YAML reads it back as the same
    string, else double-quoted."""
    if style in ("'", '"'):
        q = style
        inner = (
            value.replace("'", "''")
            if q == "'"
            else value.replace("\\", "\\\\").replace('"', '\\"')
        )
        return f"{q}{inner}{q}"
    if _PLAIN.fullmatch(value) and value.lower() not in _SPECIAL:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def replaced(node: ScalarNode, value: str) -> tuple[int, int, str]:
    """(start, end, text) replacing a scalar."""
    style = node.style if node.style in ("'", '"') else None
    return int(node.start_mark.index), int(node.end_mark.index), formatted(value, style)


def added(
    text: str, node: MappingNode, keys: tuple[str, ...], value: str
) -> tuple[int, str] | None:
    """(offset, text) inserting `keys` (a path of mapping keys, the missing part created)
    with `value` into a block mapping; None when a flow mapping or a non-mapping is in the way
    or when the whole path exists."""
    for depth, key in enumerate(keys):
        child = nodes.get(node, key)
        if child is None:
            missing = keys[depth:]
            break
        if not isinstance(child, MappingNode):
            return None
        node = child
    else:
        return None
    if node.flow_style or not node.value:
        return None
    column = int(node.value[0][0].start_mark.column)
    step = _step(node, column) or file_step(text)
    eol = "\r\n" if "\r\n" in text else "\n"
    end = text.find("\n", last_offset(node))
    end = len(text) if end < 0 else end - (1 if text[end - 1 : end] == "\r" else 0)
    rows = [" " * (column + step * d) + f"{k}:" for d, k in enumerate(missing[:-1])]
    rows.append(" " * (column + step * (len(missing) - 1)) + f"{missing[-1]}: {formatted(value)}")
    return end, eol + eol.join(rows)


def _step(node: MappingNode, column: int) -> int | None:
    """The indentation step of a nested block mapping of `node`, if it has one."""
    for _, value in node.value:
        if isinstance(value, MappingNode) and not value.flow_style and value.value:
            inner = int(value.value[0][0].start_mark.column) - column
            if inner > 0:
                return inner
    return None


def file_step(text: str) -> int:
    """The file's usual indentation step: how far the line after a `key:` line goes in (the
    most common such step; 2 when there is none)."""
    steps: dict[int, int] = {}
    previous: tuple[int, str] | None = None
    for row in text.splitlines():
        body = row.strip()
        if not body or body.startswith("#"):
            continue
        indent = len(row) - len(row.lstrip(" "))
        if previous and previous[1].endswith(":") and indent > previous[0]:
            steps[indent - previous[0]] = steps.get(indent - previous[0], 0) + 1
        previous = (indent, body)
    return max(steps, key=lambda s: (steps[s], -s)) if steps else 2
