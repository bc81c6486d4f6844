"""`mutbot init` (edge): list the repository's files, read them, and write the `.mutbot.yml`
that mutbot.discover guesses from them, a starting locustfile when there is none, and the
GitHub workflow that runs the bot. The texts come from pure functions; this module lists,
reads and writes. An existing locustfile is never overwritten."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import git
import jinja2

from mutbot.discover import render
from mutbot.discover.model import Repo
from mutbot.discover.plan import Plan, discover
from mutbot.errors import ConfigError
from mutbot.repofiles import list_files, reader

CONFIG_NAME = ".mutbot.yml"
WORKFLOW_PATH = ".github/workflows/mutbot.yml"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("mutbot", "templates"),
    autoescape=False,  # YAML, not HTML
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Written:
    paths: list[Path]  # absolute
    checks: int  # lines of the config marked CHECK
    locustfile: Path | None = None  # the locustfile written, if one was
    notes: list[str] = field(default_factory=list)


def init(
    project: Path, *, force: bool = False, default_branch: str = "main", service: str | None = None
) -> Written:
    """Write `.mutbot.yml` in `project`, a locustfile when it has none, and the workflow at the
    top of its git repository (the project itself outside git). Refuses to overwrite the config
    or the workflow unless `force`; never overwrites a locustfile."""
    project = project.resolve()  # git gives the top resolved: compare like with like
    top = _git_top(project) or project
    config_path = project / CONFIG_NAME
    workflow_path = top / WORKFLOW_PATH
    if not force:
        for path in (config_path, project / ".github" / "mutbot.yml", workflow_path):
            if path.exists():
                raise ConfigError(f"{path} already exists; use --force to overwrite it")
    plan = discover(Repo(list_files(project), reader(project)), service)
    relative = os.path.relpath(project, top)
    config_ref = None if relative == "." else f"{Path(relative).as_posix()}/{CONFIG_NAME}"
    config_text = render.config(plan)
    texts = {
        config_path: config_text,
        workflow_path: starter_workflow(default_branch, config=config_ref),
    }
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    written = list(texts)
    locustfile = _write_locustfile(project, plan)
    if locustfile is not None:
        written.append(locustfile)
    return Written(written, render.checks(config_text), locustfile, _ignored(project, written))


def starter_config(
    files: list[str], read: Callable[[str], str | None] = lambda _: None, service: str | None = None
) -> str:
    """The `.mutbot.yml` for a repository with these files (relative, `/`-separated); `read`
    gives a file's text or None."""
    return render.config(discover(Repo(files, read), service))


def starter_workflow(default_branch: str = "main", *, config: str | None = None) -> str:
    """`.github/workflows/mutbot.yml`: push to the default branch, weekly, `/mutate` comments
    and manual runs, one run at a time per repository."""
    template = _TEMPLATES.get_template("workflow.yml.j2")
    return template.render(
        branch=render.scalar(default_branch), config=render.scalar(config) if config else None
    )


def _write_locustfile(project: Path, plan: Plan) -> Path | None:
    if not plan.new_locustfile:
        return None
    path = project / plan.locustfile.value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # never over an existing file
            out.write(render.locustfile(plan))
    except FileExistsError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the locustfile: {exc.strerror}") from None
    return path


def _ignored(project: Path, paths: list[Path]) -> list[str]:
    """Notes for the written files git would ignore (a `.gitignore` that hides dot-files)."""
    names = [os.path.relpath(p, project) for p in paths]
    try:
        output = git.Git(project).check_ignore("--verbose", *names)
    except (git.GitCommandError, git.NoSuchPathError):
        return []  # not a work tree, or nothing ignored (exit code 1)
    notes = []
    for row in output.splitlines():
        found = re.fullmatch(r"(.+?):(\d+):(.*)\t(.+)", row)
        if found and found[3] and not found[3].startswith("!"):
            name = found[4]
            notes.append(
                f"git ignores {name} (rule `{found[3]}` in {found[1]}:{found[2]}): commit it "
                f"with `git add -f {name}`"
            )
    return notes


def _git_top(project: Path) -> Path | None:
    try:
        top = git.Repo(project, search_parent_directories=True).working_tree_dir
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    return Path(top) if top else None
