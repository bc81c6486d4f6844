from pathlib import Path

import pytest

from mutbot.edits import EditError
from mutbot.knobs import Knob, changed_keys, dockerfile, find_knobs, set_knob
from mutbot.proposers.base import TargetFile

GUNICORN = Path("testing/fixtures/settings/Dockerfile.gunicorn").read_text()
UVICORN = Path("testing/fixtures/settings/Dockerfile.uvicorn").read_text()


def knobs(text: str) -> dict[str, Knob]:
    return {k.key: k for k in find_knobs(TargetFile("Dockerfile", text))}


def test_shell_form_flags_with_short_names_and_continuations() -> None:
    assert {k: (v.line, v.raw, v.type) for k, v in knobs(GUNICORN).items()} == {
        "CMD.--workers": (9, "1", "int"),
        "CMD.--threads": (9, "1", "int"),
        "CMD.--access-logfile": (10, "-", "str"),
    }


def test_exec_form_flags() -> None:
    found = knobs(UVICORN)
    assert {k: (v.line, v.raw) for k, v in found.items()} == {
        "CMD.--workers": (7, "1"),
        "CMD.--log-level": (7, "debug"),
    }
    new = set_knob(UVICORN, found["CMD.--workers"], "3")
    assert '"--workers", "3", "--log-level"' in new
    assert dockerfile.read(new)["CMD.--workers"] == "3"
    assert changed_keys("Dockerfile", UVICORN, new) == {"CMD.--workers"}


def test_env_forms() -> None:
    text = 'FROM x\nENV A=1 B="2" \\\n    C=off\nENV WORKERS 4\n'
    found = knobs(text)
    assert {k: (v.line, v.raw) for k, v in found.items()} == {
        "ENV.A": (2, "1"),
        "ENV.B": (2, "2"),
        "ENV.C": (3, "off"),
        "ENV.WORKERS": (4, "4"),
    }
    assert set_knob(text, found["ENV.B"], "8") == text.replace('B="2"', 'B="8"')


def test_edits_that_break_the_command_fail() -> None:
    with pytest.raises(EditError):
        set_knob(UVICORN, knobs(UVICORN)["CMD.--workers"], '1", "2')
    with pytest.raises(EditError, match="reads '1'"):
        set_knob(GUNICORN, knobs(GUNICORN)["CMD.--workers"], "1 --threads 2")


def test_short_flags_only_for_known_servers_and_ports_are_not_knobs() -> None:
    text = "FROM x\nENV PORT=8080\nCMD python tool.py -w 1 --workers 2\n"
    assert list(knobs(text)) == ["CMD.--workers"]
