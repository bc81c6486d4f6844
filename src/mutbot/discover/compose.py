"""Compose files (pure): each service's build, image, command, environment, ports, health check,
dependencies and limits, with the line each was read from. Paths are made relative to the
repository (compose resolves them against the compose file's folder)."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from yaml.nodes import Node

from mutbot.discover import nodes
from mutbot.discover.dockerfiles import Command, is_dev, is_prod, words_of
from mutbot.discover.model import Guess, Repo, Source, join

_NAME = re.compile(r"(docker-)?compose([.-][\w.-]*)?\.ya?ml")
_PLAIN = {"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"}
At = Callable[[Node], Source]
# Secrets stay out of git, so `.env.prod` is often committed only as a sample of itself.
_SAMPLES = ("-sample", ".sample", ".example", "-example", ".template", ".dist")
_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)")


@dataclass(frozen=True)
class Build:
    context: str  # repository path of the build context
    dockerfile: str  # repository path of the Dockerfile
    target: str | None
    args: dict[str, str | None]
    source: Source
    sources: dict[str, Source]  # "target", "dockerfile", "context" and each arg's name


@dataclass(frozen=True)
class EnvFile:
    path: str  # as named, relative to the repository
    named: Source  # where the compose file names it
    read: str | None  # the file read: itself, a committed sample of it, or none


@dataclass(frozen=True)
class Service:
    file: str
    name: str
    source: Source
    build: Build | None
    image: str | None
    command: Command | None  # compose splits a string command into words, no shell
    entrypoint: Command | None
    environment: dict[str, str | None]  # env_file values, then `environment:` over them
    env_sources: dict[str, Source]
    env_files: tuple[EnvFile, ...]
    ports: tuple[Guess[int], ...]  # the container side of `ports:`, then `expose:`
    healthcheck: Command | None
    depends_on: tuple[str, ...]
    cpus: Guess[float] | None
    memory: Guess[str] | None


def is_compose(path: str) -> bool:
    return bool(_NAME.fullmatch(posixpath.basename(path)))


def rank(path: str) -> tuple[bool, bool, bool, int, str]:
    """A `*prod*` file first, then the plain names, then the others; dev and override last."""
    dev = is_dev(path) or "override" in words_of(path)
    return (dev, not is_prod(path), posixpath.basename(path) not in _PLAIN, path.count("/"), path)


def services(repo: Repo, path: str) -> list[Service]:
    text = repo.read(path)
    docs = nodes.documents(text) if text else []
    if not docs:
        return []
    return [
        _service(repo, path, str(key.value), Source(path, nodes.line(key)), node)
        for key, node in nodes.entries(nodes.get(docs[0], "services"))
    ]


def _service(repo: Repo, path: str, name: str, where: Source, node: Node) -> Service:
    folder = posixpath.dirname(path)

    def at(n: Node) -> Source:
        return Source(path, nodes.line(n))

    env, env_sources, env_files = _environment(repo, folder, node, path)
    command = _command(nodes.get(node, "command"), at, split=True)
    entrypoint = _command(nodes.get(node, "entrypoint"), at, split=True)
    limits = nodes.path(node, "deploy", "resources", "limits")
    return Service(
        file=path,
        name=name,
        source=where,
        build=_build(folder, nodes.get(node, "build"), at),
        image=nodes.text(nodes.get(node, "image")),
        command=command,
        entrypoint=entrypoint,
        environment=env,
        env_sources=env_sources,
        env_files=env_files,
        ports=_ports(node, at),
        healthcheck=_healthcheck(nodes.get(node, "healthcheck"), at),
        depends_on=_depends(nodes.get(node, "depends_on")),
        cpus=_cpus(nodes.get(limits, "cpus") or nodes.get(node, "cpus"), at),
        memory=_memory(nodes.get(limits, "memory") or nodes.get(node, "mem_limit"), at),
    )


def _build(folder: str, node: Node | None, at: At) -> Build | None:
    if node is None:
        return None
    where = at(node)
    single = nodes.text(node)
    context = single if single is not None else nodes.text(nodes.get(node, "context")) or "."
    if "://" in context or context.startswith("git@"):
        return None  # a remote context: nothing to build from here
    context = join(folder, context)
    dockerfile = nodes.text(nodes.get(node, "dockerfile")) or "Dockerfile"
    sources = {
        key: at(value)
        for key, value in nodes.items(node)
        if key in ("context", "dockerfile", "target")
    }
    args: dict[str, str | None] = {}
    args_node = nodes.get(node, "args")
    for key, value in nodes.items(args_node):
        args[key], sources[key] = nodes.text(value), at(value)
    for item in nodes.seq(args_node):
        name, equals, written = (nodes.text(item) or "").partition("=")
        if name:
            args[name], sources[name] = (written if equals else None), at(item)
    target = nodes.text(nodes.get(node, "target"))
    return Build(context, join(context, dockerfile), target, args, where, sources)


def _command(node: Node | None, at: At, split: bool) -> Command | None:
    words = nodes.words(node)
    if node is None or words is None:
        return None
    if isinstance(words, str) and split:
        try:
            words = shlex.split(words)
        except ValueError:
            words = str(words).split()
    return Command(words, at(node))


def _environment(
    repo: Repo, folder: str, node: Node, path: str
) -> tuple[dict[str, str | None], dict[str, Source], tuple[EnvFile, ...]]:
    env: dict[str, str | None] = {}
    sources: dict[str, Source] = {}
    files = []
    env_file = nodes.get(node, "env_file")
    for item in [env_file] if nodes.text(env_file) else nodes.seq(env_file):
        name = nodes.text(item) or nodes.text(nodes.get(item, "path"))
        if item is None or not name:
            continue
        file = join(folder, name)
        tried = (file, *(file + suffix for suffix in _SAMPLES))
        read = next((f for f in tried if repo.read(f) is not None), None)
        files.append(EnvFile(file, Source(path, nodes.line(item)), read))
        for number, row in enumerate(((repo.read(read) or "") if read else "").splitlines(), 1):
            if (found := _ENV_LINE.fullmatch(row)) and not row.lstrip().startswith("#"):
                env[found[1]] = _unquote(found[2])
                sources[found[1]] = Source(read or file, number)
    environment = nodes.get(node, "environment")
    for key, value in nodes.items(environment):
        env[key] = nodes.text(value)
        sources[key] = Source(path, nodes.line(value))
    for item in nodes.seq(environment):
        key, equals, written = (nodes.text(item) or "").partition("=")
        if key:
            env[key] = written if equals else None
            sources[key] = Source(path, nodes.line(item))
    return env, sources, tuple(files)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return re.sub(r"\s+#.*$", "", value)  # an unquoted value ends at a comment


def _ports(node: Node, at: At) -> tuple[Guess[int], ...]:
    found: list[Guess[int]] = []
    for item in nodes.seq(nodes.get(node, "ports")):
        written = nodes.text(item) or nodes.text(nodes.get(item, "target"))
        if written is None:
            continue
        container = re.sub(r"\[[^]]*\]", "", written).split("/")[0].split(":")[-1]
        number = container.split("-")[0].strip()
        if number.isdigit() and 1 <= int(number) <= 65535:
            found.append(Guess(int(number), f"ports {written}", at(item)))
    for item in nodes.seq(nodes.get(node, "expose")):
        written = nodes.text(item) or ""
        number = written.split("/")[0].split("-")[0]
        if number.isdigit() and 1 <= int(number) <= 65535:
            found.append(Guess(int(number), f"expose {written}", at(item)))
    return tuple(found)


def _healthcheck(node: Node | None, at: At) -> Command | None:
    if nodes.text(nodes.get(node, "disable")) == "true":
        return None
    test = nodes.get(node, "test")
    words = nodes.words(test)
    if test is None or not words:
        return None
    where = at(test)
    if isinstance(words, str):
        return Command(words, where)
    if words[0] == "CMD-SHELL" and len(words) >= 2:
        return Command(" ".join(words[1:]), where)
    if words[0] == "CMD":
        return Command(words[1:], where)
    return None  # NONE


def _depends(node: Node | None) -> tuple[str, ...]:
    listed = nodes.texts(node)
    if listed is not None:
        return tuple(listed)
    return tuple(key for key, _ in nodes.items(node))


def _cpus(node: Node | None, at: At) -> Guess[float] | None:
    written = nodes.text(node)
    try:
        value = float(written or "")
    except ValueError:
        return None
    if node is None or not 0 < value <= 256:
        return None
    return Guess(value, f"cpus {written}", at(node))


def _memory(node: Node | None, at: At) -> Guess[str] | None:
    written = nodes.text(node)
    if node is None or not written:
        return None
    return Guess(written, f"memory {written}", at(node))
