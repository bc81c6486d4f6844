"""The repository as the measured sandbox sees it (pure): the image it builds, the command that
starts the server (followed through wrappers and entrypoint scripts by mutbot.discover), the
environment the server sees, the packages installed, the limits, and which files a change can
reach. Packs read this; they never touch the disk."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mutbot.config_sandbox import Sandbox as ConfigSandbox
from mutbot.discover import commands
from mutbot.discover.dockerfiles import Image, dockerignore, image_path, read_image, repo_path
from mutbot.discover.model import Repo, Source, join
from mutbot.discover.process import Launch, Listen, Process
from mutbot.packs.model import Reaches

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Sandbox:
    """What the config says about the sandbox (mutbot.config_sandbox.Sandbox, as plain data)."""

    dockerfile: str = "Dockerfile"
    context: str = "."
    target: str | None = None
    command: tuple[str, ...] | str | None = None
    entrypoint: tuple[str, ...] | str | None = None
    env: dict[str, str] = field(default_factory=dict)
    cpus: float = 1.0
    memory: int = 256 * 1024 * 1024
    compose: str | None = None  # the compose file the sandbox reads its service from


@dataclass(frozen=True)
class View:
    repo: Repo
    sandbox: Sandbox
    image: Image | None
    listen: Listen | None  # the server the container starts, when mutbot knows it
    targets: frozenset[str]  # files a candidate may change
    packages: frozenset[str]  # Python and Node packages the build installs (lower case)
    baseline: Mapping[str, float] | None = None  # measured medians (metric -> value), if known
    # the built baseline image's environment, when built: what its base image resolved to
    resolved: Mapping[str, str] = field(default_factory=dict)
    # compose files and Kubernetes manifests: "resources" where they hold the measured
    # service's limits (the candidate runs with them), else "none" (the service never reads
    # its own deployment files, even when the image copies them)
    deploys: Mapping[str, Reaches] = field(default_factory=dict)

    @property
    def launch(self) -> Launch | None:
        return self.listen.launch if self.listen else None

    @property
    def server(self) -> str | None:
        return self.launch.program if self.launch else None

    def env(self, name: str) -> tuple[str, Source | None] | None:
        """A variable the server sees, and where it is set."""
        if self.launch and name in self.launch.env:
            return self.launch.env[name]
        if name in self.sandbox.env:
            return self.sandbox.env[name], None
        if self.image and name in self.image.env:
            return self.image.env[name]
        return None

    def reaches(self, path: str) -> Reaches:
        """Which sandbox input a change to `path` reaches."""
        if path == self.sandbox.dockerfile:
            return "build"
        if path == self.sandbox.compose:
            return "command"
        if path in self.deploys:
            return self.deploys[path]
        if self.image is None or dockerignore(self.repo, self.sandbox.context)(path):
            return "none"
        inside = self.sandbox.context in (".", "") or path.startswith(self.sandbox.context + "/")
        return "build" if inside and image_path(self.image, self.sandbox.context, path) else "none"

    def editable(self, path: str) -> bool:
        """A candidate may change it and the sandbox measures the change."""
        return path in self.targets and self.reaches(path) != "none"

    def in_image(self, name: str) -> str | None:
        """The repository file the image holds at `name` (absolute or relative to WORKDIR)."""
        if self.image is None:
            return None
        found = repo_path(self.repo, self.image, self.sandbox.context, name)
        fallback = join(self.sandbox.context, name) if not name.startswith("/") else None
        return found or (fallback if fallback in self.repo.fileset else None)


def build(
    repo: Repo,
    sandbox: Sandbox,
    targets: frozenset[str],
    baseline: Mapping[str, float] | None = None,
    resolved: Mapping[str, str] | None = None,
) -> View:
    image = read_image(repo, sandbox.dockerfile, sandbox.target)
    listen = _listen(repo, sandbox, image) if image is not None else None
    packages = _packages(repo, sandbox.context)
    view = View(repo, sandbox, image, listen, targets, packages, baseline, dict(resolved or {}))
    return replace(view, deploys=_deploys(view))


def _deploys(view: View) -> dict[str, Reaches]:
    # imported here: the orchestration reader reads a View
    from mutbot.packs.orchestration_read import deploy_files

    return deploy_files(view)


def from_config(sandbox: ConfigSandbox) -> Sandbox:
    """The config's sandbox section as plain data (its paths relative to the project)."""

    def words(value: str | list[str] | None) -> tuple[str, ...] | str | None:
        return tuple(value) if isinstance(value, list) else value

    return Sandbox(
        dockerfile=posixpath.normpath(sandbox.dockerfile),
        context=posixpath.normpath(sandbox.context),
        target=sandbox.build.target,
        command=words(sandbox.command),
        entrypoint=words(sandbox.entrypoint),
        env=dict(sandbox.env),
        cpus=sandbox.cpus,
        memory=sandbox.memory,
        compose=posixpath.normpath(sandbox.compose) if sandbox.compose else None,
    )


def _words(words: tuple[str, ...] | list[str] | str | None) -> list[str] | None:
    if words is None:
        return None
    return ["/bin/sh", "-c", words] if isinstance(words, str) else list(words)


def _listen(repo: Repo, sandbox: Sandbox, image: Image) -> Listen | None:
    """As Docker starts it: the config's entrypoint or command over the image's; a new
    entrypoint drops the image's CMD."""
    overridden = sandbox.command is not None or sandbox.entrypoint is not None
    image_entry = image.entrypoint if sandbox.entrypoint is None else None
    image_cmd = image.cmd if not overridden else None
    entry = _words(sandbox.entrypoint) or _words(image_entry.words if image_entry else None)
    cmd = _words(sandbox.command) or _words(image_cmd.words if image_cmd else None)
    where = image_cmd or image_entry
    source = where.source if where is not None else Source(".mutbot.yml")
    env = {k: (v, None) for k, v in sandbox.env.items()}

    def locate(name: str) -> str | None:
        found = repo_path(repo, image, sandbox.context, name)
        fallback = join(sandbox.context, name) if not name.startswith("/") else None
        return found or (fallback if fallback in repo.fileset else None)

    proc = Process(
        repo, {**image.env, **env}, locate, (cmd, source) if cmd else None, sandbox.context
    )
    argv = [*entry, *(cmd or [])] if entry else (cmd or [])
    return commands.listen(proc, argv, source) if argv else None


def _packages(repo: Repo, context: str) -> frozenset[str]:
    found: set[str] = set()
    for path in repo.under(context):
        name = path.rsplit("/", 1)[-1].lower()
        text = repo.read(path) if _manifest(name) else None
        if text is None:
            continue
        if name == "package.json":
            found |= _node_packages(text)
        else:  # requirements files, pyproject.toml, Pipfile: any line that starts with a name
            found |= {
                m[1].lower().replace("_", "-") for m in map(_REQUIREMENT.match, _lines(text)) if m
            }
    return frozenset(found)


def _manifest(name: str) -> bool:
    return name == "package.json" or (name.startswith("requirements") and name.endswith(".txt"))


def _lines(text: str) -> list[str]:
    return [row.split("#", 1)[0].strip().strip("\"',") for row in text.splitlines()]


def _node_packages(text: str) -> set[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    if not isinstance(data, dict):
        return set()
    out: set[str] = set()
    for key in ("dependencies", "devDependencies"):
        deps = data.get(key)
        if isinstance(deps, dict):
            out |= {str(k).lower() for k in deps}
    return out
