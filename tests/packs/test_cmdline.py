from __future__ import annotations

import pytest

from mutbot.packs import cmdline
from mutbot.packs.model import apply_edits
from mutbot.packs.view import Sandbox, View
from testing.packs import view_of

WORKERS = ("--workers", "-w")
REQ = "flask\ngunicorn\n"


def dockerfile(cmd: str) -> dict[str, str]:
    head = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
    return {"Dockerfile": head + cmd + "\n", "requirements.txt": REQ, "app.py": "app = 1\n"}


def launched(files: dict[str, str], sandbox: Sandbox | None = None) -> View:
    view = view_of(files, sandbox)
    assert view.launch is not None
    return view


def added(files: dict[str, str], value: object = 3, names: tuple[str, ...] = WORKERS) -> str:
    view = launched(files)
    assert view.launch is not None
    edits = cmdline.set_flag(view, view.launch, names, value)  # type: ignore[arg-type]
    assert edits is not None
    (path,) = {e.path for e in edits}
    return apply_edits(files, edits)[path]


def test_exec_form_adds_json_items_after_the_program() -> None:
    files = dockerfile('CMD ["gunicorn", "app:app", "--bind", "0.0.0.0:5000"]')
    assert added(files).endswith(
        'CMD ["gunicorn", "--workers", "3", "app:app", "--bind", "0.0.0.0:5000"]\n'
    )


def test_exec_form_keeps_the_list_separator() -> None:
    files = dockerfile('CMD ["gunicorn","app:app"]')
    assert added(files).endswith('CMD ["gunicorn","--workers","3","app:app"]\n')


@pytest.mark.parametrize(
    ("written", "after"),
    [
        ("--workers 2", "--workers 3"),
        ("--workers=2", "--workers=3"),
        ("-w 2", "-w 3"),
        ("-w2", "-w3"),
        ("-w=2", "-w=3"),
    ],
)
def test_shell_form_changes_the_value_where_written(written: str, after: str) -> None:
    files = dockerfile(f"CMD gunicorn app:app {written} --bind 0.0.0.0:5000")
    view = launched(files)
    assert view.launch is not None
    found = cmdline.flag(view, view.launch, WORKERS)
    assert found is not None and found.value == "2" and found.line == 4
    assert added(files).endswith(f"CMD gunicorn app:app {after} --bind 0.0.0.0:5000\n")


def test_exec_form_glued_short_option() -> None:
    files = dockerfile('CMD ["gunicorn", "-w2", "app:app"]')
    assert added(files, 5).endswith('CMD ["gunicorn", "-w5", "app:app"]\n')


def test_the_last_written_wins() -> None:
    files = dockerfile("CMD gunicorn -w 2 app:app --workers 4")
    view = launched(files)
    assert view.launch is not None
    found = cmdline.flag(view, view.launch, WORKERS)
    assert found is not None and (found.name, found.value) == ("--workers", "4")
    assert added(files).endswith("CMD gunicorn -w 2 app:app --workers 3\n")


def test_flags_as_written_with_their_lines_and_spans() -> None:
    files = dockerfile(
        "CMD uvicorn main:app --host 0.0.0.0 \\\n    --port 8000 --reload --log-level=info"
    )
    files["main.py"] = "app = 1\n"
    view = launched(files)
    assert view.launch is not None
    found = cmdline.flags(view, view.launch, switches=("--reload",))
    text = files["Dockerfile"]
    assert [(f.name, f.value, f.line) for f in found] == [
        ("--host", "0.0.0.0", 4),
        ("--port", "8000", 5),
        ("--reload", None, 5),
        ("--log-level", "info", 5),
    ]
    assert [text[f.span[0] : f.span[1]] for f in found if f.span] == ["0.0.0.0", "8000", "info"]


def test_entrypoint_script_line() -> None:
    files = {
        **dockerfile('ENTRYPOINT ["./boot.sh"]'),
        "boot.sh": "#!/bin/sh\nset -e\nflask db upgrade\nexec gunicorn app:app -b 0.0.0.0:5000\n",
    }
    assert added(files, 4) == (
        "#!/bin/sh\nset -e\nflask db upgrade\nexec gunicorn --workers 4 app:app -b 0.0.0.0:5000\n"
    )


def test_script_continuation_is_followed() -> None:
    files = {
        **dockerfile('CMD ["sh", "start.sh"]'),
        "start.sh": "exec gunicorn app:app \\\n  --bind 0.0.0.0:8000 \\\n  -w 2\n",
    }
    view = launched(files)
    assert view.launch is not None
    found = cmdline.flag(view, view.launch, WORKERS)
    assert found is not None and (found.value, found.line) == ("2", 3)
    assert added(files).endswith("  -w 3\n")


def test_sh_c_inside_exec_form() -> None:
    files = dockerfile('CMD ["sh", "-c", "gunicorn app:app --bind 0.0.0.0:$PORT"]')
    assert added(files).endswith(
        'CMD ["sh", "-c", "gunicorn --workers 3 app:app --bind 0.0.0.0:$PORT"]\n'
    )


def test_python_m_adds_after_the_module() -> None:
    files = dockerfile("CMD python -m gunicorn app:app -b 0.0.0.0:8000")
    assert added(files).endswith("CMD python -m gunicorn --workers 3 app:app -b 0.0.0.0:8000\n")


def test_a_value_that_needs_quotes() -> None:
    files = dockerfile("CMD gunicorn app:app --bind 0.0.0.0:8000")
    out = added(files, "a b", ("--name",))
    assert out.endswith("CMD gunicorn --name 'a b' app:app --bind 0.0.0.0:8000\n")
    nested = dockerfile('CMD ["sh", "-c", "gunicorn app:app"]')
    view = launched(nested)
    assert view.launch is not None
    assert cmdline.set_flag(view, view.launch, ("--name",), "a b") is None


def test_command_from_the_sandbox_config_is_read_not_edited() -> None:
    files = dockerfile("")
    view = launched(files, Sandbox(command="gunicorn app:app -b 0.0.0.0:8000 -w 2"))
    assert view.launch is not None
    assert [(f.name, f.value, f.path, f.span) for f in cmdline.flags(view, view.launch)] == [
        ("-b", "0.0.0.0:8000", None, None),
        ("-w", "2", None, None),
    ]
    assert cmdline.set_flag(view, view.launch, WORKERS, 3) is None


def test_not_a_target_is_not_edited() -> None:
    files = dockerfile('CMD ["gunicorn", "app:app"]')
    view = view_of(files, targets={"app.py"})
    assert view.launch is not None
    assert cmdline.command(view, view.launch) is not None
    assert cmdline.set_flag(view, view.launch, WORKERS, 3) is None


@pytest.mark.parametrize(
    ("cmd", "after"),
    [
        ("CMD uvicorn main:app --reload --port 8000", "CMD uvicorn main:app --port 8000"),
        ('CMD ["uvicorn", "main:app", "--reload"]', 'CMD ["uvicorn", "main:app"]'),
    ],
)
def test_drop_a_switch(cmd: str, after: str) -> None:
    files = {**dockerfile(cmd), "main.py": "app = 1\n"}
    view = launched(files)
    assert view.launch is not None
    edits = cmdline.drop_flag(view, view.launch, ("--reload",))
    assert edits is not None
    assert apply_edits(files, edits)["Dockerfile"].endswith(after + "\n")
    assert cmdline.drop_flag(view, view.launch, ("--missing",)) is None


def test_compose_command_string_and_lists() -> None:
    # Compose and Kubernetes files are not where a View finds the launch today; the command
    # reader still knows them, for a launch whose source points there.
    from mutbot.discover.model import Source
    from mutbot.discover.process import Launch

    compose = (
        "services:\n  web:\n    command: gunicorn app:app -w 2\n"
        '  api:\n    command: ["uvicorn", "main:app"]\n'
        "  k8s:\n    args:\n      - gunicorn\n      - app:app\n"
    )
    files = {**dockerfile('CMD ["gunicorn", "app:app"]'), "compose.yml": compose}
    view = view_of(files, Sandbox(compose="compose.yml"))

    def edit(line: int, argv: tuple[str, ...], value: int) -> str:
        launch = Launch(argv[0], argv, Source("compose.yml", line), {})
        edits = cmdline.set_flag(view, launch, WORKERS, value)
        assert edits is not None
        return apply_edits(files, edits)["compose.yml"]

    assert "command: gunicorn app:app -w 4\n" in edit(3, ("gunicorn", "app:app", "-w", "2"), 4)
    assert 'command: ["uvicorn", "--workers", "2", "main:app"]' in edit(
        5, ("uvicorn", "main:app"), 2
    )
    assert "      - gunicorn\n      - --workers\n      - 3\n      - app:app\n" in edit(
        7, ("gunicorn", "app:app"), 3
    ).replace('"', "")
