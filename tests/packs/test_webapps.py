from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.model import Finding, Move
from mutbot.packs.view import Sandbox
from mutbot.packs.webapps import PACK, SETTINGS, claims
from testing.packs import applied, by_key, proves, sample_files, view_of

SAMPLE = Path(__file__).resolve().parents[2] / "testing" / "packs" / "django-prod"
HEAD = "FROM python:3.12-slim\nWORKDIR /app\n"


def sample() -> dict[str, str]:
    return sample_files(SAMPLE)


def checked(
    files: dict[str, str], sandbox: Sandbox | None = None, targets: set[str] | None = None
) -> tuple[list[Finding], list[Move]]:
    view = view_of(files, sandbox, targets)
    seen = PACK.scan(view)
    findings, explore = PACK.detect(view, seen), PACK.explore(view, seen)
    for move in [m for f in findings for m in f.fix] + explore:
        assert move.seen.setting.safety == "tune"
        proves(PACK, files, move, sandbox)
    return findings, explore


def django(settings: str, env: str = "", requirements: str = "Django==5.0\n") -> dict[str, str]:
    dockerfile = f"{HEAD}{env}COPY . .\nCMD gunicorn site_app.wsgi --bind 0.0.0.0:8000\n"
    wsgi = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_app.settings")\n'
    return {
        "Dockerfile": dockerfile,
        "requirements.txt": requirements,
        "site_app/__init__.py": "",
        "site_app/wsgi.py": wsgi,
        "site_app/settings.py": settings,
    }


def test_the_production_settings_module_in_effect() -> None:
    files = sample()
    view = view_of(files)
    assert claims(view) == ["newsroom/settings/production.py", "newsroom/settings/base.py"]
    seen = by_key(PACK.scan(view))
    assert {k: (s.value, s.setting.safety, str(s.site)) for k, s in seen.items()} == {
        "webapps.django.DEBUG": (True, "tune", "newsroom/settings/production.py:8"),
        "webapps.django.CONN_MAX_AGE": (0, "tune", "newsroom/settings/base.py:28"),
        "webapps.django.SECRET_KEY": (
            'os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret")',
            "never",
            "newsroom/settings/base.py:9",
        ),
        "webapps.django.ALLOWED_HOSTS": (
            'os.environ.get("DJANGO_ALLOWED_HOSTS", "newsroom.example.com").split(",")',
            "never",
            "newsroom/settings/production.py:9",
        ),
        "webapps.django.TESTING": ('"test" in sys.argv', "never", "newsroom/settings/base.py:12"),
        "webapps.django.CSRF_TRUSTED_ORIGINS": (
            '["https://newsroom.example.com"]',
            "never",
            "newsroom/settings/production.py:10",
        ),
        "webapps.django.SESSION_COOKIE_SECURE": (
            "True",
            "never",
            "newsroom/settings/production.py:11",
        ),
        "webapps.django.CSRF_COOKIE_SECURE": (
            "True",
            "never",
            "newsroom/settings/production.py:12",
        ),
        "webapps.django.DATABASES.ENGINE": (
            '"django.db.backends.postgresql"',
            "never",
            "newsroom/settings/base.py:29",
        ),
        "webapps.django.DATABASES.NAME": (
            'os.environ.get("POSTGRES_DB", "newsroom")',
            "never",
            "newsroom/settings/base.py:30",
        ),
        "webapps.django.DATABASES.USER": (
            'os.environ.get("POSTGRES_USER", "newsroom")',
            "never",
            "newsroom/settings/base.py:31",
        ),
        "webapps.django.DATABASES.PASSWORD": (
            'os.environ.get("POSTGRES_PASSWORD", "")',
            "never",
            "newsroom/settings/base.py:32",
        ),
        "webapps.django.DATABASES.HOST": (
            'os.environ.get("POSTGRES_HOST", "db")',
            "never",
            "newsroom/settings/base.py:33",
        ),
        "webapps.django.DATABASES.PORT": (
            'os.environ.get("POSTGRES_PORT", "5432")',
            "never",
            "newsroom/settings/base.py:34",
        ),
    }
    assert not seen["webapps.django.CONN_MAX_AGE"].written
    assert all(s.setter is None for s in seen.values() if s.setting.safety == "never")


def test_the_production_sample_turns_debug_off_and_reuses_connections() -> None:
    files = sample()
    findings, _ = checked(files)
    assert [(f.category, f.title) for f in findings] == [
        ("verbose-logging", "Turn Django's debug mode off"),
        ("tiny-pool", "Reuse Django's database connections for 60 s"),
    ]
    debug = applied(files, findings[0].fix[0])["newsroom/settings/production.py"]
    assert "\nDEBUG = False\n" in debug and "base.py" not in findings[0].fix[0].edits[0].path
    base = applied(files, findings[1].fix[0])["newsroom/settings/base.py"]
    assert '        "PORT": os.environ.get("POSTGRES_PORT", "5432"),\n' in base
    assert '        "CONN_MAX_AGE": 60,\n    }\n}\n' in base


@pytest.mark.parametrize(
    ("databases", "after"),
    [
        (
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'x'}}\n",
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'x',"
            " 'CONN_MAX_AGE': 60}}\n",
        ),
        (
            "DATABASES = {'default': dj_database_url.config(default='postgres://db/x')}\n",
            "DATABASES = {'default': dj_database_url.config(default='postgres://db/x',"
            " conn_max_age=60)}\n",
        ),
        (
            "DATABASES = {'default': dj_database_url.config(conn_max_age=0)}\n",
            "DATABASES = {'default': dj_database_url.config(conn_max_age=60)}\n",
        ),
        (
            "CONN_MAX_AGE = 0\nDATABASES = {'default': {'ENGINE': 'x.postgresql',"
            " 'CONN_MAX_AGE': CONN_MAX_AGE}}\n",
            "CONN_MAX_AGE = 60\nDATABASES = {'default': {'ENGINE': 'x.postgresql',"
            " 'CONN_MAX_AGE': CONN_MAX_AGE}}\n",
        ),
    ],
)
def test_conn_max_age_is_changed_or_added_in_the_files_style(databases: str, after: str) -> None:
    files = django("import dj_database_url\nDEBUG = False\n" + databases)
    findings, _ = checked(files)
    (reuse,) = findings
    assert applied(files, reuse.fix[0])["site_app/settings.py"].endswith(after)


def test_sqlite_and_persistent_connections_need_no_reuse() -> None:
    sqlite = "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n"
    assert checked(django(sqlite))[0] == []
    forever = "DATABASES = {'default': {'ENGINE': 'x.postgresql', 'CONN_MAX_AGE': None}}\n"
    seen = by_key(PACK.scan(view_of(django(forever))))
    assert seen["webapps.django.CONN_MAX_AGE"].value is None
    assert checked(django(forever))[0] == []


def test_the_engine_is_read_in_the_environment_the_server_sees() -> None:
    settings = (
        "import os\nDATABASES = {'default': {'ENGINE': os.environ.get('SQL_ENGINE',"
        " 'django.db.backends.sqlite3')}}\n"
    )
    assert checked(django(settings))[0] == []  # the default: SQLite
    postgres = django(settings, env="ENV SQL_ENGINE=django.db.backends.postgresql\n")
    (reuse,) = checked(postgres)[0]
    assert reuse.key == "webapps.django.CONN_MAX_AGE"


def test_debug_read_from_the_environment_is_switched_where_the_variable_is_set() -> None:
    settings = 'import os\nDEBUG = os.environ.get("DJANGO_DEBUG", "False").lower() == "true"\n'
    files = django(settings, env="ENV DJANGO_DEBUG=True\n")
    seen = by_key(PACK.scan(view_of(files)))
    assert seen["webapps.django.DEBUG"].value is True
    findings, _ = checked(files)
    (debug,) = findings
    assert "ENV DJANGO_DEBUG=0\n" in applied(files, debug.fix[0])["Dockerfile"]


@pytest.mark.parametrize(
    ("expression", "env", "value"),
    [
        ('bool(int(os.environ.get("DEBUG", 0)))', "", False),
        ('bool(int(os.environ.get("DEBUG", 0)))', "ENV DEBUG=1\n", True),
        ('os.getenv("DEBUG", "off") in ("1", "on")', "ENV DEBUG=on\n", True),
        ('env.bool("DEBUG", default=False)', "ENV DEBUG=yes\n", True),
        ('config("DEBUG", default=True, cast=bool)', "ENV DEBUG=False\n", False),
        ('not os.environ.get("PRODUCTION")', "ENV PRODUCTION=1\n", False),
        ("some_function()", "", None),
    ],
)
def test_debug_expressions_read_without_running_anything(
    expression: str, env: str, value: bool | None
) -> None:
    files = django(f"import os\nDEBUG = {expression}\n", env=env)
    seen = by_key(PACK.scan(view_of(files)))
    assert seen["webapps.django.DEBUG"].value is value
    checked(files)


def test_a_settings_module_not_measured_is_an_opportunity() -> None:
    files = sample()
    findings, _ = checked(files, targets={"Dockerfile"})
    assert [f.fix for f in findings] == [(), ()]


def flask(config: str, app: str, requirements: str = "flask==3.0\n") -> dict[str, str]:
    return {
        "Dockerfile": f'{HEAD}COPY . .\nCMD ["gunicorn", "app:app", "--bind", "0.0.0.0:8000"]\n',
        "requirements.txt": requirements,
        "config.py": config,
        "app.py": app,
    }


FLASK_CONFIG = """class Config:
    DEBUG = False
    TESTING = False
    SECRET_KEY = "x"
    SQLALCHEMY_DATABASE_URI = "postgresql://db/app"


class ProductionConfig(Config):
    DEBUG = True


class TestConfig(Config):
    TESTING = True
"""


def test_the_flask_config_class_the_app_loads() -> None:
    app = "from flask import Flask\napp = Flask(__name__)\n"
    app += "app.config.from_object('config.ProductionConfig')\n"
    files = flask(FLASK_CONFIG, app)
    seen = by_key(PACK.scan(view_of(files)))
    assert {k: (s.value, s.setting.safety) for k, s in seen.items()} == {
        "webapps.flask.DEBUG": (True, "tune"),
        "webapps.flask.TESTING": ("False", "never"),
        "webapps.flask.SECRET_KEY": ('"x"', "never"),
        "webapps.flask.SQLALCHEMY_DATABASE_URI": ('"postgresql://db/app"', "never"),
    }
    findings, _ = checked(files)
    (debug,) = findings
    assert debug.title == "Turn Flask's debug mode off"
    after = applied(files, debug.fix[0])["config.py"]
    production = "class ProductionConfig(Config):\n    DEBUG = "
    assert after == FLASK_CONFIG.replace(f"{production}True", f"{production}False")


def test_app_run_debug_when_python_serves_the_app() -> None:
    app = (
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "if __name__ == '__main__':\n    app.run(host='0.0.0.0', port=5000, debug=True)\n"
    )
    files = {
        "Dockerfile": f'{HEAD}COPY . .\nCMD ["python", "app.py"]\n',
        "requirements.txt": "flask\n",
        "app.py": app,
    }
    findings, _ = checked(files)
    (debug,) = findings
    assert debug.key == "webapps.flask.run.debug"
    assert "port=5000, debug=False)" in applied(files, debug.fix[0])["app.py"]
    gunicorn = {**files, "Dockerfile": f'{HEAD}COPY . .\nCMD ["gunicorn", "app:app"]\n'}
    assert PACK.scan(view_of(gunicorn)) == []  # app.run never runs under gunicorn


def test_fastapi_debug_and_sqlalchemy_pools() -> None:
    main = (
        "from fastapi import FastAPI\nfrom sqlalchemy import create_engine\n\n"
        "engine = create_engine(DATABASE_URL, pool_size=1, max_overflow=0)\n"
        "app = FastAPI(title='orders', debug=True)\n"
    )
    files = {
        "Dockerfile": f"{HEAD}COPY . .\nCMD uvicorn main:app --host 0.0.0.0\n",
        "requirements.txt": "fastapi\nuvicorn\nSQLAlchemy\n",
        "main.py": main,
    }
    findings, explore = checked(files, Sandbox(cpus=4))
    assert [(f.category, f.title) for f in findings] == [
        ("verbose-logging", "Turn FastAPI's debug mode off"),
        ("tiny-pool", "Raise sqlalchemy.pool_size from 1 to 16"),
    ]
    pool = applied(files, findings[1].fix[0])["main.py"]
    assert "create_engine(DATABASE_URL, pool_size=16, max_overflow=0)" in pool
    assert [m.value for m in explore] == [2]


def test_a_missing_pool_size_is_added_to_the_call() -> None:
    files = {
        "Dockerfile": f"{HEAD}COPY . .\nCMD uvicorn main:app --host 0.0.0.0\n",
        "requirements.txt": "SQLAlchemy\n",
        "db.py": "import sqlalchemy\nengine = sqlalchemy.create_engine(\n    URL,\n)\n",
    }
    seen = by_key(PACK.scan(view_of(files)))
    pool = seen["webapps.sqlalchemy.pool_size"]
    assert (pool.value, pool.written) == (5, False)
    assert pool.setter is not None
    move = Move(pool, 10, "", pool.setter(10))
    proves(PACK, files, move)
    assert applied(files, move)["db.py"].endswith("create_engine(\n    URL, pool_size=10\n)\n")
    sqlite = {
        **files,
        "db.py": "from sqlalchemy import create_engine\ne = create_engine('sqlite://')\n",
    }
    assert PACK.scan(view_of(sqlite)) == []


def test_testing_and_secrets_are_never_moved() -> None:
    files = sample()
    view = view_of(files)
    seen = PACK.scan(view)
    moved = [m for f in PACK.detect(view, seen) for m in f.fix] + PACK.explore(view, seen)
    assert moved and not any(m.seen.setting.safety == "never" for m in moved)
    assert SETTINGS["django.TESTING"].safety == "never"
    assert SETTINGS["flask.TESTING"].safety == "never"
