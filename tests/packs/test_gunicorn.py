from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.gunicorn import PACK, UVICORN_WORKER
from mutbot.packs.model import Finding, Move, Seen
from mutbot.packs.view import Sandbox, View
from testing.packs import applied, by_key, proves, sample_files, sample_view, view_of

MIB = 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[2] / "testing" / "packs"
DEFAULTS = {
    "workers": 1,
    "threads": 1,
    "worker_class": "sync",
    "worker_connections": 1000,
    "timeout": 30,
    "graceful_timeout": 30,
    "keepalive": 2,
    "max_requests": 0,
    "max_requests_jitter": 0,
    "backlog": 2048,
    "preload_app": False,
    "loglevel": "info",
    "accesslog": None,
    "reload": False,
}
FLASK = "from flask import Flask\n\napp = Flask(__name__)\n"
FASTAPI = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def load(name: str) -> dict[str, str]:
    return sample_files(SAMPLES / name, config=False)


def service(
    cmd: str, env: str = "", app: str = FLASK, reqs: str = "flask\ngunicorn\n"
) -> dict[str, str]:
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        f"RUN pip install --no-cache-dir -r requirements.txt\n{env}COPY . .\n{cmd}\n"
    )
    return {"Dockerfile": dockerfile, "requirements.txt": reqs, "app.py": app}


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


def only(findings: list[Finding], category: str) -> Finding:
    (found,) = [f for f in findings if f.category == category]
    return found


def test_entrypoint_script_sample() -> None:
    files = load("gunicorn-entrypoint")
    sandbox = Sandbox(cpus=2, memory=512 * MIB)
    _view, seen, findings = survey(files, sandbox)
    assert state(seen) == defaults(keepalive=5, accesslog="-", bind="0.0.0.0:5000")
    assert by_key(seen)["gunicorn.keepalive"].raw == "GUNICORN_CMD_ARGS: --keep-alive 5"
    assert [(f.category, f.title, str(f.site)) for f in findings] == [
        ("single-worker", "gunicorn: 5 workers instead of 1", "boot.sh:7"),
        ("tiny-pool", "gunicorn: keep-alive is ignored by sync workers", "Dockerfile:5"),
    ]
    (fix,) = findings[0].fix
    assert (fix.value, fix.rule) == (5, "2 × CPUs + 1 (limit 2 CPU): 5")
    assert applied(files, fix)["boot.sh"].endswith(
        "exec gunicorn --workers 5 app:app --bind 0.0.0.0:5000\n"
    )
    (gthread,) = findings[1].fix
    assert gthread.value == "gthread"
    assert "exec gunicorn --worker-class gthread app:app" in applied(files, gthread)["boot.sh"]
    moves = every_move_proves(files, sandbox)
    assert [(m.seen.setting.name, m.value) for m in moves] == [
        ("workers", 5),
        ("worker_class", "gthread"),
        ("workers", 5),
        ("workers", 2),
        ("threads", 4),
        ("worker_class", "gthread"),
    ]


def test_the_sample_as_a_run_sees_it(tmp_path: Path) -> None:
    view = sample_view(SAMPLES / "gunicorn-entrypoint", tmp_path)
    seen = PACK.scan(view)
    assert state(seen) == defaults(keepalive=5, accesslog="-", bind="0.0.0.0:5000")
    assert next(f.title for f in PACK.detect(view, seen)) == "gunicorn: 5 workers instead of 1"


def test_conf_sample_counts_host_cpus_and_logs_debug() -> None:
    files = load("gunicorn-conf")
    sandbox = Sandbox(cpus=1, memory=256 * MIB)
    _view, seen, findings = survey(files, sandbox)
    assert state(seen) == defaults(
        workers=None,
        worker_class="sync",
        timeout=60,
        loglevel="debug",
        accesslog="-",
        bind="0.0.0.0:8000",
    )
    workers = by_key(seen)["gunicorn.workers"]
    assert workers.raw == "workers = multiprocessing.cpu_count() * 2 + 1"
    assert str(workers.site) == "gunicorn.conf.py:6"
    assert [(f.category, f.title, str(f.site)) for f in findings] == [
        (
            "limits-unseen",
            "gunicorn: workers from the CPU limit, not the host's CPU count",
            "gunicorn.conf.py:6",
        ),
        ("verbose-logging", "gunicorn: debug logging", "gunicorn.conf.py:9"),
    ]
    assert "129 workers" in findings[0].why
    (fix,) = findings[0].fix
    assert fix.value == 3
    assert "\nworkers = 3\n" in applied(files, fix)["gunicorn.conf.py"]
    (info,) = findings[1].fix
    assert '\nloglevel = "info"\n' in applied(files, info)["gunicorn.conf.py"]
    moves = every_move_proves(files, sandbox)
    classes = [m.value for m in moves if m.seen.setting.name == "worker_class"]
    assert classes == ["gthread", "gevent"]  # gevent installed, Flask is WSGI


def test_conf_value_from_an_environment_default_keeps_the_expression() -> None:
    files = load("gunicorn-conf")
    _view, seen, _ = survey(files, Sandbox())
    timeout = by_key(seen)["gunicorn.timeout"]
    assert timeout.setter is not None
    after = applied(files, Move(timeout, 90, "test", timeout.setter(90)))
    assert 'timeout = int(os.environ.get("GUNICORN_TIMEOUT", "90"))' in after["gunicorn.conf.py"]
    proves(PACK, files, Move(timeout, 90, "test", timeout.setter(90)))


@pytest.mark.parametrize(
    ("cmd", "after"),
    [
        (
            'CMD ["gunicorn", "app:app", "--bind", "0.0.0.0:8000"]',
            'CMD ["gunicorn", "--workers", "3", "app:app", "--bind", "0.0.0.0:8000"]',
        ),
        (
            "CMD gunicorn app:app -b 0.0.0.0:8000",
            "CMD gunicorn --workers 3 app:app -b 0.0.0.0:8000",
        ),
        ("CMD gunicorn -w 1 app:app -b 0.0.0.0:8000", "CMD gunicorn -w 3 app:app -b 0.0.0.0:8000"),
        (
            'CMD ["python", "-m", "gunicorn", "--workers=1", "app:app"]',
            'CMD ["python", "-m", "gunicorn", "--workers=3", "app:app"]',
        ),
    ],
)
def test_single_worker_fix_on_the_command(cmd: str, after: str) -> None:
    files = service(cmd)
    sandbox = Sandbox(cpus=1, memory=512 * MIB)
    _, _, findings = survey(files, sandbox)
    found = only(findings, "single-worker")
    assert found.title == "gunicorn: 3 workers instead of 1" and str(found.site) == "Dockerfile:6"
    (fix,) = found.fix
    assert applied(files, fix)["Dockerfile"].endswith(after + "\n")
    every_move_proves(files, sandbox)


def test_gunicorn_cmd_args_holds_the_workers() -> None:
    files = service(
        "CMD gunicorn app:app", env='ENV GUNICORN_CMD_ARGS="--workers=1 --bind 0.0.0.0:8000"\n'
    )
    sandbox = Sandbox(cpus=1, memory=512 * MIB)
    _, seen, findings = survey(files, sandbox)
    workers = by_key(seen)["gunicorn.workers"]
    assert (workers.value, workers.written, workers.reaches) == (1, True, "environment")
    assert workers.raw == "GUNICORN_CMD_ARGS: --workers 1"
    (fix,) = only(findings, "single-worker").fix
    assert (
        'ENV GUNICORN_CMD_ARGS="--workers=3 --bind 0.0.0.0:8000"\n'
        in applied(files, fix)["Dockerfile"]
    )
    every_move_proves(files, sandbox)


def test_web_concurrency_is_the_default_of_workers() -> None:
    files = service('CMD ["gunicorn", "app:app"]', env="ENV WEB_CONCURRENCY=1\n")
    sandbox = Sandbox(cpus=2, memory=1024 * MIB)
    _, seen, findings = survey(files, sandbox)
    assert by_key(seen)["gunicorn.workers"].raw == "WEB_CONCURRENCY=1"
    (fix,) = only(findings, "single-worker").fix
    assert "ENV WEB_CONCURRENCY=5\n" in applied(files, fix)["Dockerfile"]
    every_move_proves(files, sandbox)
    files = service('CMD ["gunicorn", "app:app"]', env="ENV WEB_CONCURRENCY=4\n")
    assert not [f for f in survey(files, sandbox)[2] if f.category == "single-worker"]


def test_command_from_the_config_adds_web_concurrency_to_the_dockerfile() -> None:
    files = service("")
    sandbox = Sandbox(command="gunicorn app:app --bind 0.0.0.0:8000", cpus=1, memory=512 * MIB)
    _, seen, findings = survey(files, sandbox)
    workers = by_key(seen)["gunicorn.workers"]
    assert (workers.written, str(workers.site), workers.reaches) == (
        False,
        "Dockerfile:6",
        "environment",
    )
    (fix,) = only(findings, "single-worker").fix
    assert applied(files, fix)["Dockerfile"].endswith("COPY . .\nENV WEB_CONCURRENCY=3\n\n")
    threads = by_key(seen)["gunicorn.threads"]
    assert threads.setter is not None
    assert (
        'ENV GUNICORN_CMD_ARGS="--threads 4"'
        in applied(files, Move(threads, 4, "test", threads.setter(4)))["Dockerfile"]
    )
    every_move_proves(files, sandbox)


def test_not_a_target_leaves_an_opportunity_only() -> None:
    files = service('CMD ["gunicorn", "app:app"]')
    view = view_of(files, Sandbox(), targets={"app.py"})
    seen = PACK.scan(view)
    assert all(s.setter is None for s in seen)
    (found,) = PACK.detect(view, seen)
    assert found.category == "single-worker" and found.fix == ()
    assert PACK.explore(view, seen) == []


def test_memory_caps_the_worker_count() -> None:
    files = service('CMD ["gunicorn", "app:app"]')
    sandbox = Sandbox(cpus=4, memory=200 * MIB)
    (fix,) = only(survey(files, sandbox)[2], "single-worker").fix
    assert (fix.value, fix.rule) == (
        2,
        "2 × CPUs + 1 (limit 4 CPU): 9, capped to 2 by 200 MiB at ~60 MiB a worker",
    )


def test_worker_classes_fit_the_app_and_the_packages() -> None:
    wsgi = service('CMD ["gunicorn", "app:app"]', reqs="flask\ngunicorn\nuvicorn\neventlet\n")
    classes = [
        m.value for m in every_move_proves(wsgi, Sandbox()) if m.seen.setting.name == "worker_class"
    ]
    assert classes == ["gthread", "eventlet"]  # never UvicornWorker for a WSGI app
    asgi = service(
        f'CMD ["gunicorn", "app:app", "-k", "{UVICORN_WORKER}"]',
        app=FASTAPI,
        reqs="fastapi\ngunicorn\nuvicorn\ngevent\n",
    )
    view, seen, findings = survey(asgi, Sandbox(cpus=2, memory=512 * MIB))
    assert by_key(seen)["gunicorn.worker_class"].value == UVICORN_WORKER
    (fix,) = only(findings, "single-worker").fix
    assert fix.value == 2  # an event loop a CPU
    assert [m for m in PACK.explore(view, seen) if m.seen.setting.name == "worker_class"] == []
    broken = service('CMD ["gunicorn", "app:app"]', app=FASTAPI, reqs="fastapi\ngunicorn\n")
    moves = every_move_proves(broken, Sandbox())
    assert [m.value for m in moves if m.seen.setting.name == "worker_class"] == []


def test_never_settings_are_seen_and_never_moved() -> None:
    files = service(
        'CMD ["gunicorn", "app:app", "-b", "0.0.0.0:443", "--certfile", "c.pem", '
        '"--keyfile", "k.pem", "-u", "www", "-g", "www", "--log-level", "debug"]'
    )
    _, seen, findings = survey(files, Sandbox())
    never = {s.setting.name: s for s in seen if s.setting.safety == "never"}
    assert {k: s.value for k, s in never.items()} == {
        "bind": "0.0.0.0:443",
        "certfile": "c.pem",
        "keyfile": "k.pem",
        "user": "www",
        "group": "www",
    }
    assert all(s.setter is None for s in never.values())
    assert [f.title for f in findings] == [
        "gunicorn: 3 workers instead of 1",
        "gunicorn: debug logging",
    ]
    every_move_proves(files, Sandbox())


def test_reload_in_a_conf_file_is_switched_off() -> None:
    files = {**service('CMD ["gunicorn", "app:app"]'), "gunicorn.conf.py": "reload = True\n"}
    _, _, findings = survey(files, Sandbox())
    found = only(findings, "verbose-logging")
    assert found.title == "gunicorn: --reload in production"
    (fix,) = found.fix
    assert applied(files, fix)["gunicorn.conf.py"] == "reload = False\n"
    every_move_proves(files, Sandbox())
    flag = service('CMD ["gunicorn", "--reload", "app:app"]')
    assert only(survey(flag, Sandbox())[2], "verbose-logging").fix == ()  # removal: not proven


def test_not_gunicorn_is_not_seen() -> None:
    files = service('CMD ["uvicorn", "app:app"]', app=FASTAPI)
    assert PACK.scan(view_of(files)) == []
