"""Line-level helpers shared by the Dockerfile rewrites in `dockerfile_rewrite` and
`dockerfile_multistage` (pure): slicing an instruction's lines, its comments, working
directories."""

from __future__ import annotations

import posixpath

from mutbot.discover.dockerfile_syntax import Instruction, Stage

# Commands that set the system up rather than install the project's dependencies.
SETUP = {"apt-get", "apt", "apk", "rm", "mkdir", "groupadd", "useradd", "addgroup", "adduser"}
# Instructions that neither read the build context nor run anything.
META = {"ENV", "ARG", "LABEL", "EXPOSE", "WORKDIR"}


def line_ending(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def instruction_lines(lines: list[str], ins: Instruction) -> list[str]:
    return lines[ins.start : ins.end + 1]


def instruction_at(all_stages: list[Stage], line: int) -> tuple[Stage, Instruction] | None:
    for stage in all_stages:
        for ins in (stage.start, *stage.body):
            if ins.line == line:
                return stage, ins
    return None


def comment_start(lines: list[str], ins: Instruction) -> int:
    """The first of the comment lines right above an instruction (its own line if none)."""
    first = ins.start
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    return first


def with_comments(lines: list[str], ins: Instruction) -> list[str]:
    return lines[comment_start(lines, ins) : ins.end + 1]


def workdirs(stage: Stage, all_stages: list[Stage]) -> dict[int, str]:
    """The working directory at each instruction (by start line); "/?" marks the base's own."""
    cwd = "/?"
    if stage.parent is not None:
        parent = all_stages[stage.parent]
        cwd = workdirs(parent, all_stages).get(-1, "/?")
    result = {}
    for ins in stage.body:
        if ins.name == "WORKDIR":
            path = ins.value.strip()
            cwd = "/?$" if "$" in path else posixpath.normpath(posixpath.join(cwd, path))
        result[ins.start] = cwd
    result[-1] = cwd
    return result
