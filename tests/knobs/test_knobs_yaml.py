from pathlib import Path

import pytest
import yaml

from mutbot.edits import EditError
from mutbot.knobs import Knob, changed_keys, find_knobs, set_knob
from mutbot.proposers.base import TargetFile

TEXT = Path("testing/fixtures/settings/app.yaml").read_text()


def knobs(text: str = TEXT) -> dict[str, Knob]:
    return {k.key: k for k in find_knobs(TargetFile("app.yaml", text))}


def test_nested_keys_positions_and_types() -> None:
    found = knobs()
    assert {k: (v.line, v.raw, v.type) for k, v in found.items()} == {
        "app.debug": (4, "true", "bool"),
        "app.server.workers": (6, "1", "int"),
        "app.server.threads": (7, "8", "int"),
        "app.server.keepalive": (8, "5", "int"),
        "app.logging.level": (10, "DEBUG", "enum"),
        "app.logging.access_log": (11, "yes", "bool"),
        "app.cache.size_mb": (14, "0", "int"),
        "app.database.pool.min": (18, "1", "int"),
        "app.database.pool.max": (19, "2", "int"),
    }
    assert all(TEXT[k.start : k.end] == k.raw for k in found.values())


def test_set_knob_keeps_comments_and_safe_load_agrees() -> None:
    new = set_knob(TEXT, knobs()["app.server.threads"], "16")
    assert "    threads: 16   # per worker" in new
    assert yaml.safe_load(new)["app"]["server"]["threads"] == 16
    new = set_knob(new, knobs(new)["app.logging.level"], "INFO")
    assert changed_keys("app.yaml", TEXT, new) == {"app.server.threads", "app.logging.level"}


def test_an_edit_that_breaks_the_structure_fails() -> None:
    with pytest.raises(EditError):
        set_knob(TEXT, knobs()["app.server.workers"], "4\n  extra: 1")
    with pytest.raises(EditError, match="breaks the file"):
        set_knob(TEXT, knobs()["app.server.workers"], "[4")


def test_anchors_lists_and_several_documents() -> None:
    text = "a: &n 1\nb: *n\nc: [1, 2]\n---\nreplicas: 3\n"
    assert sorted(knobs(text)) == ["0.c.0", "0.c.1", "1.replicas"]
