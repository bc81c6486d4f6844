"""A deliberately small evaluator of GitHub Actions expressions, for testing the `if:` of the
workflow `mutbot init` writes against real webhook payloads.

It covers only what that `if:` uses: string, number, boolean and null literals; property
access with `.`; `!`, `==`, `!=`, `&&`, `||` and parentheses; the functions `startsWith`,
`contains` and `fromJSON`. Semantics follow GitHub's documentation: `&&` and `||` return an
operand, falsy values are false, 0, "", null and NaN; strings compare ignoring case; values of
different types are compared as numbers (null 0, true 1, a non-numeric string NaN). Anything
else raises ValueError rather than guessing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>==|!=|&&|\|\||[!().,\[\]])|(?P<name>[A-Za-z_][\w-]*))"
)
_FUNCTIONS = {"startswith", "contains", "fromjson"}


def evaluate(expression: str, contexts: Mapping[str, Any]) -> Any:
    parser = _Parser(_tokens(expression), contexts)
    value = parser.either()
    if parser.pos != len(parser.tokens):
        raise ValueError(f"unexpected {parser.tokens[parser.pos]!r} in {expression!r}")
    return value


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _tokens(text: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    while text[pos:].strip():
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"cannot read {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], contexts: Mapping[str, Any]) -> None:
        self.tokens, self.pos, self.contexts = tokens, 0, contexts

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ValueError("unexpected end of expression")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def either(self) -> Any:
        value = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()  # no short circuit needed: nothing here has side effects
            value = value if truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            value = right if truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            same = _equal(value, self.unary())
            value = same if op == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if text == "(":
            value = self.either()
            self.take(")")
            return value
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == "(":
            return self.call(text)
        if text not in self.contexts:
            raise ValueError(f"unknown context {text!r}")
        value = self.contexts[text]
        while self.peek() == ".":
            self.take()
            key = self.take()[1]
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    def call(self, name: str) -> Any:
        if name.lower() not in _FUNCTIONS:
            raise ValueError(f"function {name!r} is not supported here")
        self.take("(")
        args = [self.either()]
        while self.peek() == ",":
            self.take()
            args.append(self.either())
        self.take(")")
        if name.lower() == "fromjson":
            return json.loads(_text(args[0]))
        if name.lower() == "startswith":
            return _text(args[0]).lower().startswith(_text(args[1]).lower())
        haystack, needle = args
        if isinstance(haystack, list):
            return any(_equal(item, needle) for item in haystack)
        return _text(needle).lower() in _text(haystack).lower()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan  # objects and arrays


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right) and not isinstance(left, float | int):
        return bool(left == right)
    return _number(left) == _number(right)  # NaN equals nothing
