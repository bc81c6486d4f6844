from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.model import Finding, Move
from mutbot.packs.uwsgi import PACK, SETTINGS
from mutbot.packs.view import Sandbox
from testing.packs import applied, by_key, proves, sample_files, view_of

SAMPLE = Path(__file__).resolve().parents[2] / "testing" / "packs" / "uwsgi-ini"
BIG = Sandbox(cpus=2, memory=512 * 1024 * 1024)


def sample() -> dict[str, str]:
    return sample_files(SAMPLE)


def with_cmd(cmd: str, **more: str) -> dict[str, str]:
    head = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
    return {"Dockerfile": f"{head}{cmd}\n", "app.py": "application = None\n", **more}


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


def test_the_ini_sample_reads_its_settings_and_the_defaults() -> None:
    seen = PACK.scan(view_of(sample(), BIG))
    assert {s.setting.name: (s.value, s.written) for s in seen} == {
        "processes": (1, False),
        "threads": (1, False),
        "enable-threads": (True, True),
        "harakiri": (0, False),
        "listen": (100, False),
        "max-requests": (0, False),
        "buffer-size": (8192, True),
        "master": (True, True),
        "disable-logging": (False, False),
        "http-socket": ("0.0.0.0:8080", True),
        "uid": ("shop", True),
        "gid": ("shop", True),
        "module": ("shop.wsgi:application", True),
    }
    by_name = {s.setting.name: s for s in seen}
    for name in ("http-socket", "uid", "gid", "module"):
        assert by_name[name].setting.safety == "never" and by_name[name].setter is None
    assert str(by_name["enable-threads"].site) == "deploy/uwsgi.ini:9"
    assert str(by_name["processes"].site) == "deploy/uwsgi.ini:13"  # where it would be added
    assert all(s.reaches == "build" for s in seen)


def test_the_ini_sample_findings_and_their_fixes_in_the_file_style() -> None:
    files = sample()
    findings, _ = checked(files)
    assert [(f.category, f.title, f.why) for f in findings] == [
        (
            "single-worker",
            "Set processes to 2 (default 1)",
            "no processes (default 1): one worker process serves every request",
        ),
        (
            "single-worker",
            "Set threads to 4 (default 1)",
            "enable-threads = true but no threads (default 1): each process serves one request"
            " at once",
        ),
        (
            "missing-timeout",
            "Set harakiri to 60 (default 0)",
            "no harakiri (default 0): a stuck request holds its worker forever",
        ),
    ]
    processes = findings[0].fix[0]
    assert processes.rule == "CPUs (limit 2 CPU): 2"
    ini = applied(files, processes)["deploy/uwsgi.ini"]
    assert ini == files["deploy/uwsgi.ini"] + "processes = 2\n"


@pytest.mark.parametrize(
    ("cpus", "mib", "n"), [(4, 1024, 4), (0.5, 512, 2), (8, 256, 3), (2, 100, 1)]
)
def test_processes_follow_the_cpus_and_fit_the_memory(cpus: float, mib: int, n: int) -> None:
    findings, _ = checked(sample(), Sandbox(cpus=cpus, memory=mib * 1024 * 1024))
    (single,) = [f for f in findings if f.key == "uwsgi.processes"]
    assert [m.value for m in single.fix] == ([n] if n > 1 else [])  # 1 fits: found, no fix


def test_an_option_written_in_the_file_is_changed_in_place() -> None:
    ini = "[uwsgi]\nhttp=:8000\nmodule=app:application\nworkers=1\nthreads=1\nharakiri=30\n"
    files = with_cmd('CMD ["uwsgi", "uwsgi.ini"]', **{"uwsgi.ini": ini})
    seen = by_key(PACK.scan(view_of(files, BIG)))
    assert seen["uwsgi.processes"].value == 1 and seen["uwsgi.processes"].raw == "1"
    findings, _ = checked(files)
    assert [f.title for f in findings] == ["Raise processes from 1 to 2"]
    after = applied(files, findings[0].fix[0])["uwsgi.ini"]
    assert after == ini.replace("workers=1", "workers=2")
    add = next(s for s in PACK.scan(view_of(files, BIG)) if s.setting.name == "listen")
    assert add.setter is not None
    move = Move(add, 200, "", add.setter(200))
    proves(PACK, files, move, BIG)
    assert applied(files, move)["uwsgi.ini"] == ini + "listen=200\n"


def test_a_named_section_and_a_section_followed_by_another() -> None:
    ini = "[uwsgi]\nprocesses = 8\n\n[prod]\nhttp = :8000\nprocesses = 1\n\n[other]\nx = 1\n"
    files = with_cmd('CMD ["uwsgi", "--ini", "uwsgi.ini:prod"]', **{"uwsgi.ini": ini})
    findings, _ = checked(files)
    fix = next(f for f in findings if f.key == "uwsgi.processes").fix[0]
    harakiri = next(f for f in findings if f.key == "uwsgi.harakiri").fix[0]
    assert applied(files, fix)["uwsgi.ini"] == ini.replace("processes = 1", "processes = 2")
    assert applied(files, harakiri)["uwsgi.ini"] == ini.replace(
        "processes = 1\n", "processes = 1\nharakiri = 60\n"
    )


def test_options_on_the_command_line() -> None:
    cmd = (
        'CMD ["uwsgi", "--http", ":8000", "--module", "app:application", "--master",'
        ' "--processes", "1", "--enable-threads"]'
    )
    files = with_cmd(cmd)
    seen = by_key(PACK.scan(view_of(files, BIG)))
    assert seen["uwsgi.processes"].value == 1 and seen["uwsgi.processes"].written
    assert seen["uwsgi.http"].value == ":8000" and seen["uwsgi.http"].setting.safety == "never"
    assert seen["uwsgi.master"].value is True and seen["uwsgi.master"].setter is None
    assert seen["uwsgi.enable-threads"].value is True
    findings, explore = checked(files)
    new = {f.key: applied(files, f.fix[0])["Dockerfile"].splitlines()[-1] for f in findings}
    assert new == {
        "uwsgi.processes": cmd.replace('"--processes", "1"', '"--processes", "2"'),
        "uwsgi.threads": cmd.replace('["uwsgi", ', '["uwsgi", "--threads", "4", '),
        "uwsgi.harakiri": cmd.replace('["uwsgi", ', '["uwsgi", "--harakiri", "60", '),
    }
    assert not any(m.seen.setting.name in ("http", "module", "master") for m in explore)


def test_short_flags_and_the_environment() -> None:
    files = with_cmd("ENV UWSGI_PROCESSES=1\nCMD uwsgi --http :8000 -w app:application -t 30")
    seen = by_key(PACK.scan(view_of(files, BIG)))
    assert seen["uwsgi.harakiri"].value == 30
    assert seen["uwsgi.module"].value == "app:application"  # -w is --module for uWSGI
    assert (
        seen["uwsgi.processes"].value == 1 and str(seen["uwsgi.processes"].site) == "Dockerfile:4"
    )
    findings, _ = checked(files)
    assert [f.key for f in findings] == ["uwsgi.processes"]
    after = applied(files, findings[0].fix[0])["Dockerfile"]
    assert "ENV UWSGI_PROCESSES=2\n" in after


def test_a_file_the_sandbox_does_not_measure_gives_opportunities_only() -> None:
    files = sample()
    view = view_of(files, BIG, targets={"Dockerfile"})
    seen = PACK.scan(view)
    assert all(s.setter is None for s in seen if s.site and s.site.path == "deploy/uwsgi.ini")
    findings = PACK.detect(view, seen)
    assert findings[0].key == "uwsgi.processes"
    # not in the ini (not a target): on the command line, which is
    assert [m.edits[0].text for m in findings[0].fix] == [', "--processes", "2"']


def test_no_uwsgi_nothing_seen() -> None:
    files = with_cmd('CMD ["gunicorn", "app:application"]', **{"uwsgi.ini": "[uwsgi]\n"})
    assert PACK.scan(view_of(files)) == []


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_settings_are_typed_with_uwsgi_defaults(name: str) -> None:
    setting = SETTINGS[name]
    assert setting.name == name
    assert setting.safety == "never" or setting.default is not None


def test_processes_from_the_hosts_cpu_count() -> None:
    ini = "[uwsgi]\nhttp = :8000\nprocesses = %k\nharakiri = 30\n"
    files = with_cmd('CMD ["uwsgi", "--ini", "uwsgi.ini"]', **{"uwsgi.ini": ini})
    seen = by_key(PACK.scan(view_of(files, BIG)))
    assert (seen["uwsgi.processes"].value, seen["uwsgi.processes"].raw) == (None, "%k")
    findings, _ = checked(files)
    (host,) = findings
    assert (host.category, host.title) == (
        "limits-unseen",
        "uWSGI: processes from the CPU limit, not the host's CPU count",
    )
    assert applied(files, host.fix[0])["uwsgi.ini"] == ini.replace("%k", "2")
