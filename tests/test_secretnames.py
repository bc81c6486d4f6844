import pytest

from mutbot.secretnames import looks_secret


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN", "ANTHROPIC_API_KEY", "ACTIONS_ID_TOKEN_REQUEST_URL", "DB_PASSWORD",
        "postgres_passwd", "SECRET_KEY", "DJANGO_SECRET", "AWS_ACCESS_KEY_ID", "STRIPE_KEY",
        "RAILS_MASTER_KEY", "SIGNING_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "KEY",
    ],
)  # fmt: skip
def test_credentials_look_secret(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "PORT", "DEBUG", "WEB_CONCURRENCY", "KEYCLOAK_URL", "MONKEY_MODE"]
)
def test_settings_do_not(name: str) -> None:
    assert not looks_secret(name)
