"""Package-manager commands in a line of shell: simple commands, pip arguments and requirement
files, manifest installs, system packages and build tools."""

from __future__ import annotations

import pytest

from mutbot.shellcmds import (
    commands,
    dependency_install,
    is_build_package,
    packages,
    pip_install_args,
    requirement_files,
)


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("apt-get update && sudo apt-get install -y curl", [["apt-get", "update"],
                                                           ["apt-get", "install", "-y", "curl"]]),
        ("--mount=type=cache,target=/root/.cache pip install x", [["pip", "install", "x"]]),
        ("PIP_NO_CACHE_DIR=1 pip install x; env A=1 exec gunicorn app:app",
         [["pip", "install", "x"], ["gunicorn", "app:app"]]),
        ('["pip", "install", "flask"]', [["pip", "install", "flask"]]),
        ('echo "unterminated', [["echo", '"unterminated']]),
    ],
)  # fmt: skip
def test_commands(run: str, expected: list[list[str]]) -> None:
    assert commands(run) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("pip install -r r.txt", ["-r", "r.txt"]),
        ("pip3.12 install x", ["x"]),
        ("python3 -m pip install -U pip", ["-U", "pip"]),
        ("pip wheel x", None),
        ("uv pip install x", None),
    ],
)
def test_pip_install_args(words: str, expected: list[str] | None) -> None:
    assert pip_install_args(words.split(" ")) == expected


def test_requirement_files() -> None:
    args = ["-r", "a.txt", "--requirement=b.txt", "-rc.txt", "-c", "constraints.txt"]
    args += ["--constraint=d.txt", "x"]
    assert requirement_files(args) == ["a.txt", "b.txt", "c.txt", "constraints.txt", "d.txt"]


@pytest.mark.parametrize(
    ("words", "label"),
    [
        ("npm ci --omit=dev", "npm ci"),
        ("yarn --frozen-lockfile", "yarn install"),
        ("pnpm install", "pnpm install"),
        ("poetry install --no-root", "poetry install"),
        ("go mod download", "go mod download"),
        ("pip install --requirement requirements.txt", "pip install -r"),
        ("pip install flask", None),
        ("npm install -g pm2", None),
        ("npm run build", None),
    ],
)
def test_dependency_install(words: str, label: str | None) -> None:
    assert dependency_install(words.split(" ")) == label


def test_packages_and_build_tools() -> None:
    words = ["apt-get", "install", "-y", "--no-install-recommends", "gcc", "libpq-dev=15.1", "curl"]
    assert packages(words) == ["gcc", "libpq-dev", "curl"]
    assert packages(["apt-get", "update"]) == []
    assert [p for p in packages(words) if is_build_package(p)] == ["gcc", "libpq-dev"]
    assert is_build_package("g++-12") and is_build_package("postgresql-devel")
    assert not is_build_package("libpq5")
