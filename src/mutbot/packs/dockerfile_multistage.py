"""The multi-stage rewrite of a Dockerfile (pure): a single-stage Python build split into a
builder stage and a runtime stage without build tools. `dockerfile_rewrite.rewrite` is the entry
point; it also checks the result."""

from __future__ import annotations

import posixpath
import re

from mutbot.discover.dockerfile_syntax import Instruction, Stage, image_ref
from mutbot.packs.dockerfile_text import (
    META,
    SETUP,
    comment_start,
    instruction_lines,
    line_ending,
    with_comments,
    workdirs,
)
from mutbot.shellcmds import (
    commands,
    is_build_package,
    packages,
    pip_install_args,
    requirement_files,
)

# Debian -dev packages whose runtime library a built wheel still needs; others stay unknown.
_RUNTIME_LIBS = {
    "libpq-dev": "libpq5",
    "libjpeg-dev": "libjpeg62-turbo",
    "libxml2-dev": "libxml2",
    "libxslt1-dev": "libxslt1.1",
    "default-libmysqlclient-dev": "libmariadb3",
    "libffi-dev": "",  # in the python images already
    "libssl-dev": "",
    "zlib1g-dev": "",
    "python3-dev": "",
}


def single_stage(lines: list[str], all_stages: list[Stage], line: int) -> list[str] | None:
    """The Python pattern: apt build tools, then `pip install -r`: build in a builder stage."""
    stage = all_stages[0]
    ref = image_ref(stage.image)
    if ref.name != "python" or "alpine" in ref.tag or "$" in stage.image or ref.digest:
        return None
    pips = [i for i in stage.body if i.name == "RUN" and "pip" in i.value]
    cmds = commands(pips[0].value) if len(pips) == 1 else []
    args = [pip_install_args(w) for w in cmds]
    if not cmds or any(a is None or "--user" in a for a in args):
        return None
    pip = pips[0]
    build = [i for i in stage.body if i.name == "RUN" and _build_packages(i)]
    files = [f for a in args for f in requirement_files(a or [])]
    if not build or build[-1].start > pip.start or not files:
        return None
    copies = _builder_copies(stage, pip, workdirs(stage, all_stages), lines, files)
    runtime = _runtime_lines(lines, build, pip)
    if copies is None or runtime is None:
        return None
    eol = line_ending(lines[0])
    keep = [i for i in stage.body if i.start < pip.start and (i.name in META or i in build)]
    builder = [f"FROM {stage.image} AS build{eol}"]
    for ins in keep:
        builder += with_comments(lines, ins) if ins in build else instruction_lines(lines, ins)
    pip_text = "".join(instruction_lines(lines, pip))
    prefixed = re.sub(r"(\bpip[\d.]*\s+install\b)", r"\1 --prefix=/install", pip_text)
    builder += [*copies, prefixed, eol]
    first = stage.start.start
    return [*runtime[:first], *builder, *runtime[first:]]


def _build_packages(ins: Instruction) -> list[str]:
    cmds = commands(ins.value)
    if any(w[:2] in (["apt-get", "purge"], ["apt-get", "remove"]) for w in cmds):
        return []
    return [
        p for w in cmds if w[0] in ("apt-get", "apt") for p in packages(w) if is_build_package(p)
    ]


def _builder_copies(
    stage: Stage, pip: Instruction, cwd: dict[int, str], lines: list[str], files: list[str]
) -> list[str] | None:
    """COPY lines for the builder that put each requirements file where the pip RUN reads it."""
    eol, here, out = line_ending(lines[0]), cwd[pip.start], []
    for name in files:
        target = posixpath.normpath(posixpath.join(here, name))
        source = _copied_from(stage, pip, cwd, target)
        if source is None or "$" in target or here.startswith("/?"):
            return None
        same = posixpath.dirname(target) == here and posixpath.basename(source) == name
        out.append(f"COPY {source} {'.' if same else target}{eol}")
    return out


def _copied_from(stage: Stage, pip: Instruction, cwd: dict[int, str], target: str) -> str | None:
    """The context path of the latest COPY before `pip` that put a file at `target`."""
    for ins in reversed([i for i in stage.body if i.start < pip.start]):
        words = [w for w in ins.value.split() if not w.startswith("--")]
        if ins.name not in ("COPY", "ADD") or "--from" in ins.value or len(words) < 2:
            continue
        dest = posixpath.join(cwd[ins.start], words[-1])
        as_dir = words[-1].endswith("/") or words[-1] in (".", "..") or len(words) > 2
        for src in words[:-1]:
            if src in (".", "./"):
                rel = posixpath.relpath(target, posixpath.normpath(dest))
                return None if rel.startswith("..") else rel
            into = posixpath.join(dest, posixpath.basename(src)) if as_dir else dest
            if posixpath.normpath(into) == target:
                return src
    return None


def _runtime_lines(
    lines: list[str], build: list[Instruction], pip: Instruction
) -> list[str] | None:
    """The stage without build tools: build packages dropped (or swapped for their runtime
    libraries), the pip RUN replaced by a copy of what the builder installed."""
    out = list(lines)  # one entry per original line; "" deletes it
    _put(out, pip, f"COPY --from=build /install /usr/local{line_ending(lines[0])}")
    for ins in build:
        tools = _build_packages(ins)
        if any(t.endswith("-dev") and t not in _RUNTIME_LIBS for t in tools):
            return None
        block = "".join(instruction_lines(lines, ins))
        for tool in tools:
            word = rf"{re.escape(tool)}(?:=\S*)?(?=\s)"
            if swap := _RUNTIME_LIBS.get(tool, ""):
                block = re.sub(rf"(?<=\s){word}", swap, block, count=1)
            else:
                block = re.sub(rf"[ \t]+{word}", "", block, count=1)
        block = re.sub(r"^[ \t]*\\\r?\n", "", block, flags=re.MULTILINE)  # emptied lines
        if any(packages(w) for w in commands(_shell(block))):
            _put(out, ins, block)
        elif all(w[0] in SETUP for w in commands(ins.value)):
            first, last = comment_start(lines, ins), ins.end + 1
            if (
                last < len(lines)
                and not lines[last].strip()
                and (first == 0 or not lines[first - 1].strip())
            ):
                last += 1  # and the blank line that separated it
            out[first:last] = [""] * (last - first)
        else:
            return None
    return out


def _put(out: list[str], ins: Instruction, text: str) -> None:
    out[ins.start : ins.end + 1] = [text] + [""] * (ins.end - ins.start)


def _shell(block: str) -> str:
    """A RUN block's shell text: continuations joined, the RUN keyword dropped."""
    block = re.sub(r"^[ \t]*#.*\n", "", block, flags=re.MULTILINE)
    return re.sub(r"\\\r?\n", " ", block).strip()[3:]
