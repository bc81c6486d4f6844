"""How the Docker backend reads the sandbox's run settings (pure; no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.backends.docker_services import environment, health_words, throwaway_values, words
from mutbot.config import load_config
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError


def test_a_string_command_is_split_into_words_as_compose_does_and_no_shell_runs_it() -> None:
    assert words("gunicorn app:app -b ':8080' --log-level=debug", "sandbox.command") == [
        "gunicorn",
        "app:app",
        "-b",
        ":8080",
        "--log-level=debug",
    ]
    assert words("echo $HOME && ls", "sandbox.command") == ["echo", "$HOME", "&&", "ls"]
    assert words(["python", "-c", "print('a b')"], "sandbox.command") == [
        "python",
        "-c",
        "print('a b')",
    ]
    with pytest.raises(ConfigError) as info:
        words("sh -c 'echo unclosed", "sandbox.services.db.command")
    assert str(info.value) == (
        'sandbox.services.db.command: cannot split "sh -c \'echo unclosed" into words '
        "(No closing quotation)"
    )


def test_a_health_command_reads_like_composes_healthcheck_test() -> None:
    assert health_words("pg_isready -h 127.0.0.1 && true") == [
        "sh",
        "-c",
        "pg_isready -h 127.0.0.1 && true",
    ]
    assert health_words(["pg_isready", "-U", "postgres"]) == ["pg_isready", "-U", "postgres"]
    assert health_words(["CMD", "redis-cli", "ping"]) == ["redis-cli", "ping"]
    assert health_words(["CMD-SHELL", "curl -f localhost || exit 1"]) == [
        "sh",
        "-c",
        "curl -f localhost || exit 1",
    ]


def test_throwaway_values_are_one_per_name_for_the_service_and_its_dependencies() -> None:
    sandbox = Sandbox.model_validate(
        {
            "env": {"MODE": "prod", "DB_USER": "app"},
            "throwaway_env": ["DB_PASS", "SECRET_KEY"],
            "services": {
                "db": {"image": "postgres:16", "throwaway_env": ["DB_PASS"]},
                "cache": {"image": "redis:7", "throwaway_env": ["REDIS_PASS"]},
            },
        }
    )
    values = throwaway_values(sandbox)
    assert sorted(values) == ["DB_PASS", "REDIS_PASS", "SECRET_KEY"]
    assert all(len(v) == 32 for v in values.values()) and len(set(values.values())) == 3
    assert throwaway_values(sandbox)["DB_PASS"] != values["DB_PASS"]  # made up per run
    app = environment(sandbox.env, sandbox.throwaway_env, values)
    db = environment(sandbox.services["db"].env, sandbox.services["db"].throwaway_env, values)
    assert app == {
        "MODE": "prod",
        "DB_USER": "app",
        "DB_PASS": values["DB_PASS"],
        "SECRET_KEY": values["SECRET_KEY"],
    }
    assert db == {"DB_PASS": values["DB_PASS"]}  # the same value on both ends
    assert environment({"KEY_ID": "fixed"}, ["KEY_ID"], {"KEY_ID": "random"}) == {
        "KEY_ID": "random"
    }


def test_a_secret_looking_env_key_is_refused_at_config_load(tmp_path: Path) -> None:
    config = tmp_path / ".mutbot.yml"
    config.write_text(
        "version: 1\ntargets: [Dockerfile]\nload: {locustfile: l.py}\n"
        "sandbox:\n  env: {MODE: prod, DB_PASSWORD: hunter2}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert str(info.value) == (
        f"{config}: sandbox.env: DB_PASSWORD looks like a secret, and secrets never enter a "
        "sandbox; give the service a default for tests, list DB_PASSWORD under throwaway_env "
        "(a random value made up for each run), or for a database use its no-password mode "
        "(e.g. POSTGRES_HOST_AUTH_METHOD: trust)"
    )
    assert "hunter2" not in str(info.value)
