"""The Dockerfile pack's detectors over real-shaped Dockerfiles (testing/fixtures/dockerfiles)
and small ones: which base images are heavy or name no version, and when the container runs as
root; the non-root move in the file's own style."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.dockerfile import PACK
from mutbot.packs.model import Finding
from mutbot.packs.view import Sandbox
from mutbot.proposers.base import CATEGORIES
from testing.packs import applied, proves, sample_files, view_of
from testing.repos import EXAMPLE, ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "dockerfiles"
EXPECTED = {
    "alpine-worker.Dockerfile": {("end-of-life-base-image", 1), ("package-cache-in-layer", 3)},
    "django.Dockerfile": {("single-stage-build", 9), ("root-user", 1)},
    "express.Dockerfile": {
        ("end-of-life-base-image", 1),
        ("heavy-base-image", 1),
        ("cache-busting-copy", 6),
        ("root-user", 1),
    },
    "fastapi.Dockerfile": {("root-user", 1)},
    "flask-gunicorn.Dockerfile": {
        ("cache-busting-copy", 6),
        ("package-cache-in-layer", 7),
        ("root-user", 2),
    },
    "go-distroless.Dockerfile": set(),
    "multistage-base.Dockerfile": {("heavy-base-image", 1)},
    "spring-maven.Dockerfile": {
        ("heavy-base-image", 1),
        ("single-stage-build", 4),
        ("root-user", 1),
    },
    "ubuntu-tools.Dockerfile": {
        ("unpinned-base-image", 1),
        ("package-cache-in-layer", 3),
        ("root-user", 1),
    },
}


def detected(files: dict[str, str], sandbox: Sandbox | None = None) -> list[Finding]:
    view = view_of(files, sandbox)
    return PACK.detect(view, PACK.scan(view))


def found(text: str) -> set[tuple[str, int]]:
    return {(f.category, f.site.line) for f in detected({"Dockerfile": text})}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(name: str) -> None:
    path = f"svc/{name}"
    findings = detected({path: (FIXTURES / name).read_text()}, Sandbox(dockerfile=path))
    assert {(f.category, f.site.line) for f in findings} == EXPECTED[name]
    for f in findings:
        assert f.site.path == path and f.category in CATEGORIES and f.why


def test_the_pricing_example_only_runs_as_root_and_moves_to_a_user() -> None:
    files = sample_files(Path(EXAMPLE))
    [finding] = detected(files)
    assert finding.category == "root-user" and "no USER" in finding.why
    [move] = finding.fix
    proves(PACK, files, move)
    text = files["Dockerfile"]
    assert applied(files, move)["Dockerfile"] == text.replace(
        'CMD ["python", "app.py"]',
        'RUN useradd --system --uid 10001 --no-create-home app\nUSER app\nCMD ["python", "app.py"]',
    )


@pytest.mark.parametrize(
    ("base", "heavy"),
    [
        ("golang:1.22-alpine", True),
        ("openjdk:17-jdk-slim", True),  # a full JDK
        ("eclipse-temurin:21-jre-jammy", False),
        ("gcr.io/distroless/python3-debian12", False),
    ],
)
def test_heavy_runtime_images(base: str, heavy: bool) -> None:
    text = f'FROM {base}\nUSER 1000\nCMD ["run"]\n'
    assert (("heavy-base-image", 1) in found(text)) is heavy


def test_a_heavy_builder_stage_is_fine() -> None:
    text = "FROM node:22 AS build\nRUN npm ci\nFROM node:22-slim\nUSER node\n"
    assert found(text) == set()


@pytest.mark.parametrize(
    ("from_line", "unpinned"),
    [
        ("FROM ubuntu", True),
        ("FROM python:latest", True),
        ("FROM --platform=$BUILDPLATFORM ghcr.io/acme/base", True),
        ("FROM python:3.12-slim", False),
        ("FROM python@sha256:0123abcd", False),
        ("FROM ${BASE_IMAGE}", False),
        ("FROM scratch", False),
    ],
)
def test_unpinned_base_image(from_line: str, unpinned: bool) -> None:
    text = f"{from_line}\nUSER 10001\n"
    assert (("unpinned-base-image", 1) in found(text)) is unpinned


def test_an_earlier_stage_is_not_an_unpinned_image() -> None:
    text = "FROM alpine:3.22 AS base\nFROM base\nUSER nobody\n"
    assert found(text) == set()


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("", 1),
        ("USER app\nUSER root\n", 3),  # the last USER wins
        ("USER 0:0\n", 2),
        ("USER 10001:10001\n", None),
        ("USER root\nRUN true\nUSER app\n", None),
    ],
)
def test_root_user(body: str, line: int | None) -> None:
    text = f'FROM python:3.12-slim\n{body}CMD ["python"]\n'
    root = {n for c, n in found(text) if c == "root-user"}
    assert root == ({line} if line else set())


def test_the_user_is_inherited_from_the_stage_the_final_one_builds_on() -> None:
    text = 'FROM python:3.12-slim AS base\nUSER app\nFROM base\nCMD ["python"]\n'
    assert found(text) == set()


def test_root_user_points_at_the_final_stage() -> None:
    text = "FROM golang:1.23 AS build\nUSER app\nFROM alpine:3.22\nCOPY --from=build /a /a\n"
    assert found(text) == {("root-user", 3)}


def test_the_non_root_move_keeps_crlf_comments_and_a_missing_final_newline() -> None:
    text = (
        "FROM python:3.12-alpine\r\nWORKDIR /app\r\nCOPY . .\r\n# start\r\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]'
    )
    files = {"Dockerfile": text}
    [finding] = [f for f in detected(files) if f.category == "root-user"]
    [move] = finding.fix
    proves(PACK, files, move)
    assert applied(files, move)["Dockerfile"] == text.replace(
        "# start", "RUN addgroup -S app && adduser -S -G app app\r\nUSER app\r\n# start"
    )
