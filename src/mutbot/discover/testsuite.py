"""Whether the tests can run inside the built image, and with which command (pure): the tests
must be in the build context (not left out by .dockerignore) and copied into the image, their
runner installed in it (what the Dockerfile installs, not what a developer installs), and the
database they need, if any, started as a sandbox service."""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass

from mutbot.discover.dockerfiles import Image, dockerignore, image_path, repo_path
from mutbot.discover.model import Guess, Repo, Source, join
from mutbot.shellcmds import commands, pip_install_args, requirement_files

_TEST_FILE = re.compile(
    r"(^|/)(tests?|__tests__|spec)/.*\.(py|js|mjs|ts)$"
    r"|(^|/)(tests?\.py|test_[^/]*\.py|[^/]*_test\.(py|go)|[^/]*\.(test|spec)\.(js|mjs|ts))$"
)
# pytest's own style: it imports pytest, or has test functions or classes unittest cannot run
_PYTEST = re.compile(r"^(import pytest|from pytest|def test_|async def test_|class Test\w*:)", re.M)
_UNITTEST = re.compile(r"\bunittest\b|\bTestCase\b")
_DJANGO_TEST = re.compile(r"\bdjango\.test\b")
_DB_HINT = re.compile(r"postgres|psycopg|mysql|DATABASE_URL|SQL_HOST|DB_HOST", re.IGNORECASE)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_DATABASES = ("postgres", "mysql", "mariadb", "mongo", "postgis")
_NPM_DEFAULT = 'echo "Error: no test specified" && exit 1'


@dataclass(frozen=True)
class Setting:
    """What the tests decision needs to know of the chosen service."""

    repo: Repo
    image: Image
    context: str
    services: dict[str, str]  # sandbox service name -> image
    env: dict[str, str]  # the service's environment in the sandbox


def tests(s: Setting) -> Guess[str | None]:
    left_out = dockerignore(s.repo, s.context)
    inside = [
        f for f in s.repo.under(s.context) if _TEST_FILE.search(f) and "node_modules/" not in f
    ]
    if not inside:
        return Guess(None, "no test files found in the build context")
    shipped = [f for f in inside if not left_out(f) and image_path(s.image, s.context, f)]
    if not shipped:
        why = (
            ".dockerignore leaves them out"
            if all(left_out(f) for f in inside)
            else "no COPY takes them"
        )
        return Guess(None, f"the tests ({_folder(inside)}) are not in the image: {why}")
    python = [f for f in shipped if f.endswith(".py")]
    if python:
        return _python(s, python)
    if any(f.endswith(".go") for f in shipped):
        return _go(s)
    return _node(s, shipped)


def _folder(files: list[str]) -> str:
    return posixpath.dirname(files[0]) + "/" if posixpath.dirname(files[0]) else files[0]


def _python(s: Setting, files: list[str]) -> Guess[str | None]:
    texts = {f: s.repo.read(f) or "" for f in files[:200]}
    installed = python_packages(s.repo, s.image, s.context)
    database = _database(s)
    if any(_DJANGO_TEST.search(t) for t in texts.values()):
        manage = next(
            (f for f in s.repo.under(s.context) if posixpath.basename(f) == "manage.py"), None
        )
        if manage is None:
            return Guess(None, "Django tests, but no manage.py in the build context")
        if database is None and _needs_database(s, manage):
            return Guess(None, "Django's tests need the database, and it is not a sandbox service")
        folder = posixpath.relpath(
            posixpath.dirname(image_path(s.image, s.context, manage) or "/"), s.image.workdir
        )
        command = "python manage.py test" if folder == "." else f"python {folder}/manage.py test"
        return Guess(command, _with_db("Django tests", database), Source(manage))
    needs = [f for f, t in texts.items() if _DB_HINT.search(t) and "sqlite" not in t]
    if needs and database is None:
        return Guess(
            None, f"the tests need a database ({needs[0]}), and it is not a sandbox service"
        )
    with_db = database if needs else None
    pytest_style = [f for f, t in texts.items() if _PYTEST.search(t) or f.endswith("conftest.py")]
    if pytest_style:
        if "pytest" not in installed:
            return Guess(
                None,
                f"the tests use pytest ({pytest_style[0]}), which the image does not install"
                + _named_in(s.repo, s.context, "pytest"),
            )
        why = _with_db("pytest is installed in the image", with_db)
        return Guess("python -m pytest -q", why, Source(pytest_style[0]))
    unittest = [f for f, t in texts.items() if _UNITTEST.search(t)]
    if unittest:
        why = _with_db("unittest tests, the runner comes with Python", with_db)
        return Guess(f"python -m unittest discover -s {_start(s, files)}", why, Source(unittest[0]))
    return Guess(None, f"Python test files ({_folder(files)}) use no runner mutbot knows")


def _with_db(why: str, database: str | None) -> str:
    return f"{why}; with the database service {database}" if database else why


def _database(s: Setting) -> str | None:
    return next((n for n, i in s.services.items() if any(d in i for d in _DATABASES)), None)


def _needs_database(s: Setting, manage: str) -> bool:
    settings = [
        f
        for f in s.repo.under(posixpath.dirname(manage) or ".")
        if f.endswith("settings.py") or "/settings/" in f
    ]
    text = " ".join(s.repo.read(f) or "" for f in settings[:10])
    return bool(
        re.search(r"postgres|mysql|dj_database_url|DATABASE_URL", text)
    ) and "sqlite3" not in " ".join(s.env.values())


def _start(s: Setting, files: list[str]) -> str:
    """The unittest start folder, relative to the image's WORKDIR."""
    folder = posixpath.dirname(image_path(s.image, s.context, files[0]) or "") or "."
    top = posixpath.relpath(folder, s.image.workdir)
    return top.split("/")[0] if not top.startswith("..") else folder


def python_packages(repo: Repo, image: Image, context: str) -> set[str]:
    """The Python packages the image's pip, poetry, pipenv or uv installs name."""
    names: set[str] = set()
    locate: Callable[[str], str | None] = lambda p: repo_path(repo, image, context, p)  # noqa: E731
    for value, _ in (*image.runs, *image.builder_runs):
        for words in commands(value):
            args = pip_install_args(words)
            if args is not None:
                names |= {_name(a) for a in args if not a.startswith("-") and a not in (".",)}
                for file in requirement_files(args):
                    names |= _requirements(repo, locate(file) or join(context, file))
                if any(a in (".", "-e") or a.startswith(".[") for a in args):
                    names |= _pyproject(repo, context, all_extras=True)
            elif words[:2] in (["poetry", "install"], ["uv", "sync"], ["pipenv", "install"]):
                with_dev = (
                    not any(w in words for w in ("--no-dev", "--without", "--only", "--deploy"))
                    or "--dev" in words
                )
                names |= _pyproject(repo, context, all_extras=with_dev)
    return names


def _named_in(repo: Repo, context: str, package: str) -> str:
    """(only requirements-dev.txt names it)", for the message."""
    for path in repo.under(context):
        if re.search(r"requirements[^/]*\.(txt|in)$", path) and package in _requirements(
            repo, path
        ):
            return f" (only {path} names it)"
    return ""


def _name(requirement: str) -> str:
    found = _NAME.match(requirement)
    return found[1].lower().replace("_", "-") if found else ""


def _requirements(repo: Repo, path: str, depth: int = 0) -> set[str]:
    names: set[str] = set()
    for row in (repo.read(path) or "").splitlines():
        row = row.split("#", 1)[0].strip()
        if row.startswith(("-r", "--requirement")) and depth < 5:
            included = row.split(None, 1)[-1] if " " in row else row[2:]
            names |= _requirements(repo, join(posixpath.dirname(path), included.strip()), depth + 1)
        elif row and not row.startswith("-"):
            names.add(_name(row))
    return names


def _pyproject(repo: Repo, context: str, all_extras: bool) -> set[str]:
    try:
        data = tomllib.loads(repo.read(join(context, "pyproject.toml")) or "")
        pipfile = tomllib.loads(repo.read(join(context, "Pipfile")) or "")
    except tomllib.TOMLDecodeError:
        return set()
    project = data.get("project", {})
    listed = list(project.get("dependencies", []))
    poetry = data.get("tool", {}).get("poetry", {})
    listed += list(poetry.get("dependencies", {}))
    listed += list(pipfile.get("packages", {}))
    if all_extras:
        for extra in project.get("optional-dependencies", {}).values():
            listed += list(extra)
        for group in data.get("dependency-groups", {}).values():
            listed += [g for g in group if isinstance(g, str)]
        listed += list(poetry.get("dev-dependencies", {}))
        for group in poetry.get("group", {}).values():
            listed += list(group.get("dependencies", {}))
        listed += list(pipfile.get("dev-packages", {}))
    return {_name(str(r)) for r in listed}


def _go(s: Setting) -> Guess[str | None]:
    toolchain = "golang" in s.image.base or any(
        "golang" in value or (re.search(r"\bgo\d*\b", value) and "install" in value)
        for value, _ in s.image.runs
    )
    if not toolchain:
        return Guess(None, "Go tests need the Go toolchain, and the final image has none")
    return Guess(
        "go test ./...",
        "the image has the Go toolchain",
        s.image.cmd.source if s.image.cmd else None,
    )


def _node(s: Setting, files: list[str]) -> Guess[str | None]:
    path = next(
        (
            f
            for f in s.repo.under(s.context)
            if posixpath.basename(f) == "package.json" and "node_modules/" not in f
        ),
        None,
    )
    try:
        package = json.loads(s.repo.read(path) or "{}") if path else {}
    except ValueError:
        package = {}
    script = (package.get("scripts") or {}).get("test") if isinstance(package, dict) else None
    if not isinstance(script, str) or script.strip() == _NPM_DEFAULT or path is None:
        return Guess(None, "package.json has no test script")
    words = [w for w in script.split() if "=" not in w and w != "cross-env"]
    runner = words[0] if words else "node"
    if runner in ("node", "npm", "npx") and runner != "npx":
        return Guess("npm test", f"npm test runs {script!r}", Source(path))
    dependencies = package.get("dependencies") or {}
    dev = package.get("devDependencies") or {}
    if runner in dependencies or (runner in dev and _installs_dev(s.image)):
        return Guess("npm test", f"{runner} is installed in the image", Source(path))
    if runner in dev:
        return Guess(
            None, f"the test runner {runner} is a devDependency, which the image does not install"
        )
    return Guess(None, f"the test runner {runner} is not installed in the image")


def _installs_dev(image: Image) -> bool:
    if image.env.get("NODE_ENV", ("", None))[0] == "production":
        return False
    for value, _ in image.runs:
        for words in commands(value):
            if (
                words[:1] in (["npm"], ["yarn"], ["pnpm"])
                and any(w in ("ci", "install", "i") for w in words[1:2])
            ) or words[:1] == ["yarn"]:
                return not any(
                    re.match(r"--(omit=dev|only=prod|production|prod)", w) for w in words
                )
    return False
