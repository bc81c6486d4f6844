"""`mutbot init`: a starter `.mutbot.yml` guessed from the files a repository has, and the
GitHub workflow that runs the bot. The texts come from pure functions; `init` lists and writes.

Nothing is written into the user's code: a missing locustfile gets a commented example in the
config, not a file."""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import git
import jinja2
import yaml

from mutbot.errors import ConfigError
from mutbot.globs import matches

CONFIG_NAME = ".mutbot.yml"
WORKFLOW_PATH = ".github/workflows/mutbot.yml"
DEFAULT_PORT = 8080
DEFAULT_LOCUSTFILE = "loadtest/locustfile.py"

# Never listed at all: caches, dependencies, build output.
_NOISE = {".git", ".mutbot", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox"}
_NOISE |= {".pytest_cache", ".mypy_cache", ".ruff_cache", "site-packages", "dist", "build"}
# Listed, but settings found below them are not the deployment's: no targets from here.
_NOT_DEPLOYMENT = {".github", "tests", "test", "docs", "examples", "testdata", "fixtures", "vendor"}
_NOT_DEPLOYMENT |= _NOISE
# Developer tools' settings, not the service's.
_TOOL_CONFIGS = {"pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini", "mypy.ini", ".mypy.ini"}
_TOOL_CONFIGS |= {"ruff.toml", ".ruff.toml", "rustfmt.toml", ".rustfmt.toml", ".isort.cfg"}
_TOOL_CONFIGS |= {".bumpversion.cfg", "alembic.ini"}
_SECRET_HINTS = ("secret", "credential", "passw", "token", "private")
_SECRET_EXTENSIONS = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore")
_CONFIG_DIRS = ("config", "conf")  # at the root: every file below is a target
_K8S_DIRS = {"k8s", "kubernetes", "kube", "manifests", "deploy", "deployment", "deployments"}
_K8S_NAME = re.compile(r"(deployment|statefulset|daemonset|kustomization|k8s|kube)[\w.-]*\.ya?ml")
_COMPOSE = re.compile(r"(docker-)?compose([.-][\w.-]*)?\.ya?ml")
_DOCKERFILE = re.compile(r"(Dockerfile|Containerfile)([.-][\w.-]+)?|[\w.-]+\.[Dd]ockerfile")
_EXPOSE = re.compile(r"^\s*EXPOSE\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_VARIABLE = re.compile(r"\$\{?(\w+)(?::-([^}]*))?\}?")
_ASSIGN = re.compile(r"^\s*(?:ENV|ARG)\s+(\w+)(?:=|\s+)(\S+)", re.IGNORECASE | re.MULTILINE)

Reader = Callable[[str], str | None]

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("mutbot", "templates"),
    autoescape=False,  # YAML, not HTML
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def init(project: Path, *, force: bool = False, default_branch: str = "main") -> list[Path]:
    """Write `.mutbot.yml` in `project` and the workflow at the top of its git repository (the
    project itself outside git); return the (absolute) paths written. Refuses to overwrite
    unless `force`."""
    project = project.resolve()  # git gives the top resolved: compare like with like
    top = _git_top(project) or project
    config_path = project / CONFIG_NAME
    workflow_path = top / WORKFLOW_PATH
    if not force:
        for path in (config_path, project / ".github" / "mutbot.yml", workflow_path):
            if path.exists():
                raise ConfigError(f"{path} already exists; use --force to overwrite it")
    files = list_files(project)
    relative = os.path.relpath(project, top)
    config_ref = None if relative == "." else f"{Path(relative).as_posix()}/{CONFIG_NAME}"
    texts = {
        config_path: starter_config(files, lambda name: _read(project / name)),
        workflow_path: starter_workflow(default_branch, config=config_ref),
    }
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(texts)


def list_files(project: Path) -> list[str]:
    """The project's files relative to it: git's view (ignored files left out) when the folder
    is in a work tree, else a walk that skips caches and dependencies."""
    try:
        output = git.Git(project).ls_files("--cached", "--others", "--exclude-standard", "-z")
    except (git.GitCommandError, git.NoSuchPathError):
        output = None
    if output is not None:
        names = [n for n in output.split("\0") if n and (project / n).is_file()]
    else:
        names = []
        for folder, dirs, files in os.walk(project):
            dirs[:] = [d for d in dirs if d not in _NOISE]
            base = Path(folder).relative_to(project)
            names += [(base / f).as_posix() for f in files]
    return sorted(n for n in names if not set(n.split("/")[:-1]) & _NOISE)


def starter_config(files: list[str], read: Reader = lambda _: None) -> str:
    """The starter `.mutbot.yml` for a repository with these files (relative, `/`-separated);
    `read` gives a file's text when needed (the Dockerfile, pyproject.toml) or None."""
    dockerfiles = sorted((f for f in files if _is_dockerfile(f)), key=_dockerfile_rank)
    dockerfile = dockerfiles[0] if dockerfiles else "Dockerfile"
    port = exposed_port(read(dockerfile) or "") if dockerfiles else None
    targets = guess_targets(files, dockerfiles)
    # A target's text goes to the proposer (an LLM, perhaps): secrets inside a target glob
    # are protected, which keeps them from being read at all.
    secrets = sorted(f for f in files if _looks_secret(f) and matches(f, tuple(targets)))
    lines = [
        "# mutbot's settings (docs/config.md), written by `mutbot init` from the files it found.",
        "# Check the lines marked CHECK before the first run; `mutbot validate` checks the file.",
        "version: 1",
        "",
        "# Files candidates may change (globs relative to this folder; ** crosses folders).",
        "targets:",
        *(f"  - {_scalar(t)}" for t in targets),
    ]
    if not dockerfiles:
        lines.append("  # CHECK: no Dockerfile found; mutbot builds and measures a Docker image")
    lines += [
        "",
        "# Never read nor changed, whatever a candidate says (workflow changes are never pushed",
        "# anyway). Add anything a proposer must not see.",
        "protected:",
        '  - ".github/**"',
        *(_line(f"  - {_scalar(f)}", "looks like a secret") for f in secrets),
        "",
        "sandbox:",
        f"  dockerfile: {_scalar(dockerfile)}",
        _line("  context: .", "the build context, relative to this folder"),
        _port_line(dockerfile, port, bool(dockerfiles)),
        _line("  health: /healthz", "CHECK: a path that answers 2xx once the service is ready"),
        _line("  cpus: 1", "CHECK: set these to production's limits: every trial runs"),
        _line("  memory: 256m", "       with them, and the cost figures are computed at them"),
        "",
        "tests:",
        *_tests_lines(files, read),
        "",
        "load:",
        *_load_lines(files),
        "",
        "objective:",
        _line("  primary: latency_p95_ms", "or throughput_rps, cpu_ms_per_request, memory_peak_mb"),
    ]
    return "\n".join(lines) + "\n"


def guess_targets(files: Iterable[str], dockerfiles: list[str]) -> list[str]:
    """Dockerfiles first, then folder globs, then single settings files."""
    globs: list[str] = []
    singles: list[str] = []
    for name in files:
        parts = name.split("/")
        if set(parts[:-1]) & _NOT_DEPLOYMENT:
            continue
        if len(parts) > 1 and parts[0] in _CONFIG_DIRS:
            _add(globs, f"{parts[0]}/**")
        elif k8s := _k8s_glob(parts):
            _add(globs, k8s)
        elif _is_settings(parts[-1]) and name not in dockerfiles:
            singles.append(name)
    return [*(dockerfiles or ["Dockerfile"]), *globs, *singles]


def exposed_port(dockerfile: str) -> int | None:
    """The port of the last EXPOSE (the final stage's), following ENV/ARG defaults; None when
    there is none or it cannot be read."""
    text = dockerfile.replace("\\\n", " ")
    matches = list(_EXPOSE.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    value = last.group(1).split("/")[0]
    if variable := _VARIABLE.fullmatch(value):
        known = {m.group(1): m.group(2) for m in _ASSIGN.finditer(text, 0, last.start())}
        value = known.get(variable.group(1)) or variable.group(2) or ""
        value = value.strip("\"'")
    if value.isdigit() and 1 <= int(value) <= 65535:
        return int(value)
    return None


def starter_workflow(default_branch: str = "main", *, config: str | None = None) -> str:
    """`.github/workflows/mutbot.yml`: push to the default branch, weekly, `/mutate` comments
    and manual runs, one run at a time per repository."""
    template = _TEMPLATES.get_template("workflow.yml.j2")
    return template.render(
        branch=_scalar(default_branch), config=_scalar(config) if config else None
    )


def _is_dockerfile(name: str) -> bool:
    parts = name.split("/")
    return not set(parts[:-1]) & _NOT_DEPLOYMENT and bool(_DOCKERFILE.fullmatch(parts[-1]))


def _dockerfile_rank(name: str) -> tuple[bool, int, str]:
    """The root Dockerfile, then the shallowest plain `Dockerfile`, then the others."""
    return (posixpath.basename(name) != "Dockerfile", name.count("/"), name)


def _is_settings(base: str) -> bool:
    if base in _TOOL_CONFIGS:
        return False
    if base.endswith(".env"):
        return not _looks_secret(base)
    return (
        base.endswith((".ini", ".toml", ".cfg"))
        or base == "gunicorn.conf.py"
        or bool(_COMPOSE.fullmatch(base))
    )


def _looks_secret(name: str) -> bool:
    base = posixpath.basename(name).lower()
    return (
        base == ".env"
        or base.startswith(".env.")
        or base.endswith(_SECRET_EXTENSIONS)
        or any(hint in base for hint in _SECRET_HINTS)
    )


def _k8s_glob(parts: list[str]) -> str | None:
    if not parts[-1].endswith((".yml", ".yaml")):
        return None
    for depth, part in enumerate(parts[:-1]):
        if part in _K8S_DIRS:
            extension = posixpath.splitext(parts[-1])[1]
            return "/".join(parts[: depth + 1]) + f"/**/*{extension}"
    if _K8S_NAME.fullmatch(parts[-1]):
        return "/".join(parts)
    return None


def _port_line(dockerfile: str, port: int | None, found: bool) -> str:
    if port is not None:
        return _line(f"  port: {port}", f"from EXPOSE in {dockerfile}")
    why = "no EXPOSE could be read" if found else "no Dockerfile"
    return _line(f"  port: {DEFAULT_PORT}", f"CHECK: {why}; the port the service listens on")


def _tests_lines(files: list[str], read: Reader) -> list[str]:
    roots = {f.split("/")[0] for f in files if "/" in f and f.endswith(".py")}
    pyproject = read("pyproject.toml") if "pyproject.toml" in files else None
    if (
        {"pytest.ini", "conftest.py"} & set(files)
        or "[tool.pytest" in (pyproject or "")
        or {"tests", "test"} & roots
    ):
        command = "python -m pytest -q"
    elif "package.json" in files:
        command = "npm test"
    else:
        return [
            _line("  command: null", "CHECK: no test suite found; a command run inside the"),
            _line("", "built image that exits non-zero when the service is broken"),
        ]
    return [
        _line(f"  command: {command}", "CHECK: runs inside the built image, with no network:"),
        _line("", "the image must contain the tests and their runner"),
        "  timeout: 120s",
    ]


def _load_lines(files: list[str]) -> list[str]:
    found = sorted((f for f in files if posixpath.basename(f) == "locustfile.py"), key=_depth)
    if found:
        return [f"  locustfile: {_scalar(found[0])}", "  users: 20", "  duration: 20s"]
    return [
        _line(f"  locustfile: {DEFAULT_LOCUSTFILE}", "CHECK: write this file; for example:"),
        "  users: 20",
        "  duration: 20s",
        "#   from locust import HttpUser, task",
        "#",
        "#   class Visitor(HttpUser):",
        "#       @task",
        "#       def home(self) -> None:",
        '#           self.client.get("/")   # the requests production serves most',
    ]


def _depth(name: str) -> tuple[int, str]:
    return (name.count("/"), name)


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _line(content: str, comment: str) -> str:
    """A line with its comment in column 29 (at least one space before `#`, or YAML would read
    the `#` as part of the value)."""
    return f"{content:<27} # {comment}"


def _scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly `value`: plain when safe, else double-quoted
    (a JSON string is a valid YAML double-quoted scalar)."""
    if re.fullmatch(r"[A-Za-z0-9_.][\w./-]*", value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _git_top(project: Path) -> Path | None:
    try:
        top = git.Repo(project, search_parent_directories=True).working_tree_dir
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    return Path(top) if top else None
