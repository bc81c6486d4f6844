from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.detect.dockerfile import ImageRef, detect, image_ref, is_dockerfile, slim_tag
from mutbot.proposers.base import CATEGORIES, DetectContext, TargetFile
from testing.repos import EXAMPLE, ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "dockerfiles"
CONTEXT = DetectContext(baseline=None, cpus=1.0, memory_bytes=512 * 1024**2)

EXPECTED = {
    "flask-gunicorn.Dockerfile": {
        ("cache-busting-copy", 6),
        ("package-cache-in-layer", 7),
        ("root-user", 2),
    },
    "django.Dockerfile": {("single-stage-build", 9), ("root-user", 1)},
    "express.Dockerfile": {
        ("heavy-base-image", 1),
        ("cache-busting-copy", 6),
        ("root-user", 1),
    },
    "go-distroless.Dockerfile": set(),
    "alpine-worker.Dockerfile": {("package-cache-in-layer", 3)},
    "ubuntu-tools.Dockerfile": {
        ("unpinned-base-image", 1),
        ("package-cache-in-layer", 3),
        ("root-user", 1),
    },
    "fastapi.Dockerfile": {("root-user", 1)},
    "multistage-base.Dockerfile": {("heavy-base-image", 1)},
    "spring-maven.Dockerfile": {
        ("heavy-base-image", 1),
        ("single-stage-build", 4),
        ("root-user", 1),
    },
}


def found(text: str, path: str = "Dockerfile") -> set[tuple[str, int]]:
    return {(o.category, o.line) for o in detect(TargetFile(path, text), CONTEXT)}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(name: str) -> None:
    text = (FIXTURES / name).read_text()
    opportunities = detect(TargetFile(f"svc/{name}", text), CONTEXT)
    assert {(o.category, o.line) for o in opportunities} == EXPECTED[name]
    for o in opportunities:
        assert o.path == f"svc/{name}" and o.category in CATEGORIES and o.why


def test_pricing_example_only_runs_as_root() -> None:
    text = (EXAMPLE / "Dockerfile").read_text()
    assert found(text) == {("root-user", 1)}


def test_why_names_the_evidence() -> None:
    text = (FIXTURES / "flask-gunicorn.Dockerfile").read_text()
    whys = {o.category: o.why for o in detect(TargetFile("Dockerfile", text), CONTEXT)}
    assert "`pip install -r` (line 7)" in whys["cache-busting-copy"]
    assert "`COPY . .`" in whys["cache-busting-copy"]
    assert "--no-cache-dir" in whys["package-cache-in-layer"]
    assert "no USER" in whys["root-user"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Dockerfile", True),
        ("services/api/Dockerfile", True),
        ("Dockerfile.prod", True),
        ("api.Dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.dockerignore", False),
        ("docker-compose.yml", False),
        ("app.py", False),
    ],
)
def test_is_dockerfile(path: str, expected: bool) -> None:
    assert is_dockerfile(path) is expected


def test_other_files_are_ignored() -> None:
    assert (
        detect(TargetFile("app.py", "FROM python\nCOPY . .\nRUN pip install -r r.txt\n"), CONTEXT)
        == []
    )


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("python:3.11", ImageRef("python", "3.11", False)),
        ("docker.io/library/python:3.11", ImageRef("python", "3.11", False)),
        ("localhost:5000/team/app", ImageRef("localhost:5000/team/app", "", False)),
        ("python@sha256:abc", ImageRef("python", "", True)),
    ],
)
def test_image_ref(image: str, expected: ImageRef) -> None:
    assert image_ref(image) == expected


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
    ("base", "heavy"),
    [
        ("golang:1.22-alpine", True),
        ("eclipse-temurin:21", True),
        ("eclipse-temurin:21-jre-jammy", False),
        ("openjdk:17-jdk-slim", True),
        ("gcr.io/distroless/python3-debian12", False),
        ("python:3.12-alpine", False),
    ],
)
def test_heavy_runtime_images(base: str, heavy: bool) -> None:
    text = f'FROM {base}\nUSER 1000\nCMD ["run"]\n'
    assert (("heavy-base-image", 1) in found(text)) is heavy


def test_a_heavy_builder_stage_is_fine() -> None:
    text = "FROM node:20 AS build\nRUN npm ci\nFROM node:20-slim\nUSER node\n"
    assert found(text) == set()


@pytest.mark.parametrize(
    ("from_line", "unpinned"),
    [
        ("FROM ubuntu", True),
        ("FROM python:latest", True),
        ("FROM --platform=$BUILDPLATFORM ghcr.io/acme/base", True),
        ("FROM python:3.11-slim", False),
        ("FROM python@sha256:0123abcd", False),
        ("FROM ${BASE_IMAGE}", False),
        ("FROM scratch", False),
    ],
)
def test_unpinned_base_image(from_line: str, unpinned: bool) -> None:
    text = f"{from_line}\nUSER 10001\n"
    assert (("unpinned-base-image", 1) in found(text)) is unpinned


def test_an_earlier_stage_is_not_an_unpinned_image() -> None:
    text = "FROM alpine:3.19 AS base\nFROM base\nUSER nobody\n"
    assert found(text) == set()


@pytest.mark.parametrize(
    ("body", "root"),
    [
        ("", True),
        ("USER app\nUSER root\n", True),
        ("USER 0:0\n", True),
        ("USER 10001:10001\n", False),
        ("USER root\nRUN true\nUSER app\n", False),
    ],
)
def test_root_user(body: str, root: bool) -> None:
    text = f'FROM python:3.12-slim\n{body}CMD ["python"]\n'
    assert (("root-user", 1) in found(text)) is root


def test_user_is_inherited_from_the_stage_the_final_one_builds_on() -> None:
    text = 'FROM python:3.12-slim AS base\nUSER app\nFROM base\nCMD ["python"]\n'
    assert found(text) == set()


def test_root_user_points_at_the_final_stage() -> None:
    text = "FROM golang:1.22 AS build\nUSER app\nFROM alpine:3.19\nCOPY --from=build /a /a\n"
    assert found(text) == {("root-user", 3)}


def test_distroless_nonroot_tag_needs_no_user() -> None:
    assert found("FROM gcr.io/distroless/static-debian12:nonroot\n") == set()


@pytest.mark.parametrize(
    "run",
    [
        "RUN pip install --no-cache-dir flask",
        "RUN PIP_NO_CACHE_DIR=1 pip install flask",
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
        "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
        "RUN apk add --no-cache curl",
        "RUN pip install flask && rm -rf /root/.cache/pip",
    ],
)
def test_no_package_cache_left(run: str) -> None:
    assert found(f"FROM python:3.12-slim\n{run}\nUSER app\n") == set()


@pytest.mark.parametrize(
    "run",
    [
        "RUN python -m pip install flask",
        "RUN pip3 install --upgrade pip",
        "RUN apt-get update && apt-get install -y curl",
        "RUN apk update && apk add --no-cache curl",
        "RUN apk add curl",
    ],
)
def test_package_cache_left(run: str) -> None:
    assert found(f"FROM python:3.12-slim\n{run}\nUSER app\n") == {("package-cache-in-layer", 2)}


def test_continuation_lines_keep_their_numbers() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "# tools\n"
        "RUN apt-get update \\\n"
        "    # jq for the healthcheck\n"
        "    && apt-get install -y jq\n"
        "COPY . /srv\n"
        "RUN cd /srv \\\n"
        "    && pip install --no-cache-dir -r requirements.txt\n"
        "USER app\n"
    )
    assert found(text) == {("package-cache-in-layer", 3), ("cache-busting-copy", 6)}


@pytest.mark.parametrize(
    "install",
    [
        "npm ci --omit=dev",
        "yarn --frozen-lockfile",
        "pnpm install",
        "poetry install --no-root",
        "pipenv install --deploy --system",
        "bundle install --jobs 4",
        "go mod download",
        "composer install --no-dev",
        "pip install --no-cache-dir --requirement requirements.txt",
    ],
)
def test_cache_busting_install_commands(install: str) -> None:
    text = f"FROM alpine:3.19\nWORKDIR /app\nADD . ./\nRUN {install}\nUSER app\n"
    assert found(text) == {("cache-busting-copy", 3)}


@pytest.mark.parametrize(
    "text",
    [
        "COPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
        "COPY . .\nRUN npm install -g pm2\n",
        "COPY --from=build /out .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "COPY ./src ./src\nRUN pip install --no-cache-dir -r requirements.txt\n",
    ],
)
def test_not_cache_busting(text: str) -> None:
    assert found(f"FROM alpine:3.19 AS x\nFROM x\n{text}USER app\n") == set()


def test_install_in_another_stage_is_not_cache_busting() -> None:
    text = "FROM node:20-slim AS a\nCOPY . .\nFROM node:20-slim\nRUN npm ci\nUSER node\n"
    assert found(text) == set()


def test_build_tools_removed_in_the_same_layer_are_not_shipped() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc \\\n"
        "    && pip install --no-cache-dir uwsgi \\\n"
        "    && apt-get purge -y --auto-remove gcc && rm -rf /var/lib/apt/lists/*\n"
        "USER app\n"
    )
    assert found(text) == set()


@pytest.mark.parametrize(
    "run",
    [
        "RUN apk add --no-cache build-base postgresql-dev",
        "RUN CGO_ENABLED=0 go build -o /app .",
        "RUN npm run build",
        "RUN ./gradlew bootJar",
    ],
)
def test_single_stage_build(run: str) -> None:
    text = f"FROM alpine:3.19\nRUN echo hi\n{run}\nUSER app\n"
    assert ("single-stage-build", 3) in found(text)


def test_build_tools_in_a_multi_stage_build_are_fine() -> None:
    text = (FIXTURES / "go-distroless.Dockerfile").read_text()
    assert "go build" in text and found(text) == set()


def test_empty_and_odd_files_do_not_crash() -> None:
    assert found("") == set()
    assert found("# only a comment\n") == set()
    assert found("RUN echo before any FROM\n") == set()
    assert found('FROM python:3.12-slim\nRUN ["pip", "install", "flask"]\nUSER a\n') == {
        ("package-cache-in-layer", 2)
    }
    assert found('FROM python:3.12-slim\nRUN echo "unterminated\nUSER a\n') == set()


def test_relative_fixture_paths_exist() -> None:
    assert Path(FIXTURES).is_dir()
