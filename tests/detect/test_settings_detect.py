from pathlib import Path

import pytest

from mutbot.detect.settings import detect
from mutbot.proposers.base import DetectContext, TargetFile

FIXTURES = Path("testing/fixtures/settings")
CONTEXT = DetectContext(baseline=None, cpus=2.0, memory_bytes=512 * 2**20)

EXPECTED = {
    "gunicorn.conf.py": [
        ("single-worker", 3, "workers"),
        ("verbose-logging", 5, "accesslog"),
        ("missing-timeout", 3, "timeout"),
    ],
    "uwsgi.ini": [
        ("single-worker", 5, "uwsgi.processes"),
        ("verbose-logging", 10, "uwsgi.disable-logging"),
    ],
    "settings.toml": [
        ("tiny-pool", 10, "database.pool_size"),
        ("cache-disabled", 15, "cache.enabled"),
        ("cache-disabled", 17, "cache.max_entries"),
        ("tiny-pool", 20, "redis.max_connections"),
    ],
    "app.yaml": [
        ("verbose-logging", 4, "app.debug"),
        ("single-worker", 6, "app.server.workers"),
        ("verbose-logging", 10, "app.logging.level"),
        ("verbose-logging", 11, "app.logging.access_log"),
        ("cache-disabled", 14, "app.cache.size_mb"),
        ("tiny-pool", 19, "app.database.pool.max"),
    ],
    "appsettings.json": [
        ("verbose-logging", 4, "Logging.LogLevel.Default"),
        ("cache-disabled", 14, "Cache.Enabled"),
        ("tiny-pool", 15, "Database.MaxPoolSize"),
        ("single-worker", 16, "Workers"),
    ],
    ".env": [
        ("single-worker", 2, "WEB_CONCURRENCY"),
        ("verbose-logging", 3, "DEBUG"),
        ("cache-disabled", 7, "CACHE_TTL"),
    ],
    "Dockerfile.gunicorn": [
        ("single-worker", 9, "CMD.--workers"),
        ("single-worker", 9, "CMD.--threads"),
        ("verbose-logging", 10, "CMD.--access-logfile"),
        ("missing-timeout", 9, "CMD.--timeout"),
    ],
    "Dockerfile.uvicorn": [
        ("single-worker", 7, "CMD.--workers"),
        ("verbose-logging", 7, "CMD.--log-level"),
        ("missing-timeout", 7, "CMD.--timeout-keep-alive"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture(name: str) -> None:
    file = TargetFile(name, (FIXTURES / name).read_text())
    found = [(o.category, o.line, o.key) for o in detect(file, CONTEXT)]
    assert found == EXPECTED[name]


def test_the_example_service() -> None:
    text = Path("examples/pricing/config/server.ini").read_text()
    found = detect(TargetFile("config/server.ini", text), CONTEXT)
    assert [(o.category, o.line, o.key) for o in found] == [
        ("single-worker", 3, "server.threads"),
        ("cache-disabled", 5, "server.cache_size"),
        ("verbose-logging", 7, "server.log_requests"),
    ]
    assert found[0].why == "server.threads = 1: one thread serves every request (2 CPUs available)"
    dockerfile = Path("examples/pricing/Dockerfile").read_text()
    assert detect(TargetFile("Dockerfile", dockerfile), CONTEXT) == []  # ENV PORT is no knob


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[s]\nworkers = 2\nthreads = 4\n", []),  # already more than one
        ("[s]\nuse_cache = yes\ncache_size = 512\n", []),
        ("[s]\ndisable_cache = true\n", ["cache-disabled"]),
        ("[s]\nlog_level = WARNING\ndebug = false\n", []),
        ("[s]\npool_timeout = 1\nmin_pool = 1\n", []),  # a timeout and a minimum, not sizes
    ],
)
def test_healthy_or_inverted_settings(text: str, expected: list[str]) -> None:
    found = detect(TargetFile("app.ini", text), CONTEXT)
    assert [o.category for o in found] == expected


def test_missing_timeout_only_for_server_configs() -> None:
    with_timeout = "workers = 1\ntimeout = 30\n"
    assert [o.category for o in detect(TargetFile("gunicorn.conf.py", with_timeout), CONTEXT)] == [
        "single-worker"
    ]
    app_config = "workers = 4\n"
    assert detect(TargetFile("app_config.py", app_config), CONTEXT) == []
    plain = 'FROM x\nCMD ["python", "app.py", "--workers", "4"]\n'
    assert detect(TargetFile("Dockerfile", plain), CONTEXT) == []
