"""What `mutbot validate` (and every run, before it builds anything) checks beyond the config's
shape (edge: reads the files the config names): each path exists inside the project once
symlinks are resolved, the locustfile parses and defines a user class (read with `ast`, never
imported), and a compose file validates and names the service. Every problem is a line
`FILE: key: what is wrong`; all of them make one ConfigError."""

from __future__ import annotations

import ast
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mutbot import untrusted
from mutbot.compose_file import with_compose
from mutbot.config import Config
from mutbot.errors import ConfigError
from mutbot.units import shown

if TYPE_CHECKING:
    from mutbot.worktree import Workspace

MAX_LOCUSTFILE = 1024**2  # bytes
USER_BASES = ("HttpUser", "FastHttpUser", "User")

Kind = Literal["file", "folder"]
_BUILD_FILES: tuple[tuple[str, Kind], ...] = (("dockerfile", "file"), ("context", "folder"))


@dataclass(frozen=True)
class Checked:
    config: Config  # with the sandbox a compose file describes filled in
    notes: tuple[str, ...]  # what the compose file's sandbox left out, and why
    service: str | None = None  # the compose service the sandbox is read from


def check_project(config: Config, project: Path, path: Path, *, build_files: bool) -> Checked:
    """Every check; `build_files`: also that the Dockerfile and the build context exist (a
    run leaves that to its build step, which a local backend has none of)."""
    problems: list[str] = []
    written = config.sandbox.model_fields_set
    named: list[tuple[str, str | None, Kind]] = [
        ("load.locustfile", config.load.locustfile, "file"),
        ("sandbox.compose", config.sandbox.compose, "file"),
        ("propose.prompts", config.propose.prompts, "folder"),
    ]
    for key, kind in _BUILD_FILES:
        if build_files and _builds(config) and (key in written or not config.sandbox.compose):
            named.append((f"sandbox.{key}", getattr(config.sandbox, key), kind))
    found = {key: _where(project, value, kind) for key, value, kind in named if value}
    problems += [f"{path}: {key}: {why}" for key, why in found.items() if isinstance(why, str)]
    locustfile = found.get("load.locustfile")
    if isinstance(locustfile, Path):
        problems += [
            f"{path}: load.locustfile: {why}"
            for why in locust_problems(locustfile, config.load.locustfile)
        ]
    notes: tuple[str, ...] = ()
    service = None
    if isinstance(found.get("sandbox.compose"), Path):
        try:
            sandbox, derived = with_compose(config.sandbox, project)
        except ConfigError as exc:
            problems.append(str(exc))
        else:
            compose = project / str(config.sandbox.compose)
            notes = tuple(f"{compose}: {note}" for note in derived.notes)
            config, service = config.model_copy(update={"sandbox": sandbox}), derived.service
            for key, kind in _BUILD_FILES:
                why = _where(project, getattr(sandbox, key), kind if build_files else None)
                if isinstance(why, str) and key not in written:  # else checked above
                    problems.append(f"{compose}: services.{service}.build.{key}: {why}")
    if problems:
        raise ConfigError("\n".join(problems))
    return Checked(config, notes, service)


def locust_problems(path: Path, name: str) -> list[str]:
    """Why the locustfile at `path` (`name` in messages) would not run: it does not parse, or
    defines no user class."""
    try:
        source = untrusted.read(path, MAX_LOCUSTFILE).decode("utf-8")
        tree = ast.parse(source, filename=name)
    except OSError as exc:
        return [f"cannot read {shown(name)}: {exc.strerror}"]
    except UnicodeDecodeError as exc:
        return [f"{shown(name)} is not UTF-8 text (byte {exc.start + 1})"]
    except SyntaxError as exc:
        line = f": line {exc.lineno}" if exc.lineno else ""
        return [f"{shown(name)} does not parse{line}: {exc.msg}"]
    except (ValueError, RecursionError, MemoryError) as exc:  # too large, NUL bytes, too deep
        return [f"{shown(name)} cannot be read as Python: {str(exc)[:120]}"]
    if not user_classes(tree):
        return [
            f"{shown(name)} defines no user class (a class deriving from "
            f"{', '.join(USER_BASES)}, with tasks); see docs/config.md"
        ]
    return []


def user_classes(tree: ast.Module) -> list[str]:
    """The classes Locust would run: deriving from a `*User` base (HttpUser, FastHttpUser,
    User, or one of the file's own), not marked `abstract = True`."""
    users: set[str] = set()
    runnable = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
        if any(base.endswith("User") or base in users for base in bases):
            users.add(node.name)
            if not _abstract(node):
                runnable.append(node.name)
    return runnable


def committed(workspace: Workspace, locustfile: str) -> None:
    """The locustfile must be in the commit a run measures, not only in the folder."""
    tree = workspace.repo.commit(workspace.base).tree
    name = posixpath.normpath("/".join(p for p in (workspace.prefix, locustfile) if p))
    try:
        tree / name
    except KeyError:
        raise ConfigError(
            f"load.locustfile: {shown(locustfile)} is not in the last commit "
            f"({workspace.base[:7]}); commit it (a run builds and loads the last commit)"
        ) from None


def _abstract(node: ast.ClassDef) -> bool:
    for statement in node.body:
        if (
            isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "abstract" for t in statement.targets)
            and isinstance(statement.value, ast.Constant)
        ):
            return statement.value.value is True
    return False


def _builds(config: Config) -> bool:
    """Whether the config builds an image: not when it only starts a local command."""
    sandbox = config.sandbox
    written = sandbox.model_fields_set & {"dockerfile", "context", "build", "compose"}
    return sandbox.local_command is None or bool(written)


def _where(project: Path, value: str, kind: Kind | None) -> Path | str:
    """The resolved path of `value`, or why it is no good: outside the project, missing, not
    a `kind` (None: need not exist)."""
    root = project.resolve()
    try:
        where = (root / value).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return f"cannot resolve the path {shown(value)}"
    if not where.is_relative_to(root):
        return (
            f"must stay inside the project folder {root}, got {shown(value)} (resolves to "
            f"{shown(str(where))})"
        )
    if kind is None:
        return where
    try:
        exists, is_kind = where.exists(), where.is_file() if kind == "file" else where.is_dir()
    except OSError as exc:
        return f"cannot read {shown(value)}: {exc.strerror}"
    if not exists:
        return f"{shown(value)} does not exist"
    if not is_kind:
        return f"{shown(value)} is not a {kind}"
    return where
