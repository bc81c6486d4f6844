"""Package-manager commands in a line of shell (pure): a Dockerfile RUN's or a script's simple
commands and what they install (pip arguments and requirement files, manifest installs, system
packages). Shared by discovery and the Dockerfile pack.

Commands are split on `&&`, `||`, `;` and `|` and tokenised with shlex, which is a heuristic
but good enough to recognise package-manager calls."""

from __future__ import annotations

import json
import re

from mutbot.shellwords import simple_commands

_BUILD_PACKAGES = {"build-essential", "build-base", "gcc", "g++", "make", "cmake", "clang"}
_MANIFEST_INSTALLS = {
    ("poetry", "install"), ("pipenv", "install"), ("pipenv", "sync"), ("uv", "sync"),
    ("bundle", "install"), ("composer", "install"),
}  # fmt: skip


def commands(run_value: str) -> list[list[str]]:
    """The simple commands of a RUN, without leading flags, VAR=value prefixes or sudo."""
    text = run_value.strip()
    if text.startswith("["):
        try:
            words = json.loads(text)
            return [[str(w) for w in words]] if isinstance(words, list) else []
        except ValueError:
            pass
    while text.startswith("--"):  # RUN --mount=... --network=...
        text = text.split(None, 1)[1] if " " in text else ""
    return simple_commands(text, wrappers=("sudo", "env", "exec"))


def pip_install_args(words: list[str]) -> list[str] | None:
    """The arguments after `pip install` (also pip3, python -m pip), else None."""
    if words and re.fullmatch(r"python[\d.]*", words[0]) and words[1:3] == ["-m", "pip"]:
        words = words[2:]
    if len(words) >= 2 and re.fullmatch(r"pip[\d.]*", words[0]) and words[1] == "install":
        return words[2:]
    return None


def requirement_files(args: list[str]) -> list[str]:
    """The files named with -r/--requirement (and -c/--constraint) in pip arguments."""
    files = []
    for i, arg in enumerate(args):
        if arg in ("-r", "--requirement", "-c", "--constraint") and i + 1 < len(args):
            files.append(args[i + 1])
        elif arg.startswith(("--requirement=", "--constraint=")):
            files.append(arg.split("=", 1)[1])
        elif re.fullmatch(r"-[rc]\S+", arg):
            files.append(arg[2:])
    return files


def dependency_install(words: list[str]) -> str | None:
    """A short label when the command installs dependencies from a manifest."""
    pip = pip_install_args(words)
    if pip is not None:
        return "pip install -r" if any(a.startswith(("-r", "--requirement")) for a in pip) else None
    head, positional = words[0], [w for w in words[1:] if not w.startswith("-")]
    if head in ("npm", "pnpm"):
        return f"{head} {positional[0]}" if positional in (["ci"], ["install"], ["i"]) else None
    if head == "yarn":
        return "yarn install" if positional in ([], ["install"]) else None
    if head == "go":
        return "go mod download" if positional[:2] == ["mod", "download"] else None
    if positional and (head, positional[0]) in _MANIFEST_INSTALLS:
        return f"{head} {positional[0]}"
    return None


def packages(words: list[str]) -> list[str]:
    """Packages an apt-get/apt/apk/yum/dnf install command names (version pins dropped)."""
    if len(words) < 2 or (words[0], words[1]) not in {
        ("apt-get", "install"), ("apt", "install"), ("apk", "add"),
        ("yum", "install"), ("dnf", "install"), ("microdnf", "install"),
    }:  # fmt: skip
        return []
    return [re.split(r"[=<>]", w, maxsplit=1)[0] for w in words[2:] if not w.startswith("-")]


def is_build_package(name: str) -> bool:
    return (
        name in _BUILD_PACKAGES
        or name.endswith(("-dev", "-devel"))
        or bool(re.fullmatch(r"(gcc|g\+\+)-\d+", name))
    )
