from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.model import Finding, Move, Seen
from mutbot.packs.uvicorn import PACK
from mutbot.packs.view import Sandbox, View
from testing.packs import applied, by_key, proves, sample_files, sample_view, view_of

MIB = 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[2] / "testing" / "packs"
DEFAULTS = {
    "workers": 1,
    "timeout_keep_alive": 5,
    "limit_concurrency": None,
    "limit_max_requests": None,
    "backlog": 2048,
    "http": "auto",
    "loop": "auto",
    "log_level": "info",
    "access_log": True,
    "reload": False,
}
FASTAPI = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def load(name: str) -> dict[str, str]:
    return sample_files(SAMPLES / name, config=False)


def service(cmd: str, env: str = "", reqs: str = "fastapi\nuvicorn\n") -> dict[str, str]:
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        f"RUN pip install --no-cache-dir -r requirements.txt\n{env}COPY . .\n{cmd}\n"
    )
    return {"Dockerfile": dockerfile, "requirements.txt": reqs, "main.py": FASTAPI}


def state(seen: list[Seen]) -> dict[str, tuple[object, bool]]:
    return {s.setting.name: (s.value, s.written) for s in seen}


def defaults(**written: object) -> dict[str, tuple[object, bool]]:
    out = {k: (v, False) for k, v in DEFAULTS.items()}
    out.update({k: (v, True) for k, v in written.items()})
    return out


def survey(files: dict[str, str], sandbox: Sandbox) -> tuple[View, list[Seen], list[Finding]]:
    view = view_of(files, sandbox)
    seen = PACK.scan(view)
    return view, seen, PACK.detect(view, seen)


def every_move_proves(files: dict[str, str], sandbox: Sandbox) -> list[Move]:
    view, seen, findings = survey(files, sandbox)
    moves = [m for f in findings for m in f.fix] + PACK.explore(view, seen)
    for move in moves:
        assert move.seen.setting.safety != "never"
        proves(PACK, files, move, sandbox)
    return moves


def test_shell_form_cmd_sample() -> None:
    files = load("uvicorn-shell")
    sandbox = Sandbox(cpus=2, memory=512 * MIB)
    _, seen, findings = survey(files, sandbox)
    assert state(seen) == defaults(host="0.0.0.0", port=8080, proxy_headers=True)
    (found,) = findings
    assert (found.category, found.title, str(found.site)) == (
        "single-worker",
        "uvicorn: 2 workers instead of 1",
        "Dockerfile:9",
    )
    assert found.why == "uvicorn runs one process: nothing sets --workers or WEB_CONCURRENCY"
    (fix,) = found.fix
    assert (fix.value, fix.rule) == (2, "CPUs (limit 2 CPU): 2")
    assert applied(files, fix)["Dockerfile"].endswith(
        "CMD uvicorn --workers 2 api.main:app --host 0.0.0.0 --port 8080 --proxy-headers\n"
    )
    moves = every_move_proves(files, sandbox)
    assert [(m.seen.setting.name, m.value) for m in moves] == [
        ("workers", 2),
        ("workers", 2),
        ("workers", 4),
        ("timeout_keep_alive", 15),
        ("access_log", False),
    ]
    assert "--no-access-log api.main:app" in applied(files, moves[-1])["Dockerfile"]


def test_the_sample_as_a_run_sees_it(tmp_path: Path) -> None:
    view = sample_view(SAMPLES / "uvicorn-shell", tmp_path)
    seen = PACK.scan(view)
    assert [f.title for f in PACK.detect(view, seen)] == ["uvicorn: 2 workers instead of 1"]


def test_one_cpu_still_gets_two_workers_in_exec_form() -> None:
    files = service('CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]')
    sandbox = Sandbox(cpus=1, memory=512 * MIB)
    (found,) = survey(files, sandbox)[2]
    (fix,) = found.fix
    assert (fix.value, fix.rule) == (2, "CPUs (limit 1 CPU), at least 2: 2")
    assert applied(files, fix)["Dockerfile"].endswith(
        'CMD ["uvicorn", "--workers", "2", "main:app", "--host", "0.0.0.0"]\n'
    )
    every_move_proves(files, sandbox)


def test_web_concurrency_and_uvicorn_variables() -> None:
    env = "ENV WEB_CONCURRENCY=1 UVICORN_TIMEOUT_KEEP_ALIVE=30 UVICORN_HOST=0.0.0.0\n"
    files = service('CMD ["uvicorn", "main:app"]', env=env)
    sandbox = Sandbox(cpus=4, memory=1024 * MIB)
    _, seen, findings = survey(files, sandbox)
    assert state(seen) == defaults(workers=1, timeout_keep_alive=30, host="0.0.0.0")
    assert by_key(seen)["uvicorn.host"].setter is None
    (fix,) = findings[0].fix
    assert (
        "ENV WEB_CONCURRENCY=4 UVICORN_TIMEOUT_KEEP_ALIVE=30" in applied(files, fix)["Dockerfile"]
    )
    every_move_proves(files, sandbox)


def test_command_from_the_config_adds_web_concurrency() -> None:
    files = service("")
    sandbox = Sandbox(command="uvicorn main:app --host 0.0.0.0", cpus=2, memory=512 * MIB)
    _, seen, findings = survey(files, sandbox)
    (fix,) = findings[0].fix
    assert applied(files, fix)["Dockerfile"].endswith("COPY . .\nENV WEB_CONCURRENCY=2\n\n")
    keep = by_key(seen)["uvicorn.timeout_keep_alive"]
    assert keep.setter is not None and keep.reaches == "environment"
    assert (
        "ENV UVICORN_TIMEOUT_KEEP_ALIVE=15\n"
        in applied(files, Move(keep, 15, "test", keep.setter(15)))["Dockerfile"]
    )
    every_move_proves(files, sandbox)


def test_reload_in_production() -> None:
    files = service("CMD uvicorn main:app --host 0.0.0.0 --reload")
    _, _seen, findings = survey(files, Sandbox(cpus=2, memory=512 * MIB))
    assert [(f.category, f.title, f.fix) for f in findings] == [
        ("single-worker", "uvicorn: 2 workers instead of 1", ()),
        ("verbose-logging", "uvicorn: --reload in production", ()),
    ]
    assert findings[0].why.endswith("; --reload also ignores --workers")
    moves = every_move_proves(files, Sandbox(cpus=2, memory=512 * MIB))
    assert "workers" not in [m.seen.setting.name for m in moves]  # ignored while reloading
    from_env = service('CMD ["uvicorn", "main:app"]', env="ENV UVICORN_RELOAD=true\n")
    _, _, findings = survey(from_env, Sandbox())
    (fix,) = next(f for f in findings if f.category == "verbose-logging").fix
    assert "ENV UVICORN_RELOAD=false\n" in applied(from_env, fix)["Dockerfile"]
    every_move_proves(from_env, Sandbox())


def test_debug_logging_is_lowered() -> None:
    files = service('CMD ["uvicorn", "main:app", "--log-level", "trace"]')
    _, _, findings = survey(files, Sandbox())
    (found,) = [f for f in findings if f.category == "verbose-logging"]
    assert found.title == "uvicorn: trace logging"
    (fix,) = found.fix
    assert '"--log-level", "info"' in applied(files, fix)["Dockerfile"]
    every_move_proves(files, Sandbox())


@pytest.mark.parametrize(
    ("reqs", "expected"),
    [
        ("fastapi\nuvicorn[standard]==0.32.0\n", [("http", "httptools"), ("loop", "uvloop")]),
        ("fastapi\nuvicorn\nuvloop\n", [("loop", "uvloop")]),
        ("fastapi\nuvicorn\n", []),
    ],
)
def test_http_and_loop_move_only_to_installed_ones(
    reqs: str, expected: list[tuple[str, str]]
) -> None:
    files = service("CMD uvicorn main:app --http h11 --loop asyncio", reqs=reqs)
    moves = every_move_proves(files, Sandbox())
    assert [
        (m.seen.setting.name, m.value) for m in moves if m.seen.setting.name in ("http", "loop")
    ] == expected


def test_never_settings_are_not_moved() -> None:
    files = service(
        "CMD uvicorn main:app --host 0.0.0.0 --port 443 --ssl-keyfile k.pem "
        "--ssl-certfile c.pem --forwarded-allow-ips '*' --root-path /api"
    )
    _, seen, _ = survey(files, Sandbox())
    never = {s.setting.name: s.value for s in seen if s.setting.safety == "never"}
    assert never == {
        "host": "0.0.0.0",
        "port": 443,
        "ssl_keyfile": "k.pem",
        "ssl_certfile": "c.pem",
        "forwarded_allow_ips": "*",
        "root_path": "/api",
    }
    assert all(s.setter is None for s in seen if s.setting.safety == "never")
    every_move_proves(files, Sandbox())


def test_memory_too_small_for_two_workers() -> None:
    files = service('CMD ["uvicorn", "main:app"]')
    (found,) = survey(files, Sandbox(cpus=4, memory=96 * MIB))[2]
    assert (found.title, found.fix) == ("uvicorn: one worker", ())


def test_not_uvicorn_is_not_seen() -> None:
    files = service('CMD ["gunicorn", "main:app"]')
    assert PACK.scan(view_of(files)) == []
