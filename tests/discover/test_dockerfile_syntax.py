"""Dockerfile syntax: instructions with their lines, stages and what each builds on, image
references."""

from __future__ import annotations

import pytest

from mutbot.discover.dockerfile_syntax import ImageRef, image_ref, instructions, stages


def test_instructions_keep_their_lines_through_continuations_and_comments() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "# tools\n"
        "RUN apt-get update \\\n"
        "    # jq for the healthcheck\n"
        "    && apt-get install -y jq\n"
        "COPY . /srv\n"
    )
    found = [(i.name, i.line, i.end) for i in instructions(text)]
    assert found == [("FROM", 1, 0), ("RUN", 3, 4), ("COPY", 6, 5)]
    assert "jq for the healthcheck" not in instructions(text)[1].value


def test_stages_know_their_alias_and_the_stage_they_build_on() -> None:
    text = (
        "ARG PY=3.12\n"
        "FROM --platform=$BUILDPLATFORM python:${PY} AS Base\n"
        "WORKDIR /app\n"
        "FROM base AS build\n"
        "RUN pip wheel -w /w .\n"
        "FROM gcr.io/distroless/python3\n"
        "COPY --from=build /w /w\n"
    )
    found = [(s.image, s.alias, s.parent, s.start.line, len(s.body)) for s in stages(text)]
    assert found == [
        ("python:${PY}", "Base", None, 2, 1),
        ("base", "build", 0, 4, 1),  # aliases are case-insensitive
        ("gcr.io/distroless/python3", None, None, 6, 1),
    ]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "RUN echo before any FROM\n"])
def test_no_stage(text: str) -> None:
    assert stages(text) == []


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
