"""Network fetches a change adds to what the build runs (pure).

Builds keep the network (real Dockerfiles install packages), so a candidate may not add a fetch
its baseline did not have: `curl`/`wget`, `ADD <url>`, `git clone`, `pip install` of a URL or
VCS spec, a new package index (`--index-url`, `--extra-index-url`, `PIP_INDEX_URL`, `registry=`
in `.npmrc`, an apt `deb` line). A fetch is known by what it fetches (its URL; the whole command
for `curl $URL` and the like), so a fetch moved or reformatted within a file, or into a renamed
file, is not new; a changed URL is.

What is read: Dockerfile `RUN`, `ADD`, `ENV` and `ARG` (continuation lines joined; `CMD` and
`HEALTHCHECK` run later, without a route out); shell scripts (every URL a command names);
requirement files and package-manager settings (every URL); in any other text file, only the
commands above. A heuristic over text, like the detectors: it errs towards refusing.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable

from mutbot.shellwords import simple_commands

# scheme://… (git+https, s3, ftp…) or git@host:…; file:// and paths are local
_URL = re.compile(r"(?i)(?<![\w+.-])(?:[a-z][a-z0-9+.-]*://|git@[\w.-]+:)[^\s\"'`<>,;|&)\]}]+")
_INDEX_VAR = re.compile(
    r"(?i)\b(PIP_(?:EXTRA_)?INDEX_URL|PIP_FIND_LINKS|UV_(?:EXTRA_|DEFAULT_)?INDEX(?:_URL)?"
    r"|UV_FIND_LINKS|NPM_CONFIG_REGISTRY|YARN_REGISTRY|POETRY_REPOSITORIES_\w+_URL)"
    r"[ \t]*[= \t][ \t]*[\"']?([^\s\"']+)"
)
_APT_SOURCE = re.compile(r"\bdeb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+://\S+)")
_SPLIT = re.compile(r"&&|\|\||\$\(|[;|&()`\n]")
_WRAPPERS = {"sudo", "env", "exec", "nohup", "time", "command", "xargs", "then", "do", "else"}
_DOWNLOADERS = {"curl", "wget", "aria2c"}
_GIT_FETCHES = {"clone", "fetch", "pull", "submodule", "ls-remote", "archive"}
_PACKAGERS = {"npm", "pnpm", "yarn", "bun", "apk", "apt-get", "apt", "gem", "cargo", "go"}
_SETTINGS = {
    "pip.conf", "pip.ini", ".npmrc", ".yarnrc", ".yarnrc.yml", ".condarc", "uv.toml",
    "poetry.toml", "Pipfile", "pyproject.toml", "package.json",
}  # fmt: skip
# run when the container runs, on a network with no route out; or not run at all
_LATER = {
    "CMD", "ENTRYPOINT", "HEALTHCHECK", "LABEL", "EXPOSE", "STOPSIGNAL", "USER", "WORKDIR",
    "VOLUME", "SHELL", "MAINTAINER", "FROM", "COPY",
}  # fmt: skip
_SHELLS = re.compile(r"#!\s*\S*\b(?:sh|bash|dash|ash|zsh|ksh)\b")

Fetches = dict[str, str]  # what is fetched -> how the file says it


def added(path: str, old: str, new: str, elsewhere: Iterable[tuple[str, str]] = ()) -> list[str]:
    """How the new text fetches what neither the old text nor `elsewhere` (path, text) did."""
    before = find(path, old)
    for other, text in elsewhere:
        before.update(find(other, text))
    after = find(path, new)
    return [after[key] for key in sorted(after.keys() - before.keys())]


def find(path: str, text: str) -> Fetches:
    name = posixpath.basename(path)
    if _is_dockerfile(name):
        return _dockerfile(text)
    if name in _SETTINGS or re.search(r"(?i)(requirements|constraints).*\.(txt|in)$", path):
        return {url: url for url in _urls(text)}
    shell = name.endswith((".sh", ".bash")) or bool(_SHELLS.match(text))
    return _shell(text, strict=shell)


def _is_dockerfile(name: str) -> bool:
    plain = name in ("Dockerfile", "Containerfile") or name.endswith(".Dockerfile")
    return plain or name.startswith(("Dockerfile.", "Containerfile."))


def _urls(text: str) -> list[str]:
    return [u for u in _URL.findall(text) if not u.lower().startswith("file:")]


def _dockerfile(text: str) -> Fetches:
    fetches: Fetches = {}
    for line in instructions(text):
        name, _, value = line.strip().partition(" ")
        name = name.upper()
        if name == "ONBUILD":
            name, _, value = value.strip().partition(" ")
            name = name.upper()
        if name in ("ENV", "ARG"):
            fetches.update(_indexes(value))
        elif name == "ADD":
            fetches.update({url: f"ADD {url}" for url in _sources(value) if _urls(url)})
        elif name not in _LATER:  # RUN, and whatever else: read as the shell would
            fetches.update(_shell(re.sub(r"^\s*(?:--\S+\s+)*", "", value), strict=True))
    return fetches


def instructions(text: str) -> list[str]:
    """A Dockerfile's instructions, continuation lines joined as Docker joins them: the escape
    character and line break dropped, blank and comment lines inside skipped, and the end of
    the file ending the last one (dockerfile-parse drops that one and splits at blank lines)."""
    escape = "\\"
    directive = re.match(r"\s*#\s*escape\s*=\s*([\\`])", text)
    if directive:
        escape = directive.group(1)
    result, current = [], None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ending = re.search(rf"{re.escape(escape)}[ \t]*$", line)
        part = line[: ending.start()] if ending else line
        current = part if current is None else current + part
        if not ending:
            result.append(current)
            current = None
    if current is not None:
        result.append(current)
    return result


def _sources(value: str) -> list[str]:
    if value.lstrip().startswith("["):
        try:
            words = json.loads(value)
        except ValueError:
            words = value.split()
    else:
        words = value.split()
    words = [str(w) for w in words if not str(w).startswith("--")]
    return words[:-1]


def _indexes(text: str) -> Fetches:
    found = {value: f"{var}={value}" for var, value in _INDEX_VAR.findall(text)}
    found.update({url: f"deb {url}" for url in _APT_SOURCE.findall(text)})
    return found


def _shell(text: str, strict: bool) -> Fetches:
    """Fetches in shell text; `strict` (RUN lines, scripts): every URL a command names."""
    fetches: Fetches = {}
    for line in re.sub(r"\\\r?\n", "", text).split("\n"):
        line = re.sub(r"(?:^|\s)#.*", "", line)
        fetches.update(_indexes(line))
        for words in _commands(line):
            head, args = posixpath.basename(words[0]), words[1:]
            tool = _tool(head, args)
            urls = [u for arg in args for u in _urls(arg)]
            if tool is not None or strict:
                for url in urls:
                    fetches.setdefault(url, f"{tool or head} {url}")
            if tool is not None and not urls and tool.split()[0] in ("git", *_DOWNLOADERS):
                command = " ".join([head, *args])  # `curl "$URL"`: known by the whole command
                fetches.setdefault(command, command)
        if strict:  # what tokenising missed
            for url in _urls(line):
                fetches.setdefault(url, url)
    return fetches


def _commands(line: str) -> list[list[str]]:
    return simple_commands(line, _SPLIT, _WRAPPERS)


def _tool(head: str, args: list[str]) -> str | None:
    """The fetching tool a command runs: curl, git clone, pip install, npm…; None otherwise."""
    plain = [a for a in args if not a.startswith("-")]
    if head in _DOWNLOADERS or head in _PACKAGERS or head == "add-apt-repository":
        return head
    if head == "git" and plain and plain[0] in _GIT_FETCHES:
        return f"git {plain[0]}"
    if re.fullmatch(r"python[\d.]*", head) and args[:2] == ["-m", "pip"]:
        head, plain = "pip", [a for a in args[2:] if not a.startswith("-")]
    elif head == "uv" and plain[:1] == ["pip"]:
        head, plain = "pip", plain[1:]
    if re.fullmatch(r"pip[\d.]*", head) and plain[:1] in (["install"], ["download"], ["wheel"]):
        return f"pip {plain[0]}"
    return None
