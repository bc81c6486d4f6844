"""The GitHub world most tests here share: the fake GitHub, a bare remote and a checkout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.github_world import World, github_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path) as w:
        yield w
