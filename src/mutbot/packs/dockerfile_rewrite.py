"""The Dockerfile rewrites that move and add instructions (pure): the whole source copied
before the dependency install, and build tools shipped by a single-stage build. Neither is one
setting, so the pack lists them without a move and gives these rewrites to a proposer that makes
whole-file candidates. Everything else is kept byte for byte.

The multi-stage split lives in `dockerfile_multistage`. Each rewrite is checked by running its
detector again: one after which the detector finds as many findings of its category as before
is not offered."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from mutbot.discover.dockerfile_syntax import Instruction, Stage, instructions, stages
from mutbot.packs.dockerfile_multistage import single_stage
from mutbot.packs.dockerfile_text import (
    META,
    SETUP,
    instruction_at,
    instruction_lines,
    line_ending,
    workdirs,
)
from mutbot.shellcmds import (
    commands,
    dependency_install,
    is_build_package,
    packages,
    pip_install_args,
    requirement_files,
)

Found = tuple[str, int, str]  # category, 1-based line, why
Fix = Callable[[list[str], list[Stage], int], list[str] | None]

_BUILD_COMMANDS = (("npm", "run", "build"), ("yarn", "build"), ("go", "build"), ("cargo", "build"))

_MANIFESTS = {
    "npm ci": ["package*.json"],
    "npm install": ["package*.json"],
    "npm i": ["package*.json"],
    "pnpm install": ["package.json", "pnpm-lock.yaml*"],
    "pnpm i": ["package.json", "pnpm-lock.yaml*"],
    "yarn install": ["package.json", "yarn.lock*"],
    "pipenv install": ["Pipfile", "Pipfile.lock*"],
    "pipenv sync": ["Pipfile", "Pipfile.lock*"],
    "poetry install": ["pyproject.toml", "poetry.lock*"],
    "uv sync": ["pyproject.toml", "uv.lock*"],
    "bundle install": ["Gemfile", "Gemfile.lock*"],
    "go mod download": ["go.mod", "go.sum*"],
}
# Flags without which an install also needs the project's own source.
_NEEDS_FLAG = {"poetry install": "--no-root", "uv sync": "--no-install-project"}


def findings(text: str) -> list[Found]:
    """(category, 1-based line, why) of each cache-busting copy and single-stage build."""
    all_stages = stages(text)
    return [*_cache_busting_copies(all_stages), *_single_stage_build(all_stages)]


def rewrite(text: str, category: str, line: int) -> str | None:
    """The Dockerfile text with the finding of `category` at `line` fixed, or None when no safe
    rewrite is known."""
    fix = _FIXES.get(category)
    before = [f for f in findings(text) if f[0] == category]
    if fix is None or not any(f[1] == line for f in before):
        return None
    lines = text.splitlines(keepends=True)
    blocks = ("".join(instruction_lines(lines, i)) for i in instructions(text))
    if any(b.rstrip().endswith("\\") for b in blocks):
        return None  # a dangling continuation would swallow whatever comes next
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += line_ending(text)  # so that lines can be added after it
    new_lines = fix(lines, stages(text), line)
    if new_lines is None:
        return None
    new = "".join(new_lines)
    if not text.endswith("\n") and new.endswith(lines[-1]):
        new = new[: -len(line_ending(text))]
    after = [f for f in findings(new) if f[0] == category]
    return new if len(after) < len(before) else None


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


def _cache_busting_copies(all_stages: list[Stage]) -> list[Found]:
    found: dict[int, Found] = {}
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


def _single_stage_build(all_stages: list[Stage]) -> list[Found]:
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


def _manifests(words: list[str], cwd: str, root: str) -> list[str] | None:
    """Context paths of the files this install reads, when copied to `root`; None if unknown."""
    pip = pip_install_args(words)
    if pip is not None:
        files = requirement_files(pip)
        if any(_local(a) for a in pip if a not in files):
            return None  # installs something from the source tree
        found = []
        for name in files:
            rel = posixpath.relpath(posixpath.join(cwd, name), root)
            if rel.startswith("..") or "$" in rel:
                return None
            found.append(rel)
        return found
    label = dependency_install(words)
    if label is None:
        return [] if words[0] in SETUP or words[1:2] == ["config"] else None
    if label not in _MANIFESTS or cwd != root:
        return None
    return _MANIFESTS[label] if _NEEDS_FLAG.get(label, "") in ["", *words] else None


def _local(arg: str) -> bool:
    """A pip argument naming a local path (`.`, `-e .`, `src/`, `dist/app.whl`)."""
    path = arg.removeprefix("--editable=").removeprefix("-e")
    return (
        path in (".", "..", "")
        or ("/" in path and "://" not in path)
        or path.endswith((".whl", ".tar.gz", ".zip"))
    )


def _cache_busting(lines: list[str], all_stages: list[Stage], line: int) -> list[str] | None:
    found = instruction_at(all_stages, line)
    copy_spec = whole_context_copy(found[1]) if found else None
    if found is None or copy_spec is None:
        return None
    stage, copy = found
    flags, dest = copy_spec
    if "$" in dest:
        return None
    cwd = workdirs(stage, all_stages)
    root = posixpath.normpath(posixpath.join(cwd[copy.start], dest))
    after = [i for i in stage.body if i.start > copy.start]
    installs = [i for i in after if i.name == "RUN" and _has_install(i)]
    if not installs:
        return None
    sources: list[str] = []
    for ins in [i for i in after if i.start <= installs[-1].start]:
        if ins.name == "WORKDIR" and not dest.startswith("/"):
            return None
        if ins.name == "RUN":
            for words in commands(ins.value):
                got = _manifests(words, cwd[ins.start], root)
                if got is None:
                    return None
                sources += [s for s in got if s not in sources]
        elif ins.name not in META:
            return None
    if not sources:
        return None
    new_copy = _manifest_copies(sources, " ".join(flags), dest, line_ending(lines[copy.start]))
    last = installs[-1].end + 1
    return [
        *lines[: copy.start],
        *new_copy,
        *lines[copy.end + 1 : last],
        *instruction_lines(lines, copy),
        *lines[last:],
    ]


def _has_install(ins: Instruction) -> bool:
    return any(dependency_install(w) for w in commands(ins.value))


def _manifest_copies(sources: list[str], flags: str, dest: str, eol: str) -> list[str]:
    """COPY lines that put each context path where the whole-context COPY would put it."""
    by_dir: dict[str, list[str]] = {}
    for src in sources:
        parent = posixpath.dirname(src)
        by_dir.setdefault(parent, []).append(parent + "/" if parent else src)
    out = []
    for parent, names in by_dir.items():
        target = dest if dest.endswith("/") else dest + "/"
        if parent:
            target = parent + "/" if dest in (".", "./") else target + parent + "/"
        head = f"COPY {flags} " if flags else "COPY "
        out.append(head + " ".join(dict.fromkeys(names)) + f" {target}{eol}")
    return out


_FIXES: dict[str, Fix] = {
    "cache-busting-copy": _cache_busting,
    "single-stage-build": single_stage,
}
