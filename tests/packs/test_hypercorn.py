from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.hypercorn import PACK, SETTINGS
from mutbot.packs.model import Finding, Move
from mutbot.packs.view import Sandbox
from testing.packs import applied, by_key, proves, sample_files, view_of

SAMPLE = Path(__file__).resolve().parents[2] / "testing" / "packs" / "hypercorn-cmd"
BIG = Sandbox(cpus=2, memory=512 * 1024 * 1024)
REQUIREMENTS = "quart==0.19.6\nhypercorn==0.17.3\n"


def sample() -> dict[str, str]:
    return sample_files(SAMPLE)


def with_cmd(cmd: str, **more: str) -> dict[str, str]:
    head = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
    return {"Dockerfile": f"{head}{cmd}\n", "requirements.txt": REQUIREMENTS, **more}


def checked(
    files: dict[str, str], sandbox: Sandbox = BIG, targets: set[str] | None = None
) -> tuple[list[Finding], list[Move]]:
    view = view_of(files, sandbox, targets)
    seen = PACK.scan(view)
    findings, explore = PACK.detect(view, seen), PACK.explore(view, seen)
    for move in [m for f in findings for m in f.fix] + explore:
        assert move.seen.setting.safety == "tune"
        proves(PACK, files, move, sandbox)
    return findings, explore


def test_the_shell_form_sample_reads_flags_and_defaults() -> None:
    seen = PACK.scan(view_of(sample(), BIG))
    assert {s.setting.name: (s.value, s.written) for s in seen} == {
        "workers": (1, False),
        "worker_class": ("asyncio", False),
        "keep_alive_timeout": (5.0, False),
        "backlog": (100, False),
        "graceful_timeout": (3.0, False),
        "read_timeout": (None, False),
        "loglevel": ("DEBUG", True),
        "accesslog": ("-", True),
        "debug": (False, False),
        "bind": ("0.0.0.0:8000", True),
    }
    by_name = {s.setting.name: s for s in seen}
    assert by_name["bind"].setting.safety == "never" and by_name["bind"].setter is None
    assert str(by_name["workers"].site) == "Dockerfile:12"
    assert by_name["debug"].setter is None  # a switch cannot be added as `--debug false`


def test_the_sample_gets_workers_and_a_quieter_log() -> None:
    files = sample()
    findings, explore = checked(files)
    assert [(f.category, f.title) for f in findings] == [
        ("single-worker", "Set workers to 2 (default 1)"),
        ("verbose-logging", "Set loglevel to 'INFO' (was 'DEBUG')"),
    ]
    assert findings[0].why == "no workers (default 1): one worker process serves every request"
    cmd = applied(files, findings[0].fix[0])["Dockerfile"].splitlines()[-1]
    assert cmd == (
        "CMD hypercorn --workers 2 --bind 0.0.0.0:8000 --access-logfile - --log-level debug"
        " app.main:app"
    )
    quieter = applied(files, findings[1].fix[0])["Dockerfile"].splitlines()[-1]
    assert "--log-level info " in quieter
    uvloop = [m for m in explore if m.seen.setting.name == "worker_class"]
    assert [(m.value, m.edits[0].text) for m in uvloop] == [("uvloop", " --worker-class uvloop")]


@pytest.mark.parametrize(
    ("cmd", "after"),
    [
        ('CMD ["hypercorn", "-w", "1", "app:app"]', 'CMD ["hypercorn", "-w", "4", "app:app"]'),
        ("CMD hypercorn --workers=1 app:app", "CMD hypercorn --workers=4 app:app"),
        ("CMD hypercorn -w1 app:app", "CMD hypercorn -w4 app:app"),
    ],
)
def test_workers_written_on_the_command_line(cmd: str, after: str) -> None:
    files = with_cmd(cmd)
    sandbox = Sandbox(cpus=4, memory=1024 * 1024 * 1024)
    seen = by_key(PACK.scan(view_of(files, sandbox)))
    assert seen["hypercorn.workers"].value == 1 and seen["hypercorn.workers"].written
    findings, _ = checked(files, sandbox)
    (single,) = [f for f in findings if f.category == "single-worker"]
    assert single.title == "Raise workers from 1 to 4"
    assert applied(files, single.fix[0])["Dockerfile"].splitlines()[-1] == after


def test_a_toml_config_file_and_the_command_line_over_it() -> None:
    toml = 'bind = ["0.0.0.0:8000"]\nworkers = 1\nkeep_alive_timeout = 2\n\n[logging]\nx = 1\n'
    files = with_cmd(
        'CMD ["hypercorn", "-c", "hypercorn.toml", "--keep-alive", "10", "app:app"]',
        **{"hypercorn.toml": toml},
    )
    seen = by_key(PACK.scan(view_of(files, BIG)))
    assert seen["hypercorn.workers"].value == 1 and str(seen["hypercorn.workers"].site) == (
        "hypercorn.toml:2"
    )
    assert seen["hypercorn.keep_alive_timeout"].value == 10  # the flag wins
    assert seen["hypercorn.bind"].setting.safety == "never"
    findings, _ = checked(files)
    after = applied(files, findings[0].fix[0])["hypercorn.toml"]
    assert after == toml.replace("workers = 1", "workers = 2")


def test_a_missing_setting_goes_to_the_config_file_when_the_command_is_not_measured() -> None:
    toml = 'bind = "0.0.0.0:8000"\n\n[logging]\nx = 1\n'
    files = with_cmd(
        'CMD ["hypercorn", "--config", "hypercorn.toml", "app:app"]', **{"hypercorn.toml": toml}
    )
    findings, _ = checked(files, targets={"hypercorn.toml"})
    after = applied(files, findings[0].fix[0])["hypercorn.toml"]
    assert after == 'bind = "0.0.0.0:8000"\nworkers = 2\n\n[logging]\nx = 1\n'


def test_debug_in_a_python_config_file_is_turned_off() -> None:
    conf = "workers = 4\ndebug = True\nbind = ['0.0.0.0:8000']\n"
    files = with_cmd(
        'CMD ["hypercorn", "-c", "file:hypercorn_conf.py", "app:app"]',
        **{"hypercorn_conf.py": conf},
    )
    findings, _ = checked(files)
    assert [(f.category, f.title) for f in findings] == [("verbose-logging", "Turn debug off")]
    assert applied(files, findings[0].fix[0])["hypercorn_conf.py"] == conf.replace(
        "debug = True", "debug = False"
    )


def test_no_uvloop_no_event_loop_move_and_never_settings_never_move() -> None:
    files = with_cmd("CMD hypercorn --bind 0.0.0.0:8000 --certfile c.pem --keyfile k.pem app:app")
    _, explore = checked(files)
    assert explore and not any(m.seen.setting.name == "worker_class" for m in explore)
    seen = by_key(PACK.scan(view_of(files, BIG)))
    assert {k for k, s in seen.items() if s.setting.safety == "never"} == {
        "hypercorn.bind",
        "hypercorn.certfile",
        "hypercorn.keyfile",
    }


def test_one_worker_is_all_that_fits_found_not_proposed() -> None:
    findings, _ = checked(sample(), Sandbox(cpus=2, memory=96 * 1024 * 1024))
    (single,) = [f for f in findings if f.category == "single-worker"]
    assert single.fix == ()


def test_other_servers_are_not_hypercorn() -> None:
    assert PACK.scan(view_of(with_cmd("CMD uvicorn app:app --host 0.0.0.0"))) == []


def test_settings_carry_hypercorns_defaults() -> None:
    assert SETTINGS["workers"].default == 1
    assert SETTINGS["keep_alive_timeout"].default == 5.0
    assert SETTINGS["worker_class"].default == "asyncio"
    assert SETTINGS["backlog"].default == 100
