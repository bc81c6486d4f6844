"""The guard: the settings a candidate changes, named by scanning both sides with every pack;
a `never` setting, a line no changed setting accounts for and a file the sandbox never reads
are refused. The packs here are small stand-ins (testing/linepacks.py)."""

from __future__ import annotations

import pytest

from mutbot.packs.guard import NEVER, UNKNOWN, Changed, Guarded, check, neutral
from mutbot.packs.model import Site
from mutbot.packs.view import Sandbox
from testing.linepacks import Broken, LinePack, example_packs
from testing.packs import view_of

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY config/ /app/config/
COPY app.py /app/
ENV PORT=8080
ENV WORKERS=2
EXPOSE 8080
USER app
HEALTHCHECK --retries=3 CMD curl -f http://localhost:8080/healthz
CMD ["python", "app.py"]
"""
INI = """\
[server]
# Worker threads.
threads = 1
port = 8080
host = 0.0.0.0
jwt_expiry = 3600
"""
COMPOSE = """\
services:
  web:
    ports:
      - "8080:8080"
    healthcheck:
      retries: 3
    deploy:
      resources:
        limits:
          memory: 512m
"""
FILES = {
    "Dockerfile": DOCKERFILE,
    "config/server.ini": INI,
    "app.py": "print('pricing')\n",
    "compose.yaml": COMPOSE,
    "README.md": "# pricing\n",
}
PACKS = example_packs()


def guard(
    changes: dict[str, str | None],
    packs: list[LinePack] | None = None,
    sandbox: Sandbox | None = None,
) -> Guarded:
    before = {path: FILES.get(path) for path in changes}
    return check(view_of(FILES, sandbox), before, changes, PACKS if packs is None else packs)


def edited(path: str, old: str, new: str) -> dict[str, str | None]:
    assert FILES[path].count(old) == 1, old
    return {path: FILES[path].replace(old, new)}


def test_a_tuning_change_passes_and_says_what_it_changes_and_reaches() -> None:
    found = guard(edited("config/server.ini", "threads = 1", "threads = 4"))
    site = Site("config/server.ini", 3, "file")
    assert found == Guarded(
        None, ("build",), (Changed("settings.threads", "tune", 1, 4, (True, True), site, "build"),)
    )
    assert found.ok


def test_a_never_setting_is_refused_by_name() -> None:
    found = guard(edited("Dockerfile", "EXPOSE 8080", "EXPOSE 9090"))
    assert found.problem == f"changes docker.expose at Dockerfile:7 ({NEVER})"
    assert [c.key for c in found.changed] == ["docker.expose"]


def test_the_never_rule_names_the_setting_before_any_other_problem() -> None:
    changes = {
        **edited("README.md", "pricing", "prices"),
        **edited("config/server.ini", "host = 0.0.0.0", "host = 127.0.0.1"),
    }
    assert guard(changes).problem == f"changes settings.host at config/server.ini:5 ({NEVER})"


def test_removing_a_never_setting_is_changing_it() -> None:
    found = guard(edited("Dockerfile", "HEALTHCHECK --retries=3 CMD curl -f", "# CMD curl -f"))
    assert found.problem == f"changes docker.healthcheck at Dockerfile:9 ({NEVER})"
    assert found.changed[0].written == (True, False) and found.changed[0].after is None


def test_a_value_no_pack_knows_is_refused_with_its_line() -> None:
    found = guard(edited("config/server.ini", "jwt_expiry = 3600", "jwt_expiry = 60"))
    assert found.problem == f"{UNKNOWN}: config/server.ini:6"
    assert found.changed == ()


def test_an_unknown_line_beside_a_tuning_change_is_still_refused() -> None:
    changes = edited(
        "config/server.ini",
        "threads = 1\nport = 8080\nhost = 0.0.0.0\njwt_expiry = 3600",
        "threads = 4\nport = 8080\nhost = 0.0.0.0\njwt_expiry = 60",
    )
    assert guard(changes).problem == f"{UNKNOWN}: config/server.ini:6"


def test_a_file_the_sandbox_never_reads_is_not_measured() -> None:
    found = guard(edited("compose.yaml", "memory: 512m", "memory: 256m"))
    assert found.problem == "not measured: the sandbox never reads compose.yaml"
    assert guard(edited("README.md", "pricing", "prices")).problem == (
        "not measured: the sandbox never reads README.md"
    )


def test_the_sandboxs_own_compose_file_is_measured_and_its_limits_reach_resources() -> None:
    sandbox = Sandbox(compose="compose.yaml")
    found = guard(edited("compose.yaml", "memory: 512m", "memory: 256m"), sandbox=sandbox)
    assert found.ok and found.reaches == ("resources",)
    ports = guard(edited("compose.yaml", '"8080:8080"', '"16000:8080"'), sandbox=sandbox)
    assert ports.problem == f"changes compose.ports at compose.yaml:4 ({NEVER})"


def test_comments_and_blank_lines_account_for_themselves() -> None:
    changes = edited(
        "config/server.ini", "# Worker threads.\nthreads = 1", "\n# Threads: 4 cores.\nthreads = 4"
    )
    assert guard(changes).ok
    only = guard(edited("config/server.ini", "# Worker threads.", "# Threads per worker."))
    assert only.problem == f"{UNKNOWN}: it changes only comments, blank lines or file modes"


def test_adding_a_setting_may_add_the_lines_it_needs() -> None:
    found = guard(
        edited(
            "config/server.ini",
            "jwt_expiry = 3600\n",
            "jwt_expiry = 3600\n[cache]\ncache_size = 64\n",
        )
    )
    assert found.ok, found.problem
    assert found.changed[0].key == "settings.cache_size"
    assert found.changed[0].written == (False, True) and found.changed[0].before == 0


def test_a_line_added_away_from_the_setting_is_not_accounted_for() -> None:
    changes = edited("config/server.ini", "[server]\n", "[server]\nkeepalive = 5\n")
    changes["config/server.ini"] = (changes["config/server.ini"] or "") + "cache_size = 64\n"
    assert guard(changes).problem == f"{UNKNOWN}: config/server.ini:2"


def test_removing_a_tuning_setting_goes_back_to_its_default() -> None:
    found = guard(edited("config/server.ini", "threads = 1\n", ""))
    assert found.ok
    assert found.changed[0].written == (True, False) and found.changed[0].after == 1


def test_a_setting_the_build_must_prove_passes_the_guard() -> None:
    found = guard(edited("Dockerfile", "USER app", "USER nobody"))
    assert found.ok and found.changed[0].safety == "prove"


def test_a_setting_accounts_for_its_whole_logical_line() -> None:
    files = {
        **FILES,
        "Dockerfile": DOCKERFILE.replace("ENV WORKERS=2\n", "ENV WORKERS=2 \\\n    LOG=info\n"),
    }
    before = {"Dockerfile": files["Dockerfile"]}
    joined = files["Dockerfile"].replace(
        "WORKERS=2 \\\n    LOG=info", "WORKERS=4 \\\n    LOG=warning"
    )
    found = check(view_of(files), before, {"Dockerfile": joined}, PACKS)
    assert found.ok, found.problem
    alone = files["Dockerfile"].replace("LOG=info", "LOG=warning")
    assert check(view_of(files), before, {"Dockerfile": alone}, PACKS).problem == (
        f"{UNKNOWN}: Dockerfile:7"
    )


def test_new_and_deleted_files() -> None:
    created = guard({"config/extra.ini": "workers = 4\n"})
    assert created.problem == f"{UNKNOWN}: config/extra.ini:1"
    assert guard({"README.md": None}).problem == "not measured: the sandbox never reads README.md"


def test_without_packs_nothing_is_refused_and_the_files_say_what_they_reach() -> None:
    changes = {
        **edited("Dockerfile", "EXPOSE 8080", "EXPOSE 9090"),
        **edited("README.md", "pricing", "prices"),
    }
    assert guard(changes, packs=[]) == Guarded(None, ("build", "none"), ())


def test_a_pack_that_fails_on_the_candidates_files_cannot_vouch_for_them() -> None:
    changes = edited("Dockerfile", "ENV WORKERS=2", "ENV WORKERS=4 # BOOM")
    found = guard(changes, packs=[*PACKS, Broken("BOOM")])
    assert found.problem == "the broken pack cannot read the changed files: cannot read 'BOOM'"
    # one that fails on the baseline already sees nothing on either side: the others judge
    assert guard(changes, packs=[*PACKS, Broken("FROM")]).ok


@pytest.mark.parametrize(
    ("path", "line", "expected"),
    [
        ("Dockerfile", "   ", True),
        ("Dockerfile", "# a comment", True),
        ("Dockerfile", "# syntax=docker/dockerfile:1", False),
        ("entrypoint.sh", "#!/bin/sh", False),
        ("app.js", "#count = 1;", False),
        ("app.js", "// a comment", True),
        ("uwsgi.ini", "; a comment", True),
        ("settings.toml", "; not a comment", False),
        ("settings.toml", "workers = 4", False),
    ],
)
def test_what_is_a_comment(path: str, line: str, expected: bool) -> None:
    assert neutral(path, line) is expected
