import ast
from pathlib import Path

import pytest

from mutbot.edits import EditError
from mutbot.knobs import Knob, changed_keys, find_knobs, format_of, set_knob
from mutbot.proposers.base import TargetFile

TEXT = Path("testing/fixtures/settings/gunicorn.conf.py").read_text()


def knobs(text: str = TEXT, path: str = "gunicorn.conf.py") -> dict[str, Knob]:
    return {k.key: k for k in find_knobs(TargetFile(path, text))}


def test_module_level_literals() -> None:
    assert {k: (v.line, v.raw, v.type) for k, v in knobs().items()} == {
        "workers": (3, "1", "int"),
        "worker_class": (4, '"sync"', "enum"),
        "accesslog": (5, '"-"', "str"),
        "loglevel": (7, '"info"', "enum"),
        "keepalive": (8, "2", "int"),
    }


def test_set_knob_keeps_comments_and_ast_agrees() -> None:
    new = set_knob(TEXT, knobs()["accesslog"], "None")
    assert "accesslog = None  # one line per request on stdout" in new
    values = {
        n.targets[0].id: ast.literal_eval(n.value)  # type: ignore[attr-defined]
        for n in ast.parse(new).body
        if isinstance(n, ast.Assign)
    }
    assert values["accesslog"] is None
    assert changed_keys("gunicorn.conf.py", TEXT, new) == {"accesslog"}


def test_broken_python_fails() -> None:
    with pytest.raises(EditError, match="breaks the file"):
        set_knob(TEXT, knobs()["workers"], "(")


def test_which_python_files_are_configs() -> None:
    assert format_of("deploy/gunicorn.conf.py") is not None
    assert format_of("app/server_conf.py") is not None
    assert format_of("app/config.py") is not None
    assert format_of("app/views.py") is None


def test_non_ascii_before_a_value_keeps_offsets_right() -> None:
    text = 'name = "café"; workers = 2\nthreads = 3\n'
    found = knobs(text, "app_config.py")
    assert text[found["workers"].start : found["workers"].end] == "2"
