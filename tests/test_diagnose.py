from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mutbot.diagnose import LIKELY_HEALTH, Evidence, Setup, Socket, diagnose, listening

# /proc/net/tcp as a container shows it: 0.0.0.0:5000 and 127.0.0.1:9000 listening, one
# established connection on 8080 (state 01), which is not a listener.
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0200A8C0:1F90 0100A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1
"""
# tcp6: [::]:8000 and [::1]:6000 listening, ::ffff:127.0.0.1:7000 (IPv4-mapped)
TCP6 = """\
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 0 0
   1: 00000000000000000000000001000000:1770 00000000000000000000000000000000:0000 0A 0 0
   2: 0000000000000000FFFF00000100007F:1B58 00000000000000000000000000000000:0000 0A 0 0
"""


def test_listening_sockets_are_read_from_proc_net_in_host_byte_order() -> None:
    assert listening(TCP + TCP6) == (
        Socket("0.0.0.0", 5000),
        Socket("127.0.0.1", 9000),
        Socket("::", 8000),
        Socket("::1", 6000),
        Socket("127.0.0.1", 7000),
    )
    assert [s.loopback_only for s in listening(TCP)] == [False, True]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_listening_never_raises_on_garbage(text: str) -> None:
    assert all(0 <= s.port <= 65535 for s in listening(text))


def health(**evidence: object) -> list[str]:
    return diagnose(Setup(), Evidence("health", "never healthy", **evidence))  # type: ignore[arg-type]


def test_wrong_port_names_the_port_the_service_listens_on() -> None:
    sockets = (Socket("0.0.0.0", 5000), Socket("127.0.0.11", 40513))  # and Docker's resolver
    answers = (("/healthz", "refused"),)
    assert health(sockets=sockets, answers=answers) == [
        "nothing listens on 8080; the service listens on 5000: set sandbox.port: 5000"
    ]
    many = health(sockets=(Socket("::", 5000), Socket("0.0.0.0", 9090)), answers=answers)
    assert many == ["nothing listens on 8080; the service listens on 5000, 9090: set sandbox.port"]


def test_a_service_bound_to_loopback_is_told_to_bind_all_addresses() -> None:
    lines = health(sockets=(Socket("127.0.0.1", 8080),), answers=(("/healthz", "refused"),))
    assert lines == [
        "the service listens on 127.0.0.1:8080 only, which nothing outside its container can "
        "reach: bind 0.0.0.0 (e.g. gunicorn --bind 0.0.0.0:8080)"
    ]
    elsewhere = health(sockets=(Socket("::1", 5000),), answers=(("/healthz", "refused"),))
    assert elsewhere[0].endswith("(e.g. gunicorn --bind 0.0.0.0:5000), and set sandbox.port: 5000")


def test_a_wrong_health_path_names_one_that_answers() -> None:
    answers = (("/healthz", "404"), ("/health", "404"), ("/status", "200"), ("/", "200"))
    assert health(answers=answers) == [
        "the health path /healthz answered 404, /status answers 200: set sandbox.health: /status"
    ]
    none = health(answers=(("/healthz", "404"), ("/", "401")))
    assert none == [
        "the health path /healthz answered 404, and none of / answers 2xx: set sandbox.health "
        "to a path that answers 200 once the service is ready"
    ]


def test_a_health_path_that_answers_5xx_points_at_the_log_and_the_database() -> None:
    log = ('psycopg.OperationalError: could not translate host name "db" to address',)
    lines = health(answers=(("/healthz", "500"),), log=log)
    assert (
        lines[0]
        == "the health path /healthz answered 500: the service runs but is unwell; its log says why"
    )
    assert lines[1].startswith(
        "the service cannot reach PostgreSQL at db:5432: nothing called db runs in the "
        "sandbox; add it under sandbox.services (docs/config.md), e.g. `db: {image: postgres:16"
    )


def test_healthy_only_after_the_timeout_asks_for_more_time() -> None:
    assert health(answers=(("/healthz", "200"),)) == [
        "/healthz answers 200 now, but not within 30s: raise sandbox.startup_timeout"
    ]


def test_nothing_listening_at_all_and_unknown_sockets() -> None:
    assert health(sockets=(), answers=(("/healthz", "refused"),))[0].startswith(
        "nothing listens on any TCP port after 30s"
    )
    assert health(sockets=None, answers=(("/healthz", "timeout"),))[0] == (
        "nothing answered HTTP on port 8080 (timeout) "
        "(could not read which ports the service listens on)"
    )
    busy = health(sockets=(Socket("0.0.0.0", 8080),), answers=(("/healthz", "timeout"),))
    assert busy[0].startswith("port 8080 is open but /healthz gave no HTTP answer within 30s")


def test_out_of_memory_says_the_limit_and_the_key() -> None:
    assert diagnose(Setup(memory="64m"), Evidence("health", "x", oom=True)) == [
        "killed for memory (limit 64m); raise sandbox.memory, or find what the service "
        "allocates at start"
    ]


def test_a_crash_gives_the_exit_code_and_what_the_log_says() -> None:
    log = ("Traceback (most recent call last):", "KeyError: 'DATABASE_URL'")
    assert health(exit_code=1, log=log) == [
        "the service exited with code 1 during start-up; its last log lines are below",
        "the service needs the environment variable DATABASE_URL: set it under sandbox.env (or "
        "list it under sandbox.throwaway_env when it is a secret)",
    ]
    assert health(exit_code=0)[1].startswith("exit code 0: its command ran and finished")
    missing = health(exit_code=1, log=("ModuleNotFoundError: No module named 'psycopg'",))
    assert missing[1] == ("the image lacks the Python module psycopg: install it in the Dockerfile")


def test_databases_the_sandbox_lacks_or_has() -> None:
    cases = {
        'connection to server at "db" (10.0.0.2), port 5432 failed: Connection refused': "db:5432",
        "redis.exceptions.ConnectionError: Error -2 connecting to cache:6379. Name or service not "
        "known.": "cache:6379",
        "Error: connect ECONNREFUSED 127.0.0.1:5432": "127.0.0.1:5432",
        "dial tcp: lookup mysql on 127.0.0.11:53: no such host": "mysql",
        "Can't connect to MySQL server on 'mysql' (111)": "mysql:3306",
        'connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed': "localhost:5432",
    }
    for line, where in cases.items():
        said = health(exit_code=1, log=(line,))[1]
        assert f" at {where}" in said, (line, said)
    ran = diagnose(
        Setup(services=("db",)), Evidence("health", "x", exit_code=1, log=(next(iter(cases)),))
    )
    assert ran[1] == (
        "the service cannot reach PostgreSQL at db:5432, though sandbox.services.db runs: does "
        "it listen on that port, and does its health check wait until it does?"
    )
    local = health(exit_code=1, log=("Error: connect ECONNREFUSED 127.0.0.1:6379",))[1]
    assert local.startswith("the service cannot reach Redis at 127.0.0.1:6379, inside its own")


def test_tests_without_their_runner() -> None:
    def tests(command: str, code: int, *log: str) -> list[str]:
        reason = f"tests failed (exit code {code}): {log[-1] if log else ''}"
        return diagnose(
            Setup(tests_command=command), Evidence("tests", reason, exit_code=code, log=log)
        )

    module = tests("python -m pytest -q", 1, "/usr/local/bin/python: No module named pytest")
    plain = tests("pytest -q", 127, "sh: 1: pytest: not found")
    assert module == plain
    assert module[0].startswith("pytest is not installed in the image (tests run inside it)")
    assert tests("make test", 127, "sh: 1: make: not found")[0].startswith("make is not installed")
    assert tests("python -m pytest", 5, "no tests ran in 0.01s")[0].startswith(
        "pytest found no tests in the image (exit code 5)"
    )
    database = tests("python -m pytest", 1, 'E   could not translate host name "db" to address')
    assert database[0].startswith("the tests cannot reach PostgreSQL at db:5432: nothing called")
    assert tests("python -m pytest", 1, "FAILED test_x")[0].startswith(
        "the tests fail on the unchanged project"
    )


def test_load_failures() -> None:
    def load(**evidence: object) -> list[str]:
        return diagnose(Setup(), Evidence("load", "x", **evidence))  # type: ignore[arg-type]

    errors = (("/notes HTTPError('404 Client Error: NOT FOUND for url: /notes')", 90),)
    assert load(requests=100, failed=90, errors=errors)[0] == (
        "90 of 100 requests failed (90%): /notes HTTPError('404 Client Error: NOT FOUND for url: "
        "/notes') ×90"
    )
    assert load(requests=0)[0].startswith("the load made no request")
    assert load(oom=True)[0] == ("killed for memory under load (limit 256m): raise sandbox.memory")


def test_build_and_start_failures() -> None:
    def one(step: str, reason: str) -> list[str]:
        return diagnose(Setup(), Evidence(step, reason))

    assert one(
        "build",
        "build failed: COPY failed: file not found in build context or excluded by "
        ".dockerignore: stat requirements.txt: file does not exist",
    )[0].startswith("the Dockerfile copies requirements.txt, which is not in the build context")
    assert one(
        "build",
        "build failed: COPY failed: stat /var/lib/docker/tmp/docker-builder1/app.py: no such file",
    )[0].startswith("the Dockerfile copies app.py,")
    assert one("build", "build failed: pull access denied for nosuch, repository does not exist")[
        0
    ].startswith("a base image cannot be pulled")
    assert one(
        "build", "build failed: The command '/bin/sh -c x' returned a non-zero code: 127"
    ) == ["the unchanged project does not build: see the build log"]
    started = one(
        "start",
        'cannot start: OCI runtime create failed: exec: "./boot.sh": permission denied: unknown',
    )
    assert started == [
        "./boot.sh is not executable: `chmod +x` it and commit (git keeps the mode), or "
        "`RUN chmod +x ./boot.sh` in the Dockerfile"
    ]


def test_likely_health_paths_try_health_names_before_the_root() -> None:
    assert LIKELY_HEALTH[-1] == "/" and LIKELY_HEALTH.index("/health") < LIKELY_HEALTH.index("/")


def test_a_dependency_that_does_not_get_ready() -> None:
    def start(reason: str, *log: str) -> list[str]:
        return diagnose(Setup(), Evidence("start", reason, log=log, dependency="db"))

    password = start(
        "service db exited (exit code 1); last log lines: Error: POSTGRES_PASSWORD is not set",
        "Error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)",
    )
    official = start(
        "service db exited (exit code 1)",
        "Error: Database is uninitialized and superuser password is not specified.",
    )
    assert (
        password
        == official
        == [
            "the postgres image of service db wants a password, and secrets never enter the "
            "sandbox: add `POSTGRES_HOST_AUTH_METHOD: trust` to sandbox.services.db.env (no "
            "password at all; point the service's database URL at it without one)"
        ]
    )
    assert start("service db not ready within 5s (pg_isready: exit code 2); last log lines: x") == [
        "service db runs but never passed its health check: fix sandbox.services.db.health (a "
        "command that exits 0 inside it once ready, or the port it listens on), or raise "
        "sandbox.services.db.health.timeout"
    ]
    assert start("service db was killed for memory (limit 64m)")[0].startswith(
        "service db ran out of memory: raise sandbox.services.db.memory"
    )
    tests = diagnose(
        Setup(tests_command="pytest"),
        Evidence("tests", "service db exited (exit code 3)", dependency="db"),
    )
    assert tests == [
        "service db exited at start: its log (below) says why; check sandbox.services.db"
    ]


def test_the_sandbox_step() -> None:
    def sandbox(reason: str) -> list[str]:
        return diagnose(Setup(), Evidence("sandbox", reason))

    assert sandbox("no Docker engine answers (ConnectionError)") == [
        "start Docker (or try the weaker local backend: --backend local, docs/sandbox.md)"
    ]
    assert sandbox(
        "no Docker engine answers, and the local backend cannot run this config: the local "
        "backend needs sandbox.local_command (how to start the service here)"
    ) == ["start Docker: this config needs it (docs/sandbox.md says what each backend runs)"]
    assert sandbox("the local backend needs sandbox.local_command (how to start it here)") == []
    assert sandbox("the local backend cannot start services (db): they run from images") == []
