"""What a Dockerfile says about the image it builds (pure): the stage built (its target or the
last), and along the chain of stages it builds on its ports, health check, command, entrypoint,
environment, working directory, copies and RUN lines, each with its line.

Instructions come from `mutbot.discover.dockerfile_syntax` (dockerfile-parse underneath)."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from mutbot import globs
from mutbot.discover.dockerfile_syntax import Instruction, Stage, stages
from mutbot.discover.model import Guess, Repo, Source, join

_VARIABLE = re.compile(r"\$\{?(\w+)(?::?-([^}]*))?\}?")
_DEV = {"dev", "devel", "development", "local", "test", "tests", "ci", "debug"}
_PROD = {"prod", "production", "release", "deploy", "live"}
_DOCKERFILE = re.compile(r"(Dockerfile|Containerfile)([.-][\w.-]+)?|[\w.-]+\.[Dd]ockerfile")

Words = str | list[str]  # a shell-form string or an exec-form list


@dataclass(frozen=True)
class Command:
    words: Words
    source: Source

    def argv(self) -> list[str]:
        """The words as a shell would split the string form (a heuristic for reading)."""
        if isinstance(self.words, list):
            return self.words
        try:
            return shlex.split(self.words)
        except ValueError:
            return self.words.split()


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]  # relative to the build context
    dest: str  # absolute in the image
    source: Source
    from_stage: str | None  # COPY --from=...


@dataclass(frozen=True)
class Image:
    """What a Dockerfile's built stage (and the stages it builds on) says."""

    path: str
    target: str | None  # the stage built, None for the last one
    base: str  # the image the chain starts from
    ports: tuple[Guess[int], ...]  # EXPOSE, in order
    healthcheck: Command | None
    cmd: Command | None
    entrypoint: Command | None
    env: dict[str, tuple[str, Source]]  # ENV, last wins
    args: dict[str, tuple[str, Source]]  # ARG defaults
    workdir: str
    copies: tuple[Copy, ...]
    runs: tuple[tuple[str, Source], ...]  # RUN lines of the chain
    builder_runs: tuple[tuple[str, Source], ...]  # RUN lines of the stages it copies from
    aliases: tuple[str, ...] = field(default=())  # every named stage of the file

    @property
    def runnable(self) -> bool:
        return self.cmd is not None or self.entrypoint is not None


def is_dockerfile(path: str) -> bool:
    name = posixpath.basename(path)
    if name.endswith((".dockerignore", ".md")):  # `Dockerfile.dockerignore`, `Dockerfile.md`
        return False
    return bool(_DOCKERFILE.fullmatch(name))


def words_of(path: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", path.lower()))


def is_dev(path: str) -> bool:
    return bool(words_of(path) & _DEV)


def is_prod(path: str) -> bool:
    return bool(words_of(path) & _PROD)


def rank(path: str, image: Image | None) -> tuple[bool, bool, bool, bool, int, str]:
    """Production first: not a dev one, runnable (CMD or ENTRYPOINT), named prod, the plain
    `Dockerfile`, the shallowest."""
    plain = posixpath.basename(path) == "Dockerfile"
    runnable = image is not None and image.runnable
    return (is_dev(path), not runnable, not is_prod(path), not plain, path.count("/"), path)


def read_image(repo: Repo, path: str, target: str | None = None) -> Image | None:
    text = repo.read(path)
    if text is None:
        return None
    found = stages(text)
    if not found:
        return None
    index = len(found) - 1
    if target is not None:
        named = [i for i, s in enumerate(found) if (s.alias or "").lower() == target.lower()]
        if not named:
            return None
        index = named[0]
    chain: list[Stage] = []
    at: int | None = index
    while at is not None and len(chain) < len(found):
        chain.insert(0, found[at])
        at = found[at].parent
    return _image(path, target, chain, found)


def _image(path: str, target: str | None, chain: list[Stage], every: list[Stage]) -> Image:
    env: dict[str, tuple[str, Source]] = {}
    args: dict[str, tuple[str, Source]] = {}
    ports: list[Guess[int]] = []
    health = cmd = entry = None
    workdir = "/"
    copies: list[Copy] = []
    runs: list[tuple[str, Source]] = []
    copied_from: set[str] = set()
    for stage in chain:
        cmd_here = False
        for ins in stage.body:
            where = Source(path, ins.line)
            known = args | env
            if ins.name in ("ENV", "ARG"):
                for name, value in _assignments(ins):
                    (env if ins.name == "ENV" else args)[name] = (_expand(value, known), where)
            elif ins.name == "EXPOSE":
                ports += _exposed(ins, known, where)
            elif ins.name == "HEALTHCHECK":
                health = _healthcheck(ins.value, where)
            elif ins.name == "CMD":
                cmd, cmd_here = Command(_form(ins.value), where), True
            elif ins.name == "ENTRYPOINT":
                entry = Command(_form(ins.value), where)
                cmd = cmd if cmd_here else None  # resets a CMD of an earlier stage
            elif ins.name == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, _expand(ins.value, known)))
            elif ins.name in ("COPY", "ADD"):
                copy = _copy(ins, workdir, known, where)
                copies += [copy] if copy else []
                if copy and copy.from_stage:
                    copied_from.add(copy.from_stage.lower())
            elif ins.name == "RUN":
                runs.append((ins.value, where))
    builder_runs = [  # what a builder stage installs reaches the image through its copies
        (i.value, Source(path, i.line))
        for stage in every
        if stage not in chain and (stage.alias or "").lower() in copied_from
        for i in stage.body
        if i.name == "RUN"
    ]
    aliases = tuple(s.alias for s in every if s.alias)
    return Image(
        path, target, chain[0].image, tuple(ports), health, cmd, entry, env, args, workdir,
        tuple(copies), tuple(runs), tuple(builder_runs), aliases,
    )  # fmt: skip


def _form(value: str) -> Words:
    text = value.strip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except ValueError:
            return text
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            return words
    return text


def _assignments(ins: Instruction) -> list[tuple[str, str]]:
    try:
        words = shlex.split(ins.value)
    except ValueError:
        words = ins.value.split()
    if ins.name == "ENV" and len(words) >= 2 and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # the old `ENV NAME value` form
    found = []
    for word in words:
        name, equals, value = word.partition("=")
        if re.fullmatch(r"\w+", name):
            found.append((name, value if equals else ""))
    return [(n, v) for n, v in found if ins.name == "ENV" or v]


def _expand(value: str, env: dict[str, tuple[str, Source]]) -> str:
    def one(found: re.Match[str]) -> str:
        known = env.get(found[1])
        return known[0] if known else (found[2] or "")

    return _VARIABLE.sub(one, value)


def _exposed(
    ins: Instruction, env: dict[str, tuple[str, Source]], where: Source
) -> list[Guess[int]]:
    found = []
    for word in ins.value.split():
        value = _expand(word, env).split("/")[0]
        if value.isdigit() and 1 <= int(value) <= 65535:
            found.append(Guess(int(value), f"EXPOSE {word}", where))
    return found


def _healthcheck(value: str, where: Source) -> Command | None:
    words = value.split()
    while words and words[0].startswith("--"):
        words = words[1:]
    if not words or words[0].upper() != "CMD":
        return None  # HEALTHCHECK NONE
    return Command(_form(value[value.upper().index("CMD") + 3 :]), where)


def _copy(
    ins: Instruction, workdir: str, env: dict[str, tuple[str, Source]], where: Source
) -> Copy | None:
    form = _form(ins.value)
    try:
        words = form if isinstance(form, list) else shlex.split(form)
    except ValueError:  # an unbalanced quote: words as the whitespace says
        words = str(form).split()
    stage = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--from="):
            stage = flag.split("=", 1)[1]
    if len(words) < 2:
        return None
    *sources, dest = [_expand(w, env) for w in words]
    absolute = posixpath.normpath(posixpath.join(workdir, dest))
    # `.`, a trailing `/`, several sources or the working directory itself: into a folder
    directory = dest.endswith(("/", "/.")) or dest == "." or len(sources) > 1 or absolute == workdir
    dest = absolute
    return Copy(tuple(sources), dest + ("/" if directory else ""), where, stage)


def repo_path(repo: Repo, image: Image, context: str, in_image: str) -> str | None:
    """The repository file the image holds at `in_image` (absolute, or relative to WORKDIR),
    through the COPY/ADD that put it there; None when no copy explains it."""
    wanted = posixpath.normpath(posixpath.join(image.workdir, in_image))
    for copy in reversed(image.copies):
        if copy.from_stage:
            continue
        for src in copy.sources:
            origin = join(context, src)
            folder = src in (".", "./") or any(f.startswith(origin + "/") for f in repo.files)
            dest = copy.dest.rstrip("/")
            if folder or copy.dest.endswith("/"):
                if not wanted.startswith(dest + "/"):
                    continue
                rest = wanted[len(dest) + 1 :]
                found = join(origin, rest) if folder else origin
                if (folder or posixpath.basename(origin) == rest) and found in repo.fileset:
                    return found
            elif wanted == dest and origin in repo.fileset:
                return origin
    return None


def copied(repo: Repo, image: Image, context: str, path: str) -> bool:
    """Whether a COPY/ADD of the build context takes `path` (a repository file) into the image."""
    for copy in image.copies:
        if copy.from_stage:
            continue
        for src in copy.sources:
            origin = join(context, src)
            if src in (".", "./") or path == origin or path.startswith(origin + "/"):
                return True
            if any(c in src for c in "*?[") and re.fullmatch(_glob(origin), path):
                return True
    return False


def _glob(pattern: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern)


def image_path(image: Image, context: str, path: str) -> str | None:
    """Where the image holds the repository file `path`, through the last COPY of the build
    context that takes it; None when none does."""
    rel = path[len(context) + 1 :] if context not in ("", ".") else path
    for copy in reversed(image.copies):
        if copy.from_stage:
            continue
        for src in copy.sources:
            origin = posixpath.normpath(src).removeprefix("./")
            folder = copy.dest.endswith("/") or origin == "."
            if origin == ".":
                return posixpath.join(copy.dest, rel)
            if rel == origin:
                return posixpath.join(copy.dest, posixpath.basename(rel)) if folder else copy.dest
            if rel.startswith(origin + "/"):
                return posixpath.join(copy.dest, rel[len(origin) + 1 :])
    return None


def dockerignore(repo: Repo, context: str) -> Callable[[str], bool]:
    """Whether the build context's `.dockerignore` leaves a repository file out."""
    text = repo.read(join(context, ".dockerignore")) or ""
    patterns = []
    for row in text.splitlines():
        row = row.strip()
        if row and not row.startswith("#"):
            keep = row.startswith("!")
            pattern = posixpath.normpath(row.lstrip("!").strip().lstrip("/")).removeprefix("./")
            if pattern != "." and len(pattern) <= globs.MAX_GLOB:
                patterns.append((keep, pattern))

    def excluded(path: str) -> bool:
        rel = path[len(context) + 1 :] if context not in ("", ".") else path
        parts = rel.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        out = False
        for keep, pattern in patterns:
            if any(globs.match(p, pattern) for p in prefixes):
                out = not keep
        return out

    return excluded
