"""docs/proposers.md lists exactly what the registered packs know."""

from __future__ import annotations

from pathlib import Path

from mutbot.packs import PACKS
from mutbot.packs.catalogue import catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "proposers.md"


def test_the_docs_show_the_generated_catalogue() -> None:
    assert catalogue() in DOC.read_text(), "run: python -m mutbot.packs.catalogue"


def test_every_pack_and_setting_is_listed() -> None:
    text = catalogue()
    for name, pack in PACKS.items():
        assert f"### {name}\n" in text
        for setting in pack.settings.values():
            assert f"| `{setting.name}` |" in text
