"""Base images in the Dockerfile pack: floating tags (pinned only to a version the repository
itself names), end-of-life releases with their successor, and the slim variant, a `prove` move
never offered when the build compiles packages from source without their build dependencies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mutbot.discover.dockerfile_syntax import image_ref
from mutbot.packs.dockerfile import PACK
from mutbot.packs.dockerfile_images import end_of_life, floating, slim_tag
from mutbot.packs.model import Finding, apply_edits
from mutbot.packs.view import View
from testing.packs import applied, proves, view_of


def found(files: dict[str, str], category: str) -> list[Finding]:
    view = view_of(files)
    return [f for f in PACK.detect(view, PACK.scan(view)) if f.category == category]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("python", True),
        ("python:latest", True),
        ("python:slim", True),
        ("node:alpine", True),
        ("node:lts-alpine", True),
        ("python:slim-bookworm", True),
        ("ghcr.io/acme/base", True),
        ("python:3.12-slim", False),
        ("node:22", False),
        ("debian:bookworm-slim", False),  # a Debian release name is its version
        ("ubuntu:noble", False),
        ("python@sha256:0123abcd", False),
        ("gcr.io/distroless/static-debian12:nonroot", False),
        ("scratch", False),
    ],
)
def test_floating_tags(image: str, expected: bool) -> None:
    assert floating(image_ref(image)) is expected


@pytest.mark.parametrize(
    ("image", "what", "successor"),
    [
        ("ubuntu:18.04", "Ubuntu 18.04", "ubuntu:24.04"),
        ("ubuntu:xenial", "Ubuntu 16.04", "ubuntu:24.04"),
        ("ubuntu:20.04", "Ubuntu 20.04", "ubuntu:24.04"),
        ("debian:buster-slim", "Debian buster", "debian:bookworm-slim"),
        ("debian:9", "Debian stretch", "debian:bookworm-slim"),
        ("debian:bullseye", "Debian bullseye", "debian:bookworm-slim"),
        ("python:3.8", "Python 3.8", "python:3.13"),
        ("python:3.9-slim", "Python 3.9", "python:3.13-slim"),
        ("python:3.11-buster", "Debian buster", "python:3.11-bookworm"),
        ("python:3.7-slim-stretch", "Python 3.7", "python:3.13-slim-bookworm"),
        ("node:16-alpine", "Node.js 16", "node:24-alpine"),
        ("node:14", "Node.js 14", "node:24"),
        ("node:20-bookworm-slim", "Node.js 20", "node:24-bookworm-slim"),
        ("openjdk:8-jdk-alpine", "the deprecated openjdk image", "eclipse-temurin:8-jre-alpine"),
        ("alpine:3.16", "Alpine 3.16", "alpine:3.22"),
        ("node:22-alpine3.18", "Alpine 3.18", "node:22-alpine3.22"),
    ],
)
def test_end_of_life(image: str, what: str, successor: str) -> None:
    ended = end_of_life(image_ref(image))
    assert ended is not None and (ended.what, ended.successor) == (what, successor)


@pytest.mark.parametrize(
    "image",
    ["python:3.12-slim", "node:22", "node:24-alpine", "debian:bookworm", "ubuntu:24.04",
     "alpine:3.22", "eclipse-temurin:21-jre", "golang:1.23"],
)  # fmt: skip
def test_supported_releases(image: str) -> None:
    assert end_of_life(image_ref(image)) is None


def test_an_end_of_life_base_is_an_opportunity_naming_its_successor() -> None:
    [finding] = found({"Dockerfile": "FROM ubuntu:18.04\nUSER 1\n"}, "end-of-life-base-image")
    assert finding.fix == () and "2023-05-31" in finding.why and "ubuntu:24.04" in finding.why


@pytest.mark.parametrize(
    ("files", "pinned", "said"),
    [
        ({"Dockerfile.dev": "FROM python:3.12\n"}, "python:3.12-slim", "Dockerfile.dev:1 says"),
        ({".python-version": "3.12.4\n"}, "python:3.12.4-slim", ".python-version says"),
        ({"runtime.txt": "python-3.11.9\n"}, "python:3.11.9-slim", "runtime.txt says"),
    ],
)
def test_a_floating_tag_is_pinned_to_the_version_the_repository_names(
    files: dict[str, str], pinned: str, said: str
) -> None:
    files = {"Dockerfile": "FROM python:slim\nUSER 1\n", **files}
    [finding] = found(files, "unpinned-base-image")
    [move] = finding.fix
    assert move.value == pinned and said in finding.why
    proves(PACK, files, move)
    assert applied(files, move)["Dockerfile"] == f"FROM {pinned}\nUSER 1\n"


@pytest.mark.parametrize(
    ("engines", "pinned"),
    [('{"engines": {"node": "22.x"}}', "node:22-alpine"), ('{"engines": {"node": ">=20"}}', None)],
)
def test_node_engines(engines: str, pinned: str | None) -> None:
    files = {"Dockerfile": "FROM node:lts-alpine\nUSER node\n", "package.json": engines}
    [finding] = found(files, "unpinned-base-image")
    assert [m.value for m in finding.fix] == ([pinned] if pinned else [])


@pytest.mark.parametrize(
    "files",
    [
        {},  # the repository names no version: the build resolves it, later
        {"a.Dockerfile": "FROM python:3.11\n", "b.Dockerfile": "FROM python:3.12\n"},  # disagree
    ],
)
def test_no_pin_without_one_known_version(files: dict[str, str]) -> None:
    [finding] = found({"Dockerfile": "FROM python\nUSER 1\n", **files}, "unpinned-base-image")
    assert finding.fix == () and "says" not in finding.why


def test_a_tag_from_a_global_arg() -> None:
    files = {"Dockerfile": "ARG BASE=python:latest\nFROM ${BASE}\nUSER 1\n"}
    [finding] = found(files, "unpinned-base-image")
    assert "(`python:latest` by its ARG default)" in finding.why and finding.fix == ()
    assert (
        found({"Dockerfile": "ARG PY=3.12\nFROM python:${PY}-slim\n"}, "unpinned-base-image") == []
    )


def test_each_floating_image_is_its_own_finding() -> None:
    text = "FROM node:alpine AS web\nRUN npm ci\nFROM python\nCOPY --from=web /a /a\nUSER 1\n"
    findings = found({"Dockerfile": text}, "unpinned-base-image")
    assert [f.site.line for f in findings] == [1, 3]
    assert len({f.title for f in findings}) == 2


@pytest.mark.parametrize(
    ("image", "slim"),
    [
        ("python:3.11", "3.11-slim"),
        ("python:3.11-bookworm", "3.11-slim-bookworm"),
        ("python", "slim"),
        ("node:20", "20-slim"),
        ("node:20-bookworm", "20-bookworm-slim"),
        ("ruby:3.3", "3.3-slim"),
        ("debian:bookworm", "bookworm-slim"),
        ("debian:12", "12-slim"),
        ("python:3.11-slim", None),
        ("python:3.11-slim-bookworm", None),
        ("node:20-alpine3.19", None),
        ("debian:bookworm-slim", None),
        ("python:${PY}", None),
        ("golang:1.22", None),
    ],
)
def test_slim_tag(image: str, slim: str | None) -> None:
    assert slim_tag(image_ref(image)) == slim


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("FROM python:3.11-bookworm AS base", "FROM python:3.11-slim-bookworm AS base"),
        ("FROM docker.io/library/python:3.12", "FROM docker.io/library/python:3.12-slim"),
        ("FROM --platform=linux/amd64 node:22", "FROM --platform=linux/amd64 node:22-slim"),
        ("FROM node:22-bookworm", "FROM node:22-bookworm-slim"),
        ("FROM debian:bookworm", "FROM debian:bookworm-slim"),
        ("FROM ruby:3.4", "FROM ruby:3.4-slim"),
    ],
)
def test_the_slim_move_keeps_the_line_as_written(before: str, after: str) -> None:
    files = {"Dockerfile": f"# base\n{before}\nUSER app\n"}
    [finding] = found(files, "heavy-base-image")
    [move] = finding.fix
    proves(PACK, files, move)
    assert applied(files, move)["Dockerfile"] == f"# base\n{after}\nUSER app\n"


def test_the_slim_move_in_an_earlier_stage_the_runtime_builds_on() -> None:
    text = "FROM python:3.12 AS base\nWORKDIR /app\nFROM base\nCOPY . .\nUSER 1\n"
    files = {"Dockerfile": text}
    [move] = found(files, "heavy-base-image")[0].fix
    assert applied(files, move)["Dockerfile"].splitlines()[0] == "FROM python:3.12-slim AS base"


def test_no_slim_move_for_a_pinned_digest() -> None:
    assert found({"Dockerfile": "FROM python:3.12@sha256:ab\nUSER 1\n"}, "heavy-base-image") == []


def test_the_slim_variant_is_a_prove_move() -> None:
    files = {"Dockerfile": "FROM python:3.11\nRUN pip install --no-cache-dir flask\nUSER 1\n"}
    [finding] = found(files, "heavy-base-image")
    [move] = finding.fix
    assert move.value == "python:3.11-slim" and move.seen.setting.safety == "prove"
    assert "prove" in move.rule
    proves(PACK, files, move)


@pytest.mark.parametrize(
    ("install", "requirements", "offered"),
    [
        ("pip install --no-cache-dir psycopg2==2.9.9", "", False),
        ("pip install --no-cache-dir -r requirements.txt", "psycopg2==2.9.9\n", False),
        ("pip install --no-cache-dir -r requirements.txt", "mysqlclient\n", False),
        ("pip install --no-cache-dir lxml", "", False),
        ("pip install --no-cache-dir psycopg2-binary", "", True),
        (
            "apt-get update && apt-get install -y --no-install-recommends build-essential "
            "libpq-dev && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir psycopg2",
            "",
            True,  # it installs the compiler and the library itself
        ),
        (
            "apt-get update && apt-get install -y --no-install-recommends libpq-dev "
            "&& rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir psycopg2",
            "",
            False,  # the library but no compiler
        ),
    ],
)
def test_no_slim_when_the_build_compiles_from_source_without_its_tools(
    install: str, requirements: str, offered: bool
) -> None:
    files = {"Dockerfile": f"FROM python:3.12\nCOPY requirements.txt .\nRUN {install}\nUSER 1\n"}
    files["requirements.txt"] = requirements
    [finding] = found(files, "heavy-base-image")
    assert bool(finding.fix) is offered
    if not offered:
        assert "from source" in finding.why


def test_a_builder_stage_compiled_it_and_the_runtime_lacks_the_library() -> None:
    text = (
        "FROM python:3.12 AS build\n"
        "RUN pip wheel --wheel-dir /wheels psycopg2\n"
        "FROM python:3.12\n"
        "COPY --from=build /wheels /wheels\n"
        "RUN pip install --no-cache-dir /wheels/*\n"
        "USER 1\n"
    )
    [finding] = found({"Dockerfile": text, "requirements.txt": "psycopg2\n"}, "heavy-base-image")
    assert finding.fix == ()


@pytest.mark.parametrize(
    ("base", "heavy"),
    [("golang:1.23", True), ("eclipse-temurin:21", True), ("eclipse-temurin:21-jre", False),
     ("python:3.12-alpine", False), ("python:3.12-slim", False)],
)  # fmt: skip
def test_other_heavy_runtime_images_are_opportunities(base: str, heavy: bool) -> None:
    findings = found({"Dockerfile": f"FROM {base}\nUSER 1\n"}, "heavy-base-image")
    assert bool(findings) is heavy
    assert all(f.fix == () for f in findings)


def test_a_floating_base_is_pinned_to_what_the_baseline_build_resolved() -> None:
    files = {"Dockerfile": 'FROM python:slim\nCOPY . .\nCMD ["python", "app.py"]\n'}
    pack = PACK

    def pin(view: View) -> Finding:
        found = pack.detect(view, pack.scan(view))
        return next(f for f in found if f.category == "unpinned-base-image")

    unbuilt = pin(view_of(files))
    assert unbuilt.fix == () and "known once it is built" in unbuilt.why
    built = replace(view_of(files), resolved={"PYTHON_VERSION": "3.11.9", "PATH": "/bin"})
    found = pin(built)
    assert "the baseline build (PYTHON_VERSION=3.11.9) says 3.11.9" in found.why
    assert apply_edits(files, found.fix[0].edits)["Dockerfile"].startswith(
        "FROM python:3.11.9-slim\n"
    )
    odd = replace(view_of(files), resolved={"PYTHON_VERSION": "3.13.0rc1"})
    assert pin(odd).fix == ()  # not a plain release number: not pinned
