"""Tests for how `mutbot action` reads the event file (src/mutbot/github/action.py): a payload
that is not a JSON object is said in the log and ignored, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.errors import ConfigError
from mutbot.github.action import read_env, run_action
from testing.github_world import action_variables


def env_for(tmp_path: Path, event: bytes | None) -> dict[str, str]:
    # the API is never asked: nothing gets that far
    found = action_variables(
        tmp_path, "issue_comment", event or b"", "http://127.0.0.1:9", tmp_path
    )
    if event is None:
        (tmp_path / "event.json").unlink()
    return found


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (b"{not json", "not valid JSON at line 1, column 2: key must be a string"),
        (b"[" * 100_000, "not valid JSON at line 1, column 202: recursion limit exceeded"),
        (b'{"a": ' + b"1" * 5000 + b"}", "not valid JSON at line 1, column 4308: number out"),
        (b'{"a": "\xff"}', "not valid JSON at line 1, column 8: invalid unicode code point"),
    ],
    ids=["not-json", "nested", "5000-digits", "not-utf8"],
)
def test_an_event_that_is_not_json_is_logged_and_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], event: bytes, why: str
) -> None:
    assert run_action(read_env(env_for(tmp_path, event))) == 0
    out = capsys.readouterr().out
    path = tmp_path / "event.json"
    assert f"mutbot: issue_comment event: {path}: {why}" in out
    assert "; ignored\n" in out
    assert "Nothing ran: issue_comment event:" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize("event", [b"[]", b'"issue_comment"', b"null", b"3"])
def test_an_event_that_is_not_an_object_is_logged_and_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], event: bytes
) -> None:
    assert run_action(read_env(env_for(tmp_path, event))) == 0
    assert "the payload is not a JSON object; ignored" in capsys.readouterr().out


def test_an_event_file_that_cannot_be_read_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the event: No such file or directory"):
        run_action(read_env(env_for(tmp_path, None)))
