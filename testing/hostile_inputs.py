"""Hostile inputs for the parsers' property tests and benchmarks/fuzz.py, structure-aware: a
valid seed (a config, a candidates file, a webhook payload, a ledger line, results.json) has a
few of its values replaced by a wrong type, a huge or non-finite number, a long string or deep
nesting, keys dropped or added, and its text damaged (cut, spliced, bytes that are not UTF-8).

Every function takes a `random.Random`, so an input is a pure function of its seed (the fuzz
benchmark) or of hypothesis' draws (`st.randoms()` in the property tests).

Values that no Python object serialises to (5,000 digits, 100,000 levels of nesting, a YAML
alias) are placed as a `@@RAW<n>@@` string and spliced into the text after serialising.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

WORDS = ("a", "x", "config", "Dockerfile", ".github", "**", "*", "..", "/", "é", "\x00", "k8s")
JSON_RAW = (
    "[" * 199 + "]" * 199,
    "[" * 201 + "]" * 201,
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 1000 + "1" + "}" * 1000,
    "9" * 5000,
    "-" + "9" * 400,
    "1e400",
    "-1e400",
    "1" + "0" * 400,
    "0." + "0" * 400 + "1",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    '"\\ud800"',
    '"\\u0000"',
    "[" + "1," * 20_000 + "1]",
)
YAML_RAW = (
    "&a [1, 2]",
    "*a",
    "!!python/object/apply:os.system [echo]",
    "!!binary '####'",
    "[" * 1000 + "]" * 1000,
    "9" * 5000,
    "1.0e+400",
    ".nan",
    "-.inf",
    "2001-13-45",
    "{? [1]: 2}",
    "!!set {a, b}",
    "0x" + "f" * 300,
    "190:20:30",
    "~",
    "<<: {a: 1}",
)
STRINGS = (
    "",
    " ",
    "x" * 10,
    "x" * 300,
    "x" * 5000,
    "\x00",
    "é" * 100,
    "/mutate n=3",
    "<!-- mutbot: {} -->",
    "../../etc/passwd",
    "/etc",
    "outside/passwd",
    "**/" * 100 + "x",
    "1e400",
    "NaN",
    "25h",
    "-5s",
    "2001-13-45",
    "refs/heads/mutbot/x",
    "Bot",
    "created",
    "closed",
    "\ud800",
)


def hostile_value(rng: random.Random, raw: tuple[str, ...], depth: int = 0) -> Any:
    """A value of a type or size a parser may not expect."""
    pick = rng.randrange(30)
    if pick < 6:
        return rng.choice([None, True, False, 0, -1, 1, 2**31, 2**63, 2**64, -(2**63)])
    if pick < 10:
        return rng.choice([10**300, 1e308, -1e308, 5e-324, 0.1, 1.5, float("nan"), float("inf")])
    if pick < 16:
        return rng.choice(STRINGS)
    if pick < 22:
        return f"@@RAW{rng.randrange(len(raw))}@@"
    if depth > 2:
        return rng.choice([[], {}])
    if pick < 26:
        return [hostile_value(rng, raw, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(WORDS): hostile_value(rng, raw, depth + 1) for _ in range(rng.randrange(4))}


def json_value(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, small."""
    pick = rng.randrange(8 if depth < 4 else 6)
    if pick == 0:
        return None
    if pick == 1:
        return rng.random() < 0.5
    if pick == 2:
        return rng.choice([0, 1, -1, 7, 2**53, rng.randrange(-(10**6), 10**6)])
    if pick == 3:
        return rng.choice([0.5, -2.25, 1e-7, 1e300])
    if pick in (4, 5):
        return "".join(rng.choice(WORDS) for _ in range(rng.randrange(4)))
    if pick == 6:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(WORDS): json_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def paths(tree: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every node's path, the root's () included."""
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += paths(value, (*prefix, index))
    return found


def mutate_tree(
    rng: random.Random, tree: Any, raw: tuple[str, ...], rounds: int | None = None
) -> Any:
    """A deep copy of `tree` with one to three structural changes."""
    tree = copy.deepcopy(tree)
    for _ in range(rounds or rng.randint(1, 3)):
        tree = _mutate_once(rng, tree, raw)
    return tree


def _mutate_once(rng: random.Random, tree: Any, raw: tuple[str, ...]) -> Any:
    path = rng.choice(paths(tree))
    if not path:
        return hostile_value(rng, raw) if rng.random() < 0.3 else tree
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    op = rng.randrange(8)
    if op >= 6:  # the same type, an odd value: what validation lets through
        parent[last] = _same_kind(rng, parent[last], raw)
    elif op < 3:
        parent[last] = hostile_value(rng, raw)
    elif op == 3:
        del parent[last]
    elif op == 4 and isinstance(parent, dict):
        parent[rng.choice([*WORDS, "extra", "version", "@@RAW0@@"])] = hostile_value(rng, raw)
    else:
        parent[last] = [parent[last]] if rng.random() < 0.5 else {"x": parent[last]}
    return tree


NUMBERS = (0, 1, -1, 2, 10**9, 2**63, 10**300, -(10**300))
FLOATS = (0.0, -0.0, -1.0, 1e-300, 5e-324, 1e-50, 1e50, 1e300, -1e300, 0.999, 1.0, 1e308)


def _same_kind(rng: random.Random, value: Any, raw: tuple[str, ...]) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice(NUMBERS)
    if isinstance(value, float):
        return rng.choice(FLOATS) * rng.choice([1, 1, value])
    if isinstance(value, str):
        return rng.choice(STRINGS) if rng.random() < 0.7 else value * rng.randint(2, 100)
    if isinstance(value, list):
        return value * rng.choice([0, 2, 30])
    return hostile_value(rng, raw)


def splice(text: str, raw: tuple[str, ...]) -> str:
    """The `@@RAW<n>@@` placeholders (quoted or not) replaced by their raw text."""
    if "@@RAW" not in text:
        return text
    for index, chunk in enumerate(raw):
        token = f"@@RAW{index}@@"
        for quoted in (f'"{token}"', f"'{token}'", token):
            text = text.replace(quoted, chunk)
    return text


def to_json(rng: random.Random, value: Any) -> str:
    return splice(json.dumps(value, allow_nan=True, indent=rng.choice([None, 1])), JSON_RAW)


def to_yaml(rng: random.Random, value: Any) -> str:
    try:
        text = yaml.safe_dump(value, sort_keys=False, default_flow_style=rng.choice([None, True]))
    except (yaml.YAMLError, RecursionError, ValueError):  # a value PyYAML cannot write
        text = "version: 1\n"
    return splice(text, YAML_RAW)


DAMAGE = ("\x00", "\n", '"', "{", "}", "[", "]", ":", ",", "&", "*", "!", "#", "\ufeff", "\ud800")


def damage(rng: random.Random, text: str) -> str:
    """Text-level damage: a cut, a deleted or repeated slice, an odd character or chunk."""
    if not text:
        return rng.choice(DAMAGE)
    at = rng.randrange(len(text) + 1)
    op = rng.randrange(5)
    if op == 0:
        return text[:at]
    if op == 1:
        return text[:at] + text[at + rng.randrange(1, 40) :]
    if op == 2:
        return text[:at] + text[max(0, at - 50) : at] * rng.randint(2, 50) + text[at:]
    if op == 3:
        return text[:at] + rng.choice(DAMAGE) + text[at:]
    return text[:at] + rng.choice(JSON_RAW + YAML_RAW)[:2000] + text[at:]


def encode(rng: random.Random, text: str) -> bytes:
    """UTF-8, lone surrogates kept as (invalid) bytes; now and then a stray byte."""
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        at = rng.randrange(len(data) + 1)
        stray = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf"])
        data = data[:at] + stray + data[at:]
    return data


def structured(
    rng: random.Random,
    seeds: list[Any],
    raw: tuple[str, ...],
    dump: Callable[[random.Random, Any], str],
    whole: tuple[str, ...] = (),
) -> str:
    """One input: a seed as is, mutated, damaged, or both; now and then a whole hostile text."""
    if whole and rng.random() < 0.05:
        return rng.choice(whole)
    seed = rng.choice(seeds)
    pick = rng.random()
    if pick < 0.05:
        return dump(rng, seed)
    if pick < 0.75:
        return dump(rng, mutate_tree(rng, seed, raw))
    text = dump(rng, mutate_tree(rng, seed, raw) if pick < 0.9 else seed)
    for _ in range(rng.randint(1, 3)):
        text = damage(rng, text)
    return text
