"""YAML read as composed nodes (pure), so every value keeps its line: compose files, Kubernetes
manifests and OpenAPI specs. Anchors and `<<` merge keys are followed (compose files use them);
walks only ever go down named keys, so a document of nested aliases costs nothing extra. A file
that is not YAML gives no documents."""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_TEXT = 512 * 1024  # characters of a deployment file worth reading


def documents(text: str) -> list[Node]:
    if len(text) > MAX_TEXT:
        return []
    try:
        return [d for d in yaml.compose_all(text, Loader=yaml.SafeLoader) if d is not None]
    except (yaml.YAMLError, RecursionError, ValueError):
        return []


def get(node: Node | None, key: str, _depth: int = 0) -> Node | None:
    """The value under `key` in a mapping node, following `<<` merge keys (a few levels: a
    merge may refer back to its own mapping)."""
    if not isinstance(node, MappingNode) or _depth > 8:
        return None
    merged: list[Node] = []
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return v if isinstance(v, Node) else None
        if isinstance(k, ScalarNode) and k.value == "<<":
            merged += v.value if isinstance(v, SequenceNode) else [v]
    for source in merged:
        if (found := get(source, key, _depth + 1)) is not None:
            return found
    return None


def path(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        node = get(node, key)
    return node


def text(node: Node | None) -> str | None:
    """A scalar's text as written (`true`, `0`, `5000`): YAML's types are not applied."""
    if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        return None
    return str(node.value)


def line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def entries(node: Node | None) -> list[tuple[ScalarNode, Node]]:
    """A mapping's (key node, value node) pairs with scalar keys, merge keys left out."""
    if not isinstance(node, MappingNode):
        return []
    return [
        (k, v)
        for k, v in node.value
        if isinstance(k, ScalarNode) and k.value != "<<" and isinstance(v, Node)
    ]


def items(node: Node | None) -> list[tuple[str, Node]]:
    """A mapping's (key, value) pairs with scalar keys, merge keys left out."""
    return [(str(k.value), v) for k, v in entries(node)]


def seq(node: Node | None) -> list[Node]:
    return [n for n in node.value if isinstance(n, Node)] if isinstance(node, SequenceNode) else []


def texts(node: Node | None) -> list[str] | None:
    """A sequence of scalars as text; None when it is not one."""
    if not isinstance(node, SequenceNode):
        return None
    found = [text(n) for n in seq(node)]
    return None if any(t is None for t in found) else [t for t in found if t is not None]


def words(node: Node | None) -> str | list[str] | None:
    """A command as compose and Kubernetes write it: a string or a list of strings."""
    single = text(node)
    return single if single is not None else texts(node)
