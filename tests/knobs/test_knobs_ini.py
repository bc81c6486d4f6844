import configparser
from pathlib import Path

import pytest

from mutbot.edits import EditError
from mutbot.knobs import changed_keys, find_knobs, set_knob
from mutbot.proposers.base import TargetFile

SERVER_INI = Path("examples/pricing/config/server.ini").read_text()
UWSGI = Path("testing/fixtures/settings/uwsgi.ini").read_text()


def knob(text: str, key: str, path: str = "config/server.ini"):
    return next(k for k in find_knobs(TargetFile(path, text)) if k.key == key)


def test_positions_and_values_are_exact() -> None:
    found = {k.key: k for k in find_knobs(TargetFile("config/server.ini", SERVER_INI))}
    assert list(found) == [
        "server.threads", "server.cache_size", "server.log_requests",
        "server.downstream_ms", "server.currency_decimals",
    ]  # fmt: skip
    threads = found["server.threads"]
    assert (threads.line, threads.raw, threads.type, threads.value) == (3, "1", "int", 1)
    assert SERVER_INI[threads.start : threads.end] == "1"
    assert SERVER_INI.splitlines()[threads.line - 1] == "threads = 1"
    log = found["server.log_requests"]
    assert (log.line, log.type, log.value) == (7, "bool", True)


def test_set_knob_changes_one_line_and_configparser_agrees() -> None:
    new = set_knob(SERVER_INI, knob(SERVER_INI, "server.threads"), "8")
    changed = [
        (a, b) for a, b in zip(SERVER_INI.splitlines(), new.splitlines(), strict=True) if a != b
    ]
    assert changed == [("threads = 1", "threads = 8")]
    parser = configparser.ConfigParser()
    parser.read_string(new)
    assert parser["server"].getint("threads") == 8
    assert "# Worker threads. 1 = plain single-threaded HTTPServer." in new


def test_an_edit_that_changes_another_setting_or_the_structure_fails() -> None:
    with pytest.raises(EditError, match=r"server\.threads"):
        set_knob(SERVER_INI, knob(SERVER_INI, "server.threads"), "8\ncache_size = 5")
    with pytest.raises(EditError, match="file has changed"):
        set_knob(
            SERVER_INI.replace("threads = 1", "threads = 2"),
            knob(SERVER_INI, "server.threads"),
            "8",
        )


def test_changed_keys() -> None:
    new = SERVER_INI.replace("cache_size = 0", "cache_size = 64").replace("= 20", "= 30")
    assert changed_keys("config/server.ini", SERVER_INI, new) == {
        "server.cache_size", "server.downstream_ms",
    }  # fmt: skip
    assert changed_keys("config/server.ini", SERVER_INI, SERVER_INI + "extra = 1\n") == {
        "server.extra"
    }
    assert changed_keys("README.md", "a", "b") == set()


def test_uwsgi_dashes_and_semicolon_comments() -> None:
    found = {k.key: (k.line, k.raw) for k in find_knobs(TargetFile("uwsgi.ini", UWSGI))}
    assert found["uwsgi.processes"] == (5, "1")
    assert found["uwsgi.disable-logging"] == (10, "false")
    assert "uwsgi.module" not in found  # a free string is not a knob
    new = set_knob(UWSGI, knob(UWSGI, "uwsgi.disable-logging", "uwsgi.ini"), "true")
    assert "; request logging stays on while we debug the import job\ndisable-logging = true" in new


def test_multi_line_values_are_not_knobs() -> None:
    text = "[a]\nx = 1\n    2\ny = 3\n"
    assert [k.key for k in find_knobs(TargetFile("a.ini", text))] == ["a.y"]
