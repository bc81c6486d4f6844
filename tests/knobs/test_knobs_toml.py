import tomllib
from pathlib import Path

import pytest

from mutbot.edits import EditError
from mutbot.knobs import changed_keys, find_knobs, set_knob
from mutbot.proposers.base import TargetFile

TEXT = Path("testing/fixtures/settings/settings.toml").read_text()


def knobs() -> dict[str, object]:
    return {k.key: k for k in find_knobs(TargetFile("settings.toml", TEXT))}


def test_tables_quoted_keys_and_comments() -> None:
    found = knobs()
    assert {k: (v.line, v.raw, v.type) for k, v in found.items()} == {  # type: ignore[attr-defined]
        "server.workers": (5, "4", "int"),
        "server.timeout": (6, "30", "int"),
        "database.pool_size": (10, "1", "int"),
        "database.max_overflow": (11, "0", "int"),
        "database.pool_timeout": (12, "30", "int"),
        "cache.enabled": (15, "false", "bool"),
        "cache.ttl_seconds": (16, "300", "int"),
        "cache.max_entries": (17, "0", "int"),
        "redis.max_connections": (20, "2", "int"),
    }


def test_set_knob_keeps_the_comment_and_tomllib_agrees() -> None:
    new = set_knob(TEXT, knobs()["database.pool_size"], "10")  # type: ignore[arg-type]
    assert "pool_size = 10   # one connection shared by every request" in new
    assert tomllib.loads(new)["database"]["pool_size"] == 10
    assert changed_keys("settings.toml", TEXT, new) == {"database.pool_size"}


def test_a_value_of_another_type_or_a_broken_file_fails() -> None:
    with pytest.raises(EditError, match="breaks the file"):
        set_knob(TEXT, knobs()["cache.enabled"], "tru")  # type: ignore[arg-type]
    with pytest.raises(EditError, match="also changes"):
        set_knob(TEXT, knobs()["cache.enabled"], "true\nextra = 1")  # type: ignore[arg-type]


def test_arrays_of_tables_and_multi_line_strings_are_skipped() -> None:
    text = '[[workers]]\nthreads = 1\n[a]\ndoc = """\nfake = 1\n"""\nreal = 2\n'
    assert [k.key for k in find_knobs(TargetFile("x.toml", text))] == ["a.real"]
