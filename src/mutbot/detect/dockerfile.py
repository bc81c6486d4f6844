"""Dockerfile detector (pure): cache-busting copies, build tools in the runtime image, package
caches left in layers, heavy or unpinned base images and containers running as root.

Instructions come from dockerfile-parse (continuations and comments handled there); RUN
commands are read with the helpers in `mutbot.detect.shell`."""

from __future__ import annotations

import io
import posixpath
import re
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser

from mutbot.detect.shell import (
    commands,
    dependency_install,
    is_build_package,
    packages,
    pip_install_args,
)
from mutbot.proposers.base import DetectContext, Opportunity, TargetFile

Finding = tuple[str, int, str]  # category, 1-based line, why

_CODENAMES = ("trixie", "bookworm", "bullseye", "buster")
_SLIM_FAMILIES = ("python", "node", "ruby", "debian")
_TOOLCHAINS = ("golang", "rust", "maven", "gradle")
_BUILD_COMMANDS = (("npm", "run", "build"), ("yarn", "build"), ("go", "build"), ("cargo", "build"))


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


def is_dockerfile(path: str) -> bool:
    name = posixpath.basename(path)
    if name.endswith((".dockerignore", ".md")):
        return False
    plain = name in ("Dockerfile", "Containerfile") or name.endswith(".Dockerfile")
    return plain or name.startswith(("Dockerfile.", "Containerfile."))


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


def runtime_chain(all_stages: list[Stage]) -> list[Stage]:
    """The final stage and the stages it builds on, base first."""
    chain: list[Stage] = []
    index: int | None = len(all_stages) - 1 if all_stages else None
    while index is not None:
        chain.insert(0, all_stages[index])
        index = all_stages[index].parent
    return chain


def image_ref(image: str) -> ImageRef:
    rest, at, _ = image.partition("@")
    slash, colon = rest.rfind("/"), rest.rfind(":")
    name, tag = (rest[:colon], rest[colon + 1 :]) if colon > slash else (rest, "")
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return ImageRef(name.lower(), tag, bool(at))


def slim_tag(ref: ImageRef) -> str | None:
    """The slim variant's tag for a full python/node/ruby/debian tag, else None."""
    parts = ref.tag.split("-") if ref.tag not in ("", "latest") else []
    if ref.name not in _SLIM_FAMILIES or "$" in ref.tag:
        return None
    if any(p == "slim" or p.startswith(("alpine", "windows", "nanoserver")) for p in parts):
        return None
    if ref.name == "debian":
        return f"{ref.tag}-slim" if re.fullmatch(r"[a-z]+|\d+(\.\d+)?", ref.tag) else None
    if not parts:
        return "slim"
    if parts[-1] in _CODENAMES and len(parts) == 2:
        # node spells it 20-bookworm-slim, python and ruby 3.11-slim-bookworm
        return f"{ref.tag}-slim" if ref.name == "node" else f"{parts[0]}-slim-{parts[1]}"
    if len(parts) == 1 and re.fullmatch(r"[\w.]+", parts[0]):
        return f"{ref.tag}-slim"
    return None


def whole_context_copy(ins: Instruction) -> tuple[list[str], str] | None:
    """(flags, destination) of a COPY/ADD of the whole build context (`COPY . /app`)."""
    if ins.name not in ("COPY", "ADD"):
        return None
    words = ins.value.split()
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    if any(f.startswith("--from") for f in flags) or len(paths) < 2:
        return None
    if not any(p in (".", "./") for p in paths[:-1]):
        return None
    return flags, paths[-1]


def detect(file: TargetFile, context: DetectContext) -> list[Opportunity]:
    if not is_dockerfile(file.path):
        return []
    return [
        Opportunity(category=c, path=file.path, line=n, why=w) for c, n, w in findings(file.text)
    ]


def findings(text: str) -> list[Finding]:
    """(category, 1-based line, why) for every opportunity in a Dockerfile's text."""
    all_stages = stages(text)
    if not all_stages:
        return []
    return [
        *_cache_busting(all_stages),
        *_single_stage(all_stages),
        *_package_caches(all_stages),
        *_heavy_base(all_stages),
        *_unpinned(all_stages),
        *_root_user(all_stages),
    ]


def _cache_busting(all_stages: list[Stage]) -> list[Finding]:
    found: dict[int, Finding] = {}
    for stage in all_stages:
        copy: Instruction | None = None
        for ins in stage.body:
            if whole_context_copy(ins):
                copy = ins
            elif ins.name == "RUN" and copy and copy.line not in found:
                labels = [lb for w in commands(ins.value) if (lb := dependency_install(w))]
                if labels:
                    why = (
                        f"`{labels[0]}` (line {ins.line}) runs after `{copy.name} {copy.value}`: "
                        "any source change re-installs every dependency"
                    )
                    found[copy.line] = ("cache-busting-copy", copy.line, why)
    return list(found.values())


def _single_stage(all_stages: list[Stage]) -> list[Finding]:
    if len(all_stages) != 1:
        return []
    for ins in all_stages[0].body:
        if ins.name != "RUN":
            continue
        cmds = commands(ins.value)
        removes = any(
            w[:2] in (["apt-get", "purge"], ["apt-get", "remove"], ["apk", "del"]) for w in cmds
        )
        tools = [] if removes else [p for w in cmds for p in packages(w) if is_build_package(p)]
        tools += [" ".join(b) for w in cmds for b in _BUILD_COMMANDS if tuple(w[: len(b)]) == b]
        tools += [w[0] for w in cmds if w[0] in ("mvn", "./mvnw", "gradle", "./gradlew")]
        if tools:
            named = ", ".join(tools[:3])
            why = f"the only stage installs or runs build tools ({named}); they ship in the image"
            return [("single-stage-build", ins.line, why)]
    return []


def _package_caches(all_stages: list[Stage]) -> list[Finding]:
    found = []
    no_pip_cache = False
    for stage in runtime_chain(all_stages):
        for ins in stage.body:
            if ins.name == "ENV" and "PIP_NO_CACHE_DIR" in ins.value:
                no_pip_cache = True
            elif ins.name == "RUN" and (why := _cache_left(ins.value, no_pip_cache)):
                found.append(("package-cache-in-layer", ins.line, why))
    return found


def _cache_left(run_value: str, no_pip_cache: bool = False) -> str | None:
    """Why this RUN leaves a package manager's cache in its layer, or None."""
    if "--mount=type=cache" in run_value:  # a BuildKit cache mount keeps it out of the layer
        return None
    cmds = commands(run_value)
    removed = " ".join(" ".join(w) for w in cmds if w[0] == "rm")
    no_pip_cache = no_pip_cache or "PIP_NO_CACHE_DIR=" in run_value
    pip_kept = not no_pip_cache and ".cache/pip" not in removed
    pip_kept = pip_kept and ["pip", "cache", "purge"] not in cmds
    for words in cmds:
        pip = pip_install_args(words)
        if pip is not None and "--no-cache-dir" not in pip and pip_kept:
            return "`pip install` without --no-cache-dir keeps pip's download cache in the layer"
        apt = words[:2] in (["apt-get", "install"], ["apt", "install"])
        if apt and "/var/lib/apt/lists" not in removed:
            return "`apt-get install` without removing /var/lib/apt/lists keeps the package lists"
        apk = words[:2] == ["apk", "add"] and "--no-cache" not in words
        apk = apk or words[:2] == ["apk", "update"]
        if apk and "/var/cache/apk" not in removed:
            return "`apk update`/`apk add` without --no-cache keeps the package index in the layer"
    return None


def _heavy_base(all_stages: list[Stage]) -> list[Finding]:
    root = runtime_chain(all_stages)[0]
    ref = image_ref(root.image)
    line, shown = root.start.line, f"`{root.image}`"
    if (slim := slim_tag(ref)) is not None:
        why = f"the runtime image is {shown}; `{ref.name}:{slim}` has the same runtime, far smaller"
        return [("heavy-base-image", line, why)]
    if ref.name in _TOOLCHAINS:
        why = f"the final stage runs on the toolchain image {shown}; a build output needs less"
        return [("heavy-base-image", line, why)]
    if ref.name in ("openjdk", "eclipse-temurin", "amazoncorretto") and "jre" not in ref.tag:
        return [
            ("heavy-base-image", line, f"the runtime image {shown} is a full JDK; a JRE would do")
        ]
    return []


def _unpinned(all_stages: list[Stage]) -> list[Finding]:
    found = []
    for stage in all_stages:
        ref = image_ref(stage.image)
        if stage.parent is not None or ref.name in ("scratch", "") or "$" in stage.image:
            continue
        if not ref.digest and ref.tag in ("", "latest"):
            why = f"`FROM {stage.image}` names no version: every build may pull a different image"
            found.append(("unpinned-base-image", stage.start.line, why))
    return found


def _root_user(all_stages: list[Stage]) -> list[Finding]:
    chain = runtime_chain(all_stages)
    users = [ins.value.strip() for s in chain for ins in s.body if ins.name == "USER"]
    final = all_stages[-1].start.line
    if not users:
        if "nonroot" in image_ref(chain[0].image).tag:  # distroless :nonroot images
            return []
        return [("root-user", final, "the final stage sets no USER, so the container runs as root")]
    if users[-1].split(":")[0] in ("root", "0"):
        return [("root-user", final, f"the final stage's last USER is `{users[-1]}`")]
    return []
