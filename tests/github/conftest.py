"""The GitHub world most tests here share: the fake GitHub, a bare remote and a checkout; and,
for the client's own tests, the fake GitHub on a bare remote with a client connected to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mutbot.github.client import GitHub
from testing.fake_github import TOKEN, FakeGitHub, make_remote, serve_github
from testing.github_world import World, github_world

CLIENT_REPO = "octo-org/hello-world"  # the client's tests: a repository of GitHub's examples


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path) as w:
        yield w


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, Path]:
    return make_remote(tmp_path / "git")


@pytest.fixture
def fake(remote: tuple[Path, Path]) -> Iterator[FakeGitHub]:
    with serve_github(CLIENT_REPO, remote=remote[0]) as server:
        yield server


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHub]:
    with GitHub(
        TOKEN, CLIENT_REPO, fake.url, retries=3, timeout=5, backoff=0, write_interval=0
    ) as gh:
        yield gh
