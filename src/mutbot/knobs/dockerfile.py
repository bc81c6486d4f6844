"""Dockerfiles: `ENV K=V` / `ENV K V` (keys 'ENV.K') and server flags in the last CMD and
ENTRYPOINT, exec or shell form (keys 'CMD.--workers'), read back with dockerfile_parse."""

from __future__ import annotations

import io
import json
import re
import shlex

from dockerfile_parse import DockerfileParser
from dockerfile_parse.util import extract_key_values

from mutbot.knobs.errors import ParseError
from mutbot.knobs.model import Knob, classify_text

SERVERS = re.compile(r"\b(gunicorn|uvicorn|hypercorn|waitress-serve|daphne|granian)\b")
FLAGS = (
    *("--workers", "--threads", "--worker-class", "--log-level", "--timeout", "--backlog"),
    *("--limit-concurrency", "--access-logfile", "--keep-alive", "--timeout-keep-alive"),
    *("--graceful-timeout", "--worker-connections", "--max-requests", "--limit-max-requests"),
    *("--connection-limit", "--channel-timeout"),
)
SHORT = {"-w": "--workers", "-k": "--worker-class", "-t": "--timeout"}  # gunicorn's
_RUNS = ("CMD", "ENTRYPOINT")
_PAIR = re.compile(
    r"""(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?:"(?P<dq>[^"\\$]*)"|'(?P<sq>[^'\\]*)'|(?P<bare>[^\s"'\\$]*))"""
)
_GAP = re.compile(r"(?:\s|\\\n)*")
_EXEC_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SHELL_WORD = re.compile(r"""(?:"[^"]*"|'[^']*'|[^\s"'\\])+""")
Token = tuple[str, int, int]  # text without quotes, and its span in the file
Flag = tuple[str, int, Token]  # canonical flag, index of the token holding the value, value


def flag_values(tokens: list[Token], server: bool) -> list[Flag]:
    """Known flags and their values: '--workers 4', '--workers=4', and '-w 4' for servers."""
    found: list[Flag] = []
    for i, (text, start, end) in enumerate(tokens):
        given, eq, value = text.partition("=")
        flag = SHORT.get(given, given) if server else given
        if not given.startswith("-") or flag not in FLAGS:
            continue
        if eq:
            found.append((flag, i, (value, start + len(given) + 1, end)))
        elif i + 1 < len(tokens):
            found.append((flag, i + 1, tokens[i + 1]))
    return found


def _parse(text: str) -> list[dict[str, object]]:
    try:
        structure = DockerfileParser(fileobj=io.BytesIO(text.encode())).structure
    except Exception as exc:  # dockerfile_parse documents no error type of its own
        raise ParseError(f"not a Dockerfile: {exc}") from exc
    return list(structure)


def _last_runs(structure: list[dict[str, object]]) -> dict[int, str]:
    """Index -> instruction of the CMD and ENTRYPOINT that take effect (the last ones)."""
    last = {str(s["instruction"]): i for i, s in enumerate(structure) if s["instruction"] in _RUNS}
    return {i: instruction for instruction, i in last.items()}


def scan(path: str, text: str) -> list[Knob]:
    try:
        structure = _parse(text)
    except ParseError:
        return []
    starts = [0]
    for text_line in text.split("\n"):
        starts.append(starts[-1] + len(text_line) + 1)
    runs = _last_runs(structure)
    knobs: list[Knob] = []
    for i, item in enumerate(structure):
        first, last = int(str(item["startline"])), int(str(item["endline"]))
        span = (starts[first], min(starts[last + 1], len(text)))
        if item["instruction"] == "ENV":
            found = [(f"ENV.{k}", t) for k, t in _env_tokens(text, *span)]
        elif i in runs:
            tokens = _run_tokens(text, *span)
            server = bool(SERVERS.search(str(item["value"])))
            found = [(f"{runs[i]}.{f}", t) for f, _, t in flag_values(tokens, server)]
        else:
            continue
        for key, (raw, start, end) in found:
            typed = classify_text(key, raw)
            if typed and text[start:end] == raw:
                line = text.count("\n", 0, start) + 1
                knobs.append(Knob(path, line, key, raw, start, end, *typed))
    return knobs


def _env_tokens(text: str, start: int, end: int) -> list[tuple[str, Token]]:
    body = re.compile(r"\s*ENV\s+", re.IGNORECASE).match(text, start, end)
    if not body:
        return []
    pos, found = body.end(), []
    if not re.compile(r"[A-Za-z_][A-Za-z0-9_]*=").match(text, pos, end):  # legacy 'ENV K V'
        legacy = re.compile(r"(\S+)[ \t]+([^\n\\]*?)[ \t]*\n?").fullmatch(text, pos, end)
        return [(legacy[1], (legacy[2], *legacy.span(2)))] if legacy else []
    while pair := _PAIR.match(text, pos, end):
        group = next(g for g in ("dq", "sq", "bare") if pair[g] is not None)
        found.append((pair["key"], (pair[group], *pair.span(group))))
        gap = _GAP.match(text, pair.end(), end)
        pos = gap.end() if gap else pair.end()
    return found


def _run_tokens(text: str, start: int, end: int) -> list[Token]:
    body = re.compile(r"\s*[A-Za-z]+\s+", re.IGNORECASE).match(text, start, end)
    if not body:
        return []
    if text[body.end() : end].lstrip().startswith("["):
        return [(m[1], *m.span(1)) for m in _EXEC_ITEM.finditer(text, body.end(), end)]
    tokens = []
    for word in _SHELL_WORD.finditer(text, body.end(), end):
        quoted = word[0][0] in "\"'" and word[0][-1] == word[0][0] and len(word[0]) > 1
        s, e = (word.start() + 1, word.end() - 1) if quoted else word.span()
        tokens.append((text[s:e], s, e))
    return tokens


def _argv(value: str) -> list[str]:
    if value.lstrip().startswith("["):
        try:
            loaded = json.loads(value)
        except ValueError:
            loaded = None
        if isinstance(loaded, list) and all(isinstance(a, str) for a in loaded):
            return loaded
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise ParseError(f"cannot split the command {value!r}: {exc}") from exc


def read(text: str) -> dict[str, object]:
    structure = _parse(text)
    runs = _last_runs(structure)
    flat: dict[str, object] = {}
    for i, item in enumerate(structure):
        instruction, value = str(item["instruction"]), str(item["value"])
        if instruction == "ENV":
            pairs = extract_key_values(env_replace=False, args={}, envs={}, instruction_value=value)
            flat.update({f"ENV.{k}": v for k, v in pairs})
        elif i in runs:
            argv = _argv(value)
            flags = flag_values([(a, 0, 0) for a in argv], bool(SERVERS.search(value)))
            for flag, index, (flag_value, _, _) in flags:
                flat[f"{instruction}.{flag}"] = flag_value
                argv[index] = argv[index].removesuffix(flag_value)  # the rest must not change
            flat[instruction] = tuple(argv)
        else:
            flat[f"{instruction}@{i}"] = value
    return flat


def literal(raw: str) -> object:
    return raw
