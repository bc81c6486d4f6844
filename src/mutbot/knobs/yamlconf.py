"""YAML files: keys along mappings (and list indexes), positions from `yaml.compose` marks,
read back with `yaml.safe_load_all`. Several documents: keys start with the document index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import yaml

from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, classify_value, flatten


def _walk(node: yaml.Node, prefix: str) -> Iterator[tuple[str, yaml.ScalarNode]]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                yield from _walk(v, f"{prefix}{k.value}.")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, f"{prefix}{i}.")
    elif isinstance(node, yaml.ScalarNode):
        yield prefix[:-1], node


def scan(path: str, text: str) -> list[Knob]:
    try:
        docs = list(yaml.compose_all(text))
    except yaml.YAMLError:
        return []
    found = [
        pair
        for i, doc in enumerate(docs)
        if doc is not None
        for pair in _walk(doc, f"{i}." if len(docs) > 1 else "")
    ]
    uses = Counter(id(node) for _, node in found)  # an anchor with aliases: several keys
    knobs: list[Knob] = []
    for key, node in found:
        start, end = node.start_mark, node.end_mark
        if uses[id(node)] > 1 or node.style not in (None, '"', "'") or start.line != end.line:
            continue
        raw = text[start.index : end.index]
        typed = classify_value(key, yaml.safe_load(raw))
        if typed:
            knobs.append(Knob(path, start.line + 1, key, raw, start.index, end.index, *typed))
    return knobs


def read(text: str) -> dict[str, object]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise ParseError(str(exc).splitlines()[0]) from exc
    if len(docs) == 1:
        return flatten(docs[0])
    return flatten(docs)


def literal(raw: str) -> object:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ParseError(f"not a YAML value: {raw!r}") from exc
