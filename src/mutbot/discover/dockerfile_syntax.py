"""Dockerfile syntax (pure): a Dockerfile's instructions, its stages and what each builds on,
and an image reference split into name, tag and digest. The low-level reading that discovery
and the Dockerfile pack share; what the instructions mean is theirs.

Instructions come from dockerfile-parse (continuations and comments handled there)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser


@dataclass(frozen=True)
class Instruction:
    name: str  # upper case, e.g. "RUN"
    value: str  # continuation lines joined, comments dropped
    start: int  # 0-based first line
    end: int  # 0-based last line

    @property
    def line(self) -> int:
        return self.start + 1


@dataclass(frozen=True)
class Stage:
    image: str  # as written after FROM, e.g. "python:3.11" or an earlier stage's name
    alias: str | None
    parent: int | None  # index of the earlier stage this one builds on
    start: Instruction  # the FROM
    body: tuple[Instruction, ...]


@dataclass(frozen=True)
class ImageRef:
    name: str  # without docker.io/library/, e.g. "python" or "gcr.io/distroless/static"
    tag: str  # "" when none
    digest: bool


def instructions(text: str) -> list[Instruction]:
    parser = DockerfileParser(fileobj=io.BytesIO(), env_replace=False)  # in memory, no disk
    parser.content = text
    found = [
        Instruction(s["instruction"].upper(), s["value"], s["startline"], s["endline"])
        for s in parser.structure
        if s["instruction"] != "COMMENT"
    ]
    return sorted(found, key=lambda i: i.start)


def stages(text: str) -> list[Stage]:
    result: list[Stage] = []
    aliases: dict[str, int] = {}
    current: list[Instruction] = []
    for ins in instructions(text):
        if ins.name == "FROM":
            if result:
                result[-1] = _with_body(result[-1], current)
            words = [w for w in ins.value.split() if not w.startswith("--")]
            image = words[0] if words else ""
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            result.append(Stage(image, alias, aliases.get(image.lower()), ins, ()))
            if alias:
                aliases[alias.lower()] = len(result) - 1
            current = []
        elif result:
            current.append(ins)
    if result:
        result[-1] = _with_body(result[-1], current)
    return result


def _with_body(stage: Stage, body: list[Instruction]) -> Stage:
    return Stage(stage.image, stage.alias, stage.parent, stage.start, tuple(body))


def image_ref(image: str) -> ImageRef:
    rest, at, _ = image.partition("@")
    slash, colon = rest.rfind("/"), rest.rfind(":")
    name, tag = (rest[:colon], rest[colon + 1 :]) if colon > slash else (rest, "")
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return ImageRef(name.lower(), tag, bool(at))
