from mutbot.envfilter import Dropped, filter_env, trust_env


def test_secrets_host_values_and_interpolations_stay_out() -> None:
    found = filter_env(
        {
            "DATABASE_URL": "postgresql://notes:s3cret@db:5432/notes",
            "POSTGRES_PASSWORD": "notes",
            "SECRET_KEY": "${SECRET_KEY:-dev}",
            "DEBUG": "1",
            "FROM_HOST": None,
            "WORKERS": "${WORKERS}",
            "PAGE_SIZE": "${PAGE_SIZE:-20}",
            "PRICE": "$$5",
        }
    )
    assert found.env == {
        "DATABASE_URL": "postgresql://notes@db:5432/notes",
        "DEBUG": "1",
        "PAGE_SIZE": "20",
        "PRICE": "$5",
    }
    assert found.dropped == (
        Dropped("POSTGRES_PASSWORD", "its name looks like a secret"),
        Dropped("SECRET_KEY", "its name looks like a secret"),
        Dropped("FROM_HOST", "its value comes from the host's environment"),
        Dropped("WORKERS", "its value is interpolated (${WORKERS})"),
    )
    assert found.notes == ("DATABASE_URL: the password in its URL is left out",)


def test_a_database_without_its_password_runs_in_its_no_password_mode() -> None:
    dropped = filter_env({"POSTGRES_PASSWORD": "x", "MYSQL_ROOT_PASSWORD": "y"}).dropped
    assert trust_env("postgres:16", dropped) == {"POSTGRES_HOST_AUTH_METHOD": "trust"}
    assert trust_env("docker.io/library/mysql:8", dropped) == {"MYSQL_ALLOW_EMPTY_PASSWORD": "yes"}
    assert trust_env("mariadb", dropped) == {"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "yes"}
    assert trust_env("redis:7", dropped) == {}
    assert trust_env("postgres:16", ()) == {}
