"""Simple commands in a line of shell (pure): split on the operators, tokenised with shlex,
without the `VAR=value` prefixes and wrappers (`sudo`, `env`, `exec`…) in front of the program.
A heuristic, good enough to recognise which program a command runs; shared by the packs,
discovery and the fetch rule so that all read a command the same way."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection

OPERATORS = re.compile(r"&&|\|\||;|\|")
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def simple_commands(
    text: str, operators: re.Pattern[str] = OPERATORS, wrappers: Collection[str] = ()
) -> list[list[str]]:
    result = []
    for part in operators.split(text):
        try:
            words = shlex.split(part)
        except ValueError:  # an unbalanced quote: whitespace will do
            words = part.split()
        while words and (_ASSIGN.match(words[0]) or words[0] in wrappers):
            words = words[1:]
        if words:
            result.append(words)
    return result
