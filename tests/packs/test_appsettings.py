from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.edits import EditError
from mutbot.packs.appsettings import PACK, SETTINGS, role
from mutbot.packs.model import Finding, Move
from mutbot.packs.view import Sandbox
from mutbot.repofiles import list_files
from testing.packs import applied, by_key, proves, view_of

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "testing" / "fixtures" / "settings"
DOCKERFILE = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD python app.py\n"


def example(name: str) -> dict[str, str]:
    """The example's files as mutbot lists them (git's view: a run's `.mutbot/` left out)."""
    root = ROOT / "examples" / name
    return {path: (root / path).read_text() for path in list_files(root)}


def moves(
    files: dict[str, str], sandbox: Sandbox | None = None
) -> tuple[list[Finding], list[Move]]:
    """Every finding and exploratory move, each proved by a re-scan."""
    view = view_of(files, sandbox)
    seen = PACK.scan(view)
    findings, explore = PACK.detect(view, seen), PACK.explore(view, seen)
    for move in [m for f in findings for m in f.fix] + explore:
        assert move.seen.setting.safety == "tune"
        proves(PACK, files, move, sandbox)
    return findings, explore


def test_the_pricing_example_keeps_its_three_fixes() -> None:
    files = example("pricing")
    seen = PACK.scan(view_of(files))
    assert {s.key: (s.value, s.setting.safety) for s in seen} == {
        "appsettings.server.threads": (1, "tune"),
        "appsettings.server.cache_size": (0, "tune"),
        "appsettings.server.log_requests": (True, "tune"),
    }  # downstream_ms and currency_decimals are not tuning settings: not seen
    findings, explore = moves(files)
    found = {
        f.category: (f.title, f.why, [(m.value, m.edits[0].text) for m in f.fix]) for f in findings
    }
    assert found == {
        "single-worker": (
            "Raise server.threads from 1 to 4",
            "server.threads = 1: one thread serves every request (1 CPU available)",
            [(4, "4")],
        ),
        "cache-disabled": (
            "Raise server.cache_size from 0 to 1024",
            "server.cache_size = 0: the cache is switched off",
            [(1024, "1024")],
        ),
        "verbose-logging": (
            "Turn server.log_requests off",
            "server.log_requests = true: writes a log line for every request",
            [(False, "false")],
        ),
    }
    fix = next(m for f in findings for m in f.fix if m.value == 4)
    assert fix.rule == "4 threads per CPU (limit 1), at least 4: 4"
    assert "threads = 4\n" in applied(files, fix)["config/server.ini"]
    assert [(m.seen.setting.name, m.value, m.rule) for m in explore] == [
        ("server.threads", 2, "double it"),
        ("server.log_requests", False, "flip it"),
    ]


def test_four_threads_per_cpu_on_a_bigger_limit() -> None:
    findings, _ = moves(example("pricing"), Sandbox(cpus=2.5))
    (threads,) = [f for f in findings if f.category == "single-worker"]
    assert threads.fix[0].value == 10


def test_the_notes_example_gets_debug_off_and_connection_reuse() -> None:
    findings, _ = moves(example("notes"))
    assert {(f.category, f.title, f.fix[0].value) for f in findings} == {
        ("verbose-logging", "Turn app.debug off", False),
        ("tiny-pool", "Raise database.conn_max_age from 0 to 60", 60),
    }


@pytest.mark.parametrize(
    ("key", "kind", "expected"),
    [
        ("server.threads", "int", "threads"),
        ("WEB_CONCURRENCY", "int", "workers"),
        ("app.server.workers", "int", "workers"),
        ("WorkerCount", "int", "workers"),
        ("server.threads", "bool", None),
        ("worker_timeout", "int", None),
        ("cache.enabled", "bool", "cache"),
        ("Cache.SizeLimit", "int", "cache"),
        ("CACHE_TTL", "int", "cache"),
        ("cache.compress", "bool", None),
        ("database.pool_size", "int", "pool"),
        ("Database.MaxPoolSize", "int", "pool"),
        ("redis.max_connections", "int", "pool"),
        ("database.pool_timeout", "int", None),
        ("database.conn_max_age", "int", "conn_max_age"),
        ("app.debug", "bool", "debug"),
        ("server.log_requests", "bool", "request_log"),
        ("uwsgi.disable-logging", "bool", "request_log"),
        ("access_log", "str", "request_log"),
        ("server.port", "int", "never"),
        ("database.url", "str", "never"),
        ("auth.jwt_expiry", "int", "never"),
        ("cache_key_prefix", "str", "never"),
        ("http.max_retries", "int", "never"),
        ("worker.replicas", "int", "never"),
        ("tls.cert_file", "str", "never"),
        ("SECRET_TOKEN", "str", "never"),
        ("api_version", "int", "never"),
        ("server.downstream_ms", "int", None),
        ("server.currency_decimals", "int", None),
        ("app.page_size", "int", None),
        ("server.keepalive", "int", None),
    ],
)
def test_only_names_known_to_be_tuning_are_tune(key: str, kind: str, expected: str | None) -> None:
    assert role(key, kind) == expected


def test_every_format_the_image_holds() -> None:
    files = {"Dockerfile": DOCKERFILE, "app.py": "print('hi')\n"}
    for name in ("settings.toml", "app.yaml", "appsettings.json", ".env"):
        files[f"config/{name}"] = (FIXTURES / name).read_text()
    view = view_of(files)
    seen = by_key(PACK.scan(view))
    assert {k: s.value for k, s in seen.items() if s.setting.safety == "tune"} == {
        "appsettings.server.workers": 4,
        "appsettings.database.pool_size": 1,
        "appsettings.cache.enabled": False,
        "appsettings.cache.ttl_seconds": 300,
        "appsettings.cache.max_entries": 0,
        "appsettings.redis.max_connections": 2,
        "appsettings.app.debug": True,
        "appsettings.app.server.workers": 1,
        "appsettings.app.server.threads": 8,
        "appsettings.app.logging.level": "DEBUG",
        "appsettings.app.logging.access_log": True,
        "appsettings.app.cache.size_mb": 0,
        "appsettings.app.database.pool.min": 1,
        "appsettings.app.database.pool.max": 2,
        "appsettings.Logging.LogLevel.Default": "Debug",
        "appsettings.Logging.LogLevel.Microsoft.AspNetCore": "Warning",
        "appsettings.Kestrel.Limits.MaxConcurrentConnections": 100,
        "appsettings.Cache.Enabled": False,
        "appsettings.Cache.SizeLimit": 1024,
        "appsettings.Database.MaxPoolSize": 2,
        "appsettings.Workers": 1,
        "appsettings.WEB_CONCURRENCY": 1,
        "appsettings.DEBUG": True,
        "appsettings.LOG_LEVEL": "info",
        "appsettings.DB_POOL_SIZE": 5,
        "appsettings.CACHE_TTL": 0,
    }
    for s in seen.values():  # each value is in its setting's domain
        assert s.setting.type != "enum" or s.value in s.setting.choices
        assert PACK.settings[s.setting.name] == s.setting
    never = {k: s.value for k, s in seen.items() if s.setting.safety == "never"}
    assert never == {
        "appsettings.database.url": "postgresql://db/orders",
        "appsettings.app.database.url": "postgresql://db/catalog",
        "appsettings.AllowedHosts": "*",
        "appsettings.DATABASE_URL": "postgres://db:5432/app",
    }
    assert all(seen[k].setter is None for k in never)
    assert seen["appsettings.database.url"].site is not None
    assert str(seen["appsettings.database.url"].site) == "config/settings.toml:9"
    findings, explore = moves(files)
    titles = [f.title for f in findings]
    assert len(titles) == len(set(titles))
    assert {f.key for f in findings} == {
        "appsettings.database.pool_size",
        "appsettings.cache.enabled",
        "appsettings.cache.max_entries",
        "appsettings.redis.max_connections",
        "appsettings.app.debug",
        "appsettings.app.server.workers",
        "appsettings.app.logging.level",
        "appsettings.app.logging.access_log",
        "appsettings.app.cache.size_mb",
        "appsettings.app.database.pool.max",
        "appsettings.Logging.LogLevel.Default",
        "appsettings.Cache.Enabled",
        "appsettings.Database.MaxPoolSize",
        "appsettings.Workers",
        "appsettings.WEB_CONCURRENCY",
        "appsettings.DEBUG",
        "appsettings.CACHE_TTL",
    }
    for move in explore:  # exploring never makes the app noisier, nor switches a cache off
        if move.seen.setting.doc in (SETTINGS["debug"].doc, SETTINGS["request_log"].doc):
            assert move.value in (False, None)


def test_a_file_the_sandbox_does_not_measure_is_an_opportunity_only() -> None:
    files = example("pricing")
    view = view_of(files, targets={"Dockerfile"})
    seen = PACK.scan(view)
    assert seen and all(s.setter is None for s in seen)
    findings = PACK.detect(view, seen)
    assert len(findings) == 3 and all(f.fix == () for f in findings)
    assert PACK.explore(view, seen) == []


def test_files_the_image_does_not_hold_or_other_packs_read_are_not_seen() -> None:
    server = "[server]\nthreads = 1\n"
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY app /app\nCMD uwsgi --ini /app/uwsgi.ini\n",
        "app/requirements.txt": "flask\nuwsgi\n",
        "app/wsgi.py": "app.config.from_object('config')\n",
        "app/settings.ini": server,
        "app/uwsgi.ini": "[uwsgi]\nhttp = :8000\nprocesses = 1\n",
        "app/config.py": "DEBUG = True\nTESTING = False\n",  # Flask's: the webapps pack's
        "app/docker-compose.yml": "services:\n  web:\n    environment:\n      WORKERS: 1\n",
        "app/package.json": '{"name": "x", "workers": 1}\n',
        "app/tests/settings.ini": server,
        "settings.ini": server,  # not copied into the image
    }
    seen = PACK.scan(view_of(files))
    assert [(s.site.path if s.site else None, s.key) for s in seen] == [
        ("app/settings.ini", "appsettings.server.threads")
    ]


def test_a_name_two_files_share_is_told_apart_by_its_file() -> None:
    files = {
        "Dockerfile": DOCKERFILE,
        "config/prod.ini": "[server]\nthreads = 1\n",
        "config/dev.ini": "[server]\nthreads = 8\n",
    }
    seen = by_key(PACK.scan(view_of(files)))
    assert {k: s.value for k, s in seen.items()} == {
        "appsettings.config/dev.ini:server.threads": 8,
        "appsettings.config/prod.ini:server.threads": 1,
    }
    assert (
        PACK.settings["config/prod.ini:server.threads"]
        == seen["appsettings.config/prod.ini:server.threads"].setting
    )
    findings, _ = moves(files)
    (fix,) = [m for f in findings for m in f.fix]
    assert fix.edits[0].path == "config/prod.ini" and fix.value == 4


def test_setters_keep_the_file_style_and_refuse_a_value_the_file_cannot_hold() -> None:
    files = {"Dockerfile": DOCKERFILE, "config/app.toml": "[cache]\nenabled = false  # off\n"}
    view = view_of(files)
    (seen,) = PACK.scan(view)
    assert seen.setter is not None
    move = Move(seen, True, "on", seen.setter(True))
    proves(PACK, files, move)
    assert applied(files, move)["config/app.toml"] == "[cache]\nenabled = true  # off\n"
    threads = {"Dockerfile": DOCKERFILE, "config/app.toml": "[server]\nthreads = 2\n"}
    (seen,) = PACK.scan(view_of(threads))
    assert seen.setter is not None
    with pytest.raises(EditError):
        seen.setter("two words")
