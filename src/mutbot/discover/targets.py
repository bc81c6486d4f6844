"""The files candidates may change (pure): only what the sandbox consumes — the Dockerfile, the
entrypoint scripts and server settings its command reads, the settings files and requirement
files the image copies in. Files that look like secrets are never targets; those a target glob
reaches are protected, so no proposer reads them."""

from __future__ import annotations

import posixpath
import re

from mutbot.discover.dockerfiles import Image, dockerignore, image_path, repo_path
from mutbot.discover.model import Guess, Repo, Source, join
from mutbot.globs import matches
from mutbot.shellcmds import commands, pip_install_args, requirement_files

_NOT_DEPLOYMENT = {".github", "tests", "test", "docs", "examples", "testdata", "fixtures"}
_NOT_DEPLOYMENT |= {"vendor", "node_modules", ".venv", "venv", "site-packages", "migrations"}
# Developer tools' settings, not the service's.
_TOOL_CONFIGS = {"pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini", "mypy.ini", ".mypy.ini"}
_TOOL_CONFIGS |= {"ruff.toml", ".ruff.toml", "rustfmt.toml", ".rustfmt.toml", ".isort.cfg"}
_TOOL_CONFIGS |= {".bumpversion.cfg", "alembic.ini", ".flake8", "package-lock.json"}
_SECRET_HINTS = ("secret", "credential", "passw", "token", "private")
_SECRET_EXTENSIONS = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".crt")
_CONFIG_DIRS = ("config", "conf")  # at the top of the build context: one glob for all
_SERVER_SETTINGS = re.compile(
    r"(gunicorn[\w.-]*\.conf\.py|gunicorn_conf(ig)?\.py|uwsgi[\w.-]*\.(ini|ya?ml)|"
    r"ecosystem[\w.-]*\.(c?js|json|ya?ml)|pm2[\w.-]*\.(json|ya?ml)|nginx[\w.-]*\.conf|"
    r"hypercorn[\w.-]*\.toml|supervisord[\w.-]*\.conf)"
)


def looks_secret(path: str) -> bool:
    base = posixpath.basename(path).lower()
    return (
        base == ".env"
        or base.startswith(".env.")
        or base.endswith(_SECRET_EXTENSIONS)
        or any(hint in base for hint in _SECRET_HINTS)
    )


def is_settings(path: str) -> bool:
    base = posixpath.basename(path)
    if base in _TOOL_CONFIGS or looks_secret(path):
        return False
    django = base == "settings.py" or ("/settings/" in f"/{path}" and base.endswith(".py"))
    return (
        base.endswith((".ini", ".toml", ".cfg", ".conf", ".env"))
        or bool(_SERVER_SETTINGS.fullmatch(base))
        or (django and base != "__init__.py")
    )


def targets(repo: Repo, image: Image, context: str, read: tuple[str, ...]) -> list[Guess[str]]:
    """The Dockerfile first, then what its command reads, then settings and requirements."""
    found = [Guess(image.path, "the Dockerfile the sandbox builds")]
    for path in read:
        if path in repo.fileset and not looks_secret(path):
            found.append(Guess(path, "read by the service's command"))
    for path, where in installed_requirements(repo, image, context):
        found.append(Guess(path, "the requirements the image installs", where))
    left_out = dockerignore(repo, context)
    for path in sorted(repo.under(context)):
        rel = path[len(context) + 1 :] if context not in ("", ".") else path
        parts = rel.split("/")
        if set(parts[:-1]) & _NOT_DEPLOYMENT or left_out(path):
            continue
        if image_path(image, context, path) is None:
            continue
        if len(parts) > 1 and parts[0] in _CONFIG_DIRS:
            found.append(Guess(join(context, f"{parts[0]}/**"), "settings the image copies in"))
        elif is_settings(path):
            found.append(Guess(path, "settings the image copies in"))
    unique: dict[str, Guess[str]] = {}
    for guess in found:
        unique.setdefault(guess.value, guess)
    return list(unique.values())


def installed_requirements(repo: Repo, image: Image, context: str) -> list[tuple[str, Source]]:
    found = []
    for value, where in (*image.builder_runs, *image.runs):
        for words in commands(value):
            for file in requirement_files(pip_install_args(words) or []):
                path = repo_path(repo, image, context, file) or join(context, file)
                if path in repo.fileset:
                    found.append((path, where))
    return found


def protected(repo: Repo, globs: list[str]) -> list[Guess[str]]:
    """`.github/**`, and the files that look like secrets inside the targets."""
    found = [Guess(".github/**", "workflows: never changed by a candidate")]
    for path in sorted(repo.files):
        if looks_secret(path) and matches(path, tuple(globs)):
            found.append(Guess(path, "looks like a secret: never read"))
    return found
