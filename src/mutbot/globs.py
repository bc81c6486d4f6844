"""Path globs as the config, `/mutate` comments and `propose.keep` write them (pure).

`*` and `?` stay inside one folder, `**/` stands for any number of folders (none included) and
`**` elsewhere for anything. Matching simulates the pattern as a small automaton over the path,
so its cost is bounded by len(path) × len(pattern) whatever the pattern: a backtracking regex
took 24 s per path on `**/**/**/…/x`, and `*a*a*a…` patterns are exponential in `re`.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_GLOB = 256  # characters; longer patterns are refused where they are read

_LIT, _ONE, _STAR, _ANY, _DIRS = range(5)  # a char, `?`, `*`, `**`, `**/`
Token = tuple[int, str]


def normalise(pattern: str) -> str:
    """`./` dropped, `**/**/` collapsed: the same set of paths, fewer steps."""
    return re.sub(r"(?:\*\*/){2,}", "**/", pattern.removeprefix("./"))


def check(pattern: str) -> str:
    """The pattern, or ValueError with a one-line reason (for config and comment readers)."""
    if not pattern:
        raise ValueError("expected a path glob, got an empty string")
    if len(pattern) > MAX_GLOB:
        raise ValueError(f"a glob has at most {MAX_GLOB} characters, got {len(pattern)}")
    return pattern


@lru_cache(maxsize=512)
def _tokens(pattern: str) -> tuple[Token, ...]:
    check(pattern)
    pattern = normalise(pattern)
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append((_DIRS, ""))
            i += 3
        elif pattern.startswith("**", i):
            out.append((_ANY, ""))
            i += 2
        elif pattern[i] == "*":
            if not out or out[-1][0] != _STAR:  # `**` handled above; `*` twice is one `*`
                out.append((_STAR, ""))
            i += 1
        elif pattern[i] == "?":
            out.append((_ONE, ""))
            i += 1
        else:
            out.append((_LIT, pattern[i]))
            i += 1
    return tuple(out)


# A state is an index into the tokens (before that token), or `-1 - i` while inside the
# folders of a `**/` at index i (it must end at a `/`).
def _closure(states: set[int], tokens: tuple[Token, ...]) -> set[int]:
    todo = [s for s in states if s >= 0]
    while todo:
        s = todo.pop()
        if s < len(tokens) and tokens[s][0] in (_STAR, _ANY, _DIRS) and s + 1 not in states:
            states.add(s + 1)
            todo.append(s + 1)
    return states


def match(path: str, pattern: str) -> bool:
    tokens = _tokens(pattern)
    end = len(tokens)
    states = _closure({0}, tokens)
    for char in path:
        step: set[int] = set()
        for s in states:
            if s < 0:  # inside `**/`: anything, and a `/` may end it
                step.add(s)
                if char == "/":
                    step.add(-s)  # -1 - i  ->  i + 1
                continue
            if s == end:
                continue
            kind, literal = tokens[s]
            if kind == _LIT:
                if char == literal:
                    step.add(s + 1)
            elif kind == _ONE:
                if char != "/":
                    step.add(s + 1)
            elif kind == _STAR:
                if char != "/":
                    step.add(s)
            elif kind == _ANY:
                step.add(s)
            else:  # _DIRS
                step.add(-1 - s)
                if char == "/":
                    step.add(s + 1)
        states = _closure(step, tokens)
        if not states:
            return False
    return end in states


def matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(match(path, p) for p in patterns)
