"""What the Dockerfile pack knows about base images (pure): floating tags, end-of-life releases
and their successors, which images a `-slim` variant exists for and which Python packages build
from source (so a slim image without their build dependencies fails to build), and the version
a floating tag can be pinned to when the repository itself says which one it means."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mutbot.discover.dockerfile_syntax import ImageRef, image_ref, stages
from mutbot.discover.dockerfiles import is_dockerfile
from mutbot.discover.model import Repo

CHECKED = "2026-12-01"  # the end-of-life table below holds the releases ended by this date
_WORDS = {"latest", "slim", "alpine", "lts", "current", "stable", "bullseye", "bookworm"}
_WORDS |= {"trixie", "buster", "stretch", "jessie", "jammy", "noble", "focal", "bionic"}
_FLOATING = {"latest", "lts", "current", "stable", "mainline", "edge", "rolling", "devel"}
_RELEASE_NAMES = {
    "debian": {"jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky"},
    "ubuntu": {"trusty", "xenial", "bionic", "focal", "jammy", "noble"},
}
_DEBIAN_EOL = {"jessie": "2020-06-30", "stretch": "2022-06-30", "buster": "2024-06-30",
               "bullseye": "2026-08-31"}  # fmt: skip
_DEBIAN_NUMBER = {"8": "jessie", "9": "stretch", "10": "buster", "11": "bullseye"}
_UBUNTU_EOL = {"14.04": "2019-04-30", "16.04": "2021-04-30", "18.04": "2023-05-31",
               "20.04": "2025-05-31", "22.10": "2023-07-20", "23.04": "2024-01-25",
               "23.10": "2024-07-11", "24.10": "2025-07-10", "25.04": "2026-01-15"}  # fmt: skip
_UBUNTU_NAME = {"trusty": "14.04", "xenial": "16.04", "bionic": "18.04", "focal": "20.04"}
_PYTHON_EOL = {(2, 7): "2020-01-01", (3, 6): "2021-12-23", (3, 7): "2023-06-27",
               (3, 8): "2024-10-07", (3, 9): "2025-10-31"}  # fmt: skip
_NODE_EOL = {14: "2023-04-30", 16: "2023-09-11", 17: "2022-06-01", 18: "2025-04-30",
             19: "2023-06-01", 20: "2026-04-30", 21: "2024-06-01", 23: "2025-06-01",
             25: "2026-06-01"}  # fmt: skip
_ALPINE_EOL = {(3, 16): "2024-05-23", (3, 17): "2024-11-22", (3, 18): "2025-05-09",
               (3, 19): "2025-11-01", (3, 20): "2026-04-01", (3, 21): "2026-11-01"}  # fmt: skip
_RUBY_EOL = {(3, 0): "2024-04-23", (3, 1): "2025-03-26", (3, 2): "2026-03-31"}
# Packages pip builds from source on Linux (no wheel), and the Debian libraries they need:
# on a slim image the build also needs a compiler, which only the full image has.
SOURCE_BUILDS = {
    "psycopg2": ("libpq-dev", "libpq5"),
    "mysqlclient": ("default-libmysqlclient-dev", "libmysqlclient-dev", "libmariadb-dev"),
    "lxml": ("libxml2-dev", "libxslt1-dev"),
    "python-ldap": ("libldap2-dev", "libldap-dev"),
    "pycurl": ("libcurl4-openssl-dev", "libcurl4-gnutls-dev"),
    "uwsgi": (),
    "mod-wsgi": (),
    "m2crypto": ("libssl-dev",),
    "pygraphviz": ("graphviz-dev", "libgraphviz-dev"),
}
COMPILERS = {"build-essential", "gcc", "g++", "clang", "make"}
_SLIM_FAMILIES = ("python", "node", "ruby", "debian")
_CODENAMES = ("trixie", "bookworm", "bullseye", "buster")


@dataclass(frozen=True)
class EndOfLife:
    what: str  # "Python 3.8", "Debian 10 (buster)"
    ended: str  # ISO date
    successor: str  # the suggested image


def resolve(image: str, args: dict[str, str]) -> str:
    """`${VAR}`, `$VAR` and `${VAR:-default}` in a FROM replaced by the global ARG defaults."""

    def one(found: re.Match[str]) -> str:
        name = found[1] or found[3]
        return args.get(name, found[2] or found[0])

    return re.sub(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)", one, image)


def slim_tag(ref: ImageRef) -> str | None:
    """The slim variant's tag for a full python/node/ruby/debian tag, else None."""
    parts = ref.tag.split("-") if ref.tag not in ("", "latest") else []
    if ref.name not in _SLIM_FAMILIES or "$" in ref.tag:
        return None
    if any(p == "slim" or p.startswith(("alpine", "windows", "nanoserver")) for p in parts):
        return None
    if ref.name == "debian":
        return f"{ref.tag}-slim" if re.fullmatch(r"[a-z]+|\d+(\.\d+)?", ref.tag) else None
    if not parts:
        return "slim"
    if parts[-1] in _CODENAMES and len(parts) == 2:
        # node spells it 20-bookworm-slim, python and ruby 3.11-slim-bookworm
        return f"{ref.tag}-slim" if ref.name == "node" else f"{parts[0]}-slim-{parts[1]}"
    if len(parts) == 1 and re.fullmatch(r"[\w.]+", parts[0]):
        return f"{ref.tag}-slim"
    return None


def floating(ref: ImageRef) -> bool:
    """A tag that names no version: none, `latest`, `slim`, `alpine`, `lts`, `slim-bookworm`…
    A Debian or Ubuntu release name is a version; distroless names its release in the image."""
    if ref.digest or ref.name in ("scratch", ""):
        return False
    parts = ref.tag.split("-") if ref.tag else []
    if not parts or parts[0] in _FLOATING:
        return True
    if any(ch.isdigit() for ch in ref.tag) or parts[0] in _RELEASE_NAMES.get(ref.name, ()):
        return False
    return not ref.name.startswith("gcr.io/distroless/")


def end_of_life(ref: ImageRef) -> EndOfLife | None:
    """The release an image is on when it has ended (by `CHECKED`), and what to move to."""
    found = _system(ref.name, ref.tag) or _runtime(ref.name, ref.tag) or _distro(ref.name, ref.tag)
    return found if found and found.ended <= CHECKED else None


def _system(name: str, tag: str) -> EndOfLife | None:
    first = tag.split("-")[0]
    if name == "openjdk":  # every tag: the image is deprecated and no longer updated
        major = re.match(r"\d+", tag)
        variant = "-jre-alpine" if "alpine" in tag else "-jre"
        return EndOfLife("the deprecated openjdk image", "2022-07-01",
                         f"eclipse-temurin:{major[0] if major else '21'}{variant}")  # fmt: skip
    if name == "debian":
        codename = _DEBIAN_NUMBER.get(first.split(".")[0], first)
        if codename in _DEBIAN_EOL:
            return EndOfLife(f"Debian {codename}", _DEBIAN_EOL[codename], "debian:bookworm-slim")
    if name == "ubuntu":
        version = _UBUNTU_NAME.get(first, first)
        if version in _UBUNTU_EOL:
            return EndOfLife(f"Ubuntu {version}", _UBUNTU_EOL[version], "ubuntu:24.04")
    return None


def _runtime(name: str, tag: str) -> EndOfLife | None:
    two = re.match(r"(\d+)\.(\d+)", tag)
    one = re.match(r"(\d+)", tag)
    rest = re.sub(r"^[\d.]+", "", tag)
    if name == "python" and two and (key := (int(two[1]), int(two[2]))) in _PYTHON_EOL:
        return EndOfLife(f"Python {two[0]}", _PYTHON_EOL[key], f"python:3.13{_renamed(rest)}")
    if name == "node" and one and int(one[1]) in _NODE_EOL:
        return EndOfLife(f"Node.js {one[1]}", _NODE_EOL[int(one[1])], f"node:24{_renamed(rest)}")
    if name == "ruby" and two and (key := (int(two[1]), int(two[2]))) in _RUBY_EOL:
        return EndOfLife(f"Ruby {two[0]}", _RUBY_EOL[key], f"ruby:3.4{_renamed(rest)}")
    if name == "alpine" and two and (key := (int(two[1]), int(two[2]))) in _ALPINE_EOL:
        return EndOfLife(f"Alpine {two[0]}", _ALPINE_EOL[key], "alpine:3.22")
    return None


def _distro(name: str, tag: str) -> EndOfLife | None:
    """A runtime image on an ended release: `python:3.11-buster`, `node:20-alpine3.16`."""
    for part in tag.split("-"):
        if part in _DEBIAN_EOL:
            new = f"{name}:{tag.replace(part, 'bookworm')}"
            return EndOfLife(f"Debian {part}", _DEBIAN_EOL[part], new)
        alpine = re.fullmatch(r"alpine(\d+)\.(\d+)", part)
        if alpine and (key := (int(alpine[1]), int(alpine[2]))) in _ALPINE_EOL:
            new = f"{name}:{tag.replace(part, 'alpine3.22')}"
            return EndOfLife(f"Alpine {key[0]}.{key[1]}", _ALPINE_EOL[key], new)
    return None


def _renamed(rest: str) -> str:
    """A variant suffix with an ended Debian release swapped for bookworm."""
    for old in _DEBIAN_EOL:
        rest = rest.replace(old, "bookworm")
    return re.sub(r"alpine3\.\d+", "alpine", rest)


def pinned(ref: ImageRef, version: str) -> str:
    """The tag that pins a floating tag to `version`, keeping its variant (`slim`, `alpine`)."""
    parts = [p for p in (ref.tag.split("-") if ref.tag else []) if p not in _FLOATING]
    return "-".join([version, *parts])


# The variable an official image sets to the exact version it holds.
_VERSION_VARIABLES = {
    "python": "PYTHON_VERSION",
    "node": "NODE_VERSION",
    "golang": "GOLANG_VERSION",
    "ruby": "RUBY_VERSION",
    "php": "PHP_VERSION",
}


def resolved_version(env: Mapping[str, str], ref: ImageRef) -> tuple[str, str] | None:
    """(version, where) the built baseline image says its base is: `PYTHON_VERSION=3.11.9`
    in the environment of `python:slim` as built."""
    name = _VERSION_VARIABLES.get(ref.name)
    value = env.get(name, "") if name else ""
    if not re.fullmatch(r"\d+(\.\d+){1,2}", value):
        return None
    return value, f"the baseline build ({name}={value})"


def known_version(repo: Repo, ref: ImageRef, skip: str) -> tuple[str, str] | None:
    """(version, where it was read) when the repository says which version of the image it
    means: another Dockerfile pinning the same image, or the runtime's own version file."""
    found: dict[str, str] = {}
    for path in repo.files:
        if path == skip or not is_dockerfile(path):
            continue
        for stage in stages(repo.read(path) or ""):
            other = image_ref(stage.image)
            number = re.match(r"\d+(\.\d+)*", other.tag)
            if other.name == ref.name and number and "$" not in other.tag:
                found.setdefault(number[0], f"{path}:{stage.start.line}")
    for path, version in _version_files(repo, ref.name):
        found.setdefault(version, path)
    if len(found) != 1:
        return None  # none, or the repository disagrees with itself
    [(version, where)] = found.items()
    return version, where


def _version_files(repo: Repo, name: str) -> list[tuple[str, str]]:
    out = []
    files = {"python": (".python-version", "runtime.txt"), "node": (".nvmrc", ".node-version")}
    for path in files.get(name, ()):
        text = (repo.read(path) or "").strip().splitlines()
        word = text[0].strip().removeprefix("python-").removeprefix("v") if text else ""
        if re.fullmatch(r"\d+(\.\d+){0,2}", word):
            out.append((path, word))
    if name == "node":
        engines = _node_engine(repo.read("package.json"))
        out += [("package.json", engines)] if engines else []
    if name == "golang":
        go = re.search(r"^go (\d+\.\d+)", repo.read("go.mod") or "", re.MULTILINE)
        out += [("go.mod", go[1])] if go else []
    return out


def _node_engine(text: str | None) -> str | None:
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    engines = data.get("engines") if isinstance(data, dict) else None
    node = engines.get("node") if isinstance(engines, dict) else None
    found = re.fullmatch(r"[\^~]?(\d+)(?:\.x|\.\d+(?:\.\d+)?)?", str(node or "").strip())
    return found[1] if found else None
