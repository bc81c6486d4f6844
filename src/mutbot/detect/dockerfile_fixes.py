"""Known rewrites of Dockerfile opportunities (pure): the file's new text with one opportunity
fixed, or None when no safe rewrite is known. Everything else is kept byte for byte.

The multi-stage and root-user rewrites live in `dockerfile_stages`. Each rewrite is checked by
running the detector again: one after which the detector finds as many opportunities of its
category as before is not offered."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from mutbot.detect.dockerfile import (
    Instruction,
    Stage,
    findings,
    image_ref,
    instructions,
    runtime_chain,
    slim_tag,
    stages,
    whole_context_copy,
)
from mutbot.detect.dockerfile_stages import root_user, single_stage
from mutbot.detect.dockerfile_text import (
    META,
    SETUP,
    instruction_at,
    instruction_lines,
    line_ending,
    workdirs,
)
from mutbot.detect.shell import commands, dependency_install, pip_install_args, requirement_files
from mutbot.proposers.base import Opportunity

Fix = Callable[[list[str], list[Stage], int], list[str] | None]

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


def rewrite(text: str, opportunity: Opportunity) -> str | None:
    """The Dockerfile text with `opportunity` fixed, or None when no safe rewrite is known."""
    fix = _FIXES.get(opportunity.category)
    before = [f for f in findings(text) if f[0] == opportunity.category]
    if fix is None or not any(f[1] == opportunity.line for f in before):
        return None
    lines = text.splitlines(keepends=True)
    blocks = ("".join(instruction_lines(lines, i)) for i in instructions(text))
    if any(b.rstrip().endswith("\\") for b in blocks):
        return None  # a dangling continuation would swallow whatever comes next
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += line_ending(text)  # so that lines can be added after it
    new_lines = fix(lines, stages(text), opportunity.line)
    if new_lines is None:
        return None
    new = "".join(new_lines)
    if not text.endswith("\n") and new.endswith(lines[-1]):
        new = new[: -len(line_ending(text))]
    after = [f for f in findings(new) if f[0] == opportunity.category]
    return new if len(after) < len(before) else None


def _heavy(lines: list[str], all_stages: list[Stage], line: int) -> list[str] | None:
    root = runtime_chain(all_stages)[0]
    ref = image_ref(root.image)
    slim = slim_tag(ref)
    if root.start.line != line or slim is None or ref.digest:
        return None
    repo = root.image[: len(root.image) - len(ref.tag) - 1] if ref.tag else root.image
    pattern = rf"(?<=\s){re.escape(root.image)}(?=\s|$)"
    new = re.sub(pattern, f"{repo}:{slim}", lines[root.start.start], count=1)
    return [*lines[: root.start.start], new, *lines[root.start.start + 1 :]]


def _package_cache(lines: list[str], all_stages: list[Stage], line: int) -> list[str] | None:
    found = instruction_at(all_stages, line)
    if found is None or found[1].value.lstrip().startswith("["):
        return None
    ins = found[1]
    block = "".join(instruction_lines(lines, ins))
    block = re.sub(
        r"(\bpip[\d.]*\s+install\b)(?![^&;|]*--no-cache-dir)", r"\1 --no-cache-dir", block
    )
    apt = r"(\bapt(?:-get)?\s+install\b)(?![^&;|]*--no-install-recommends)"
    block = re.sub(apt, r"\1 --no-install-recommends", block)
    block = re.sub(r"(\bapk\s+add\b)(?![^&;|]*--no-cache)", r"\1 --no-cache", block)
    block = re.sub(r"\bapk\s+update\s*(?:\\\r?\n\s*)?&&\s*(?:\\\r?\n\s*)?", "", block)
    cmds = commands(ins.value)
    installs = any(w[:2] in (["apt-get", "install"], ["apt", "install"]) for w in cmds)
    if installs and "/var/lib/apt/lists" not in ins.value:
        body = block.rstrip()
        block = body + " && rm -rf /var/lib/apt/lists/*" + block[len(body) :]
    return [*lines[: ins.start], block, *lines[ins.end + 1 :]]


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
    "heavy-base-image": _heavy,
    "package-cache-in-layer": _package_cache,
    "cache-busting-copy": _cache_busting,
    "single-stage-build": single_stage,
    "root-user": root_user,
}
