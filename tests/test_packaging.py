"""What `pip install` (not -e) ships: every package folder, or the action's install would lack
one (the editable install used in development hides a missing entry)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(("mutbot", *init.parent.relative_to(ROOT / "src" / "mutbot").parts))
        for init in (ROOT / "src" / "mutbot").rglob("__init__.py")
    }
    assert found - listed == set()
