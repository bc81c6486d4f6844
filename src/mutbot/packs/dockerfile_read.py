"""The measured Dockerfile read as settings (pure): the stages the build runs (the built stage,
the stages it builds on and the stages it copies from), each instruction with a name that
survives edits elsewhere in the file ("RUN 2", "ENV PYTHONUNBUFFERED", "build/FROM"), its value,
its safety class and the span of text a change replaces.

Instructions come from mutbot.discover.dockerfile_syntax (dockerfile-parse underneath)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from mutbot.discover.dockerfile_syntax import Instruction, Stage, instructions, stages
from mutbot.packs.dockerfile_settings import STAGE
from mutbot.packs.model import Reaches, Value
from mutbot.packs.view import View
from mutbot.shellcmds import commands

# What a change to each instruction reaches. CMD and ENTRYPOINT belong to the server packs.
KINDS: dict[str, Reaches] = {
    "FROM": "build", "RUN": "build", "COPY": "build", "ADD": "build", "WORKDIR": "build",
    "ARG": "build", "SHELL": "build", "ENV": "environment", "USER": "build",
    "EXPOSE": "none", "HEALTHCHECK": "none", "LABEL": "none", "STOPSIGNAL": "none",
    "VOLUME": "none", "ONBUILD": "none", "MAINTAINER": "none",
}  # fmt: skip
# Variables other packs read and change (the server's own settings): left to them.
OWNED = frozenset(
    {
        "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "UV_THREADPOOL_SIZE", "NODE_ENV", "NODE_OPTIONS",
        "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "JAVA_OPTS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS", "DEBUG", "DJANGO_DEBUG", "FLASK_DEBUG", "FLASK_ENV", "TESTING",
    }
)  # fmt: skip
OWNED_PREFIXES = ("GUNICORN_", "UVICORN_", "HYPERCORN_", "UWSGI_", "PM2_", "NGINX_")
_USER_TOOLS = {"useradd", "adduser", "groupadd", "addgroup", "usermod"}
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_GAP = re.compile(r"(?:[ \t]|\\\r?\n)+")
_PAIR = re.compile(rf"""({_NAME})(?:=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'\\]*))?(?=\s|\\|$)""")


@dataclass(frozen=True)
class Entry:
    """One instruction (or one ENV/ARG variable) as a setting."""

    name: str  # unique in the file: "RUN 2", "ENV PORT", "build/FROM"
    kind: str  # the instruction: "RUN", "ENV", ...
    value: Value
    raw: str  # the instruction as written (continuations joined)
    line: int  # 1-based
    start: int  # the span a new value replaces
    end: int
    quote: str = ""  # the quote around an ENV/ARG value ("" when bare)
    reaches: Reaches = "build"


@dataclass(frozen=True)
class Built:
    """The Dockerfile's text and the stages its build runs."""

    path: str
    text: str
    stages: tuple[Stage, ...]
    chain: tuple[int, ...]  # the built stage and the stages it builds on, base first
    builders: tuple[int, ...]  # stages the chain copies from (and those they build on)
    globals: tuple[Instruction, ...]  # ARGs before the first FROM
    starts: tuple[int, ...]  # offset of each line

    @property
    def final(self) -> Stage:
        return self.stages[self.chain[-1]]

    def label(self, index: int) -> str:
        if index == self.chain[-1]:
            return ""
        return f"{self.stages[index].alias or f'stage {index}'}/"

    def line_end(self, line: int) -> int:
        """The offset of the end of a 0-based line, before its line break."""
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return end - 1 if end > 0 and self.text[end - 1 : end] == "\r" else end

    def body_span(self, ins: Instruction) -> tuple[int, int]:
        """The instruction's text after its keyword, to the end of its last line."""
        start = self.starts[ins.start]
        found = re.compile(r"[ \t]*[A-Za-z]+[ \t]*").match(self.text, start)
        return (found.end() if found else start), self.line_end(ins.end)

    def stage_of(self, line: int) -> int | None:
        """The index of the stage a 0-based line is in."""
        found = [i for i, s in enumerate(self.stages) if s.start.start <= line]
        return found[-1] if found else None


def built_of(view: View) -> Built | None:
    """The measured Dockerfile and its built stages; None when there is none."""
    if view.image is None:
        return None
    path = view.sandbox.dockerfile
    text = view.repo.read(path)
    return read(path, text, view.sandbox.target) if text is not None else None


def read(path: str, text: str, target: str | None) -> Built | None:
    found = stages(text)
    if not found:
        return None
    index = len(found) - 1
    if target is not None:
        named = [i for i, s in enumerate(found) if (s.alias or "").lower() == target.lower()]
        if not named:
            return None
        index = named[0]
    chain = _chain(found, index)
    builders: list[int] = []
    todo = list(chain)
    while todo:
        for source in _copied_from(found, todo.pop()):
            for at in _chain(found, source):
                if at not in chain and at not in builders:
                    builders.append(at)
                    todo.append(at)
    first = found[0].start.start
    globals_ = tuple(i for i in instructions(text) if i.start < first and i.name == "ARG")
    starts = [0]
    for row in text.split("\n"):
        starts.append(starts[-1] + len(row) + 1)
    return Built(path, text, tuple(found), tuple(chain), tuple(sorted(builders)), globals_,
                 tuple(starts))  # fmt: skip


def _chain(found: list[Stage], index: int) -> list[int]:
    chain: list[int] = []
    at: int | None = index
    while at is not None and at not in chain:
        chain.insert(0, at)
        at = found[at].parent
    return chain


def _copied_from(found: list[Stage], index: int) -> list[int]:
    aliases = {(s.alias or "").lower(): i for i, s in enumerate(found) if s.alias}
    out = []
    for ins in found[index].body:
        flag = re.search(r"--from=(\S+)", ins.value) if ins.name in ("COPY", "ADD") else None
        name = flag[1].lower() if flag else ""
        source = aliases.get(name, int(name) if name.isdigit() else None)
        if source is not None and source < index:
            out.append(source)
    return out


def entries(built: Built) -> list[Entry]:
    """Every instruction of the built stages as a setting, in file order."""
    found = [e for ins in built.globals for e in _variables(built, ins, "global/", "build")]
    for index in sorted((*built.builders, *built.chain)):
        stage, label = built.stages[index], built.label(index)
        in_chain = index in built.chain
        counts: dict[str, int] = {}
        found.append(_from(built, stage, label))
        for ins in stage.body:
            if ins.name not in KINDS:
                continue  # CMD, ENTRYPOINT (the server packs'), and what is not Docker's
            if ins.name in ("ENV", "ARG"):
                reaches: Reaches = "environment" if in_chain and ins.name == "ENV" else "build"
                found += _variables(built, ins, label, reaches)
            elif ins.name == "USER" or (in_chain and _creates_user(ins)):
                continue  # one setting: the user the container runs as (see `user`)
            else:
                counts[ins.name] = counts.get(ins.name, 0) + 1
                found.append(_plain(built, ins, f"{label}{ins.name} {counts[ins.name]}"))
    users = [i for index in built.chain for i in built.stages[index].body if i.name == "USER"]
    if users:
        start, end = built.body_span(users[-1])
        word = re.compile(r"\S+").search(built.text, start, end)
        if word:
            found.append(Entry("USER", "USER", word[0], users[-1].value, users[-1].line,
                               *word.span()))  # fmt: skip
    return sorted(found, key=lambda e: (e.line, e.start))


def _from(built: Built, stage: Stage, label: str) -> Entry:
    start, end = built.body_span(stage.start)
    words = [m for m in re.finditer(r"\S+", built.text[start:end]) if not m[0].startswith("--")]
    image = words[0] if words else None
    span = (start + image.start(), start + image.end()) if image else (start, end)
    if stage.parent is not None:  # an earlier stage's name, not an image
        return Entry(f"{label}{STAGE}", "FROM", stage.image, stage.start.value,
                     stage.start.line, *span, reaches="none")  # fmt: skip
    return Entry(f"{label}FROM", "FROM", stage.image, stage.start.value, stage.start.line, *span)


def _plain(built: Built, ins: Instruction, name: str) -> Entry:
    return Entry(name, ins.name, ins.value, ins.value, ins.line, *built.body_span(ins),
                 reaches=KINDS[ins.name])  # fmt: skip


def _creates_user(ins: Instruction) -> bool:
    """A RUN that only creates the user (and group) the container runs as."""
    cmds = commands(ins.value) if ins.name == "RUN" else []
    return bool(cmds) and all(w[0] in _USER_TOOLS for w in cmds)


def _variables(built: Built, ins: Instruction, label: str, reaches: Reaches) -> list[Entry]:
    out = []
    for name, value, quote, start, end in variables(built, ins):
        if ins.name == "ENV" and owned(name):
            continue
        out.append(Entry(f"{label}{ins.name} {name}", ins.name, value, ins.value, ins.line,
                         start, end, quote, reaches))  # fmt: skip
    seen: dict[str, int] = {}
    for i, e in enumerate(out):  # a variable set twice in one stage: the second is "(2)"
        seen[e.name] = seen.get(e.name, 0) + 1
        if seen[e.name] > 1:
            out[i] = replace(e, name=f"{e.name} ({seen[e.name]})")
    return out


def owned(name: str) -> bool:
    return name in OWNED or name.startswith(OWNED_PREFIXES)


def variables(built: Built, ins: Instruction) -> list[tuple[str, str | None, str, int, int]]:
    """(name, value, quote, start, end) of each `NAME=value` of an ENV or ARG, the span being
    the value without its quotes (where `=value` would go when an ARG has no default). The old
    `ENV NAME value` form is one variable whose value runs to the end of the instruction."""
    start, end = built.body_span(ins)
    text = built.text
    legacy = re.compile(rf"({_NAME})[ \t]+(\S.*?)[ \t]*$", re.DOTALL).fullmatch(text, start, end)
    if ins.name == "ENV" and legacy and "=" not in legacy[1]:
        return [(legacy[1], legacy[2], "", *legacy.span(2))]
    out: list[tuple[str, str | None, str, int, int]] = []
    pos = start
    while pos < end and (pair := _PAIR.match(text, pos, end)):
        written = pair[2]
        if written is None:
            out.append((pair[1], None, "", pair.end(1), pair.end(1)))
        else:
            quote = written[0] if written[:1] in ("'", '"') else ""
            s, e = pair.span(2)
            out.append((pair[1], written[1:-1] if quote else written, quote,
                        s + len(quote), e - len(quote)))  # fmt: skip
        gap = _GAP.match(text, pair.end(), end)
        if gap is None:
            break
        pos = gap.end()
    return out
