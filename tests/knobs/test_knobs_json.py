import json
from pathlib import Path

import pytest

from mutbot.edits import EditError
from mutbot.knobs import Knob, changed_keys, find_knobs, set_knob
from mutbot.knobs.model import render
from mutbot.proposers.base import TargetFile

TEXT = Path("testing/fixtures/settings/appsettings.json").read_text()


def knobs(text: str = TEXT) -> dict[str, Knob]:
    return {k.key: k for k in find_knobs(TargetFile("appsettings.json", text))}


def test_nested_objects_positions_and_types() -> None:
    found = knobs()
    assert {k: (v.line, v.raw) for k, v in found.items()} == {
        "Logging.LogLevel.Default": (4, '"Debug"'),
        "Logging.LogLevel.Microsoft.AspNetCore": (5, '"Warning"'),
        "Kestrel.Limits.MaxConcurrentConnections": (10, "100"),
        "Kestrel.Limits.KeepAliveTimeout": (11, "120"),
        "Cache.Enabled": (14, "false"),
        "Cache.SizeLimit": (14, "1024"),
        "Database.MaxPoolSize": (15, "2"),
        "Database.CommandTimeout": (15, "30"),
        "Workers": (16, "1"),
    }
    assert found["Logging.LogLevel.Default"].choices[0] == "debug"
    assert "AllowedHosts" not in found


def test_enum_keeps_quotes_and_case_and_json_agrees() -> None:
    level = knobs()["Logging.LogLevel.Default"]
    assert render(level, "info") == '"Information"'.replace("Information", "Info")
    new = set_knob(TEXT, level, render(level, "info"))
    assert json.loads(new)["Logging"]["LogLevel"]["Default"] == "Info"
    assert changed_keys("appsettings.json", TEXT, new) == {"Logging.LogLevel.Default"}
    assert new.count("\n") == TEXT.count("\n")


def test_invalid_json_fails() -> None:
    with pytest.raises(EditError, match="breaks the file"):
        set_knob(TEXT, knobs()["Workers"], "4,")
