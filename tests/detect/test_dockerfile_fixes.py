from __future__ import annotations

import pytest

from mutbot.detect.dockerfile import findings, instructions, stages
from mutbot.detect.dockerfile_fixes import rewrite
from mutbot.proposers.base import Opportunity
from testing.repos import EXAMPLE, ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "dockerfiles"


def opportunity(category: str, line: int) -> Opportunity:
    return Opportunity(category=category, path="Dockerfile", line=line, why="test")


def fixed(text: str, category: str, line: int) -> str:
    """The rewrite, checked: it parses, the finding is gone, and a second rewrite is None."""
    new = rewrite(text, opportunity(category, line))
    assert new is not None
    assert stages(new) and len(instructions(new)) >= len(instructions(text)) - 2
    before = [f for f in findings(text) if f[0] == category]
    after = [f for f in findings(new) if f[0] == category]
    assert len(after) < len(before)
    assert (category, line) not in {(c, n) for c, n, _ in findings(new)}
    assert rewrite(new, opportunity(category, line)) is None
    return new


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_every_offered_rewrite_fixes_its_finding_and_adds_no_other(name: str) -> None:
    text = fixture(name)
    for category, line, _ in findings(text):
        new = rewrite(text, opportunity(category, line))
        if new is None:
            continue
        fixed(text, category, line)
        assert {c for c, _, _ in findings(new)} <= {c for c, _, _ in findings(text)}


def test_pricing_root_user() -> None:
    text = (EXAMPLE / "Dockerfile").read_text()
    assert fixed(text, "root-user", 1) == text.replace(
        'CMD ["python", "app.py"]',
        'RUN useradd --system --uid 10001 --no-create-home app\nUSER app\nCMD ["python", "app.py"]',
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("FROM python:3.11", "FROM python:3.11-slim"),
        ("FROM python:3.11-bookworm AS base", "FROM python:3.11-slim-bookworm AS base"),
        ("FROM docker.io/library/python:3.12", "FROM docker.io/library/python:3.12-slim"),
        ("FROM --platform=linux/amd64 node:20", "FROM --platform=linux/amd64 node:20-slim"),
        ("FROM node:20-bookworm", "FROM node:20-bookworm-slim"),
        ("FROM debian:bookworm", "FROM debian:bookworm-slim"),
        ("FROM ruby:3.3", "FROM ruby:3.3-slim"),
    ],
)
def test_heavy_base_image(before: str, after: str) -> None:
    text = f"# base\n{before}\nUSER app\n"
    assert fixed(text, "heavy-base-image", 2) == f"# base\n{after}\nUSER app\n"


@pytest.mark.parametrize("base", ["golang:1.22", "eclipse-temurin:21", "python:3.11@sha256:ab"])
def test_no_slim_rewrite_for_other_heavy_images(base: str) -> None:
    text = f"FROM {base}\nUSER app\n"
    assert rewrite(text, opportunity("heavy-base-image", 1)) is None


def test_heavy_base_in_an_earlier_stage() -> None:
    new = fixed(fixture("multistage-base.Dockerfile"), "heavy-base-image", 1)
    assert new.splitlines()[0] == "FROM python:3.11-slim AS base"


def test_pip_cache() -> None:
    new = fixed(fixture("flask-gunicorn.Dockerfile"), "package-cache-in-layer", 7)
    assert new == fixture("flask-gunicorn.Dockerfile").replace(
        "RUN pip install -r", "RUN pip install --no-cache-dir -r"
    )


def test_apt_cache() -> None:
    assert fixed(fixture("ubuntu-tools.Dockerfile"), "package-cache-in-layer", 3) == (
        "FROM ubuntu\n"
        "\n"
        "RUN apt-get update && apt-get install --no-install-recommends -y \\\n"
        "    curl \\\n"
        "    ca-certificates \\\n"
        "    jq && rm -rf /var/lib/apt/lists/*\n"
        "\n"
        "COPY entrypoint.sh /usr/local/bin/entrypoint.sh\n"
        "RUN chmod +x /usr/local/bin/entrypoint.sh\n"
        "\n"
        'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]\n'
    )


def test_apk_cache_drops_the_separate_index_update() -> None:
    new = fixed(fixture("alpine-worker.Dockerfile"), "package-cache-in-layer", 3)
    assert new == fixture("alpine-worker.Dockerfile").replace(
        "RUN apk update && apk add curl tini", "RUN apk add --no-cache curl tini"
    )


def test_several_caches_in_one_run_are_all_fixed() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\\n"
        "    && python -m pip install psycopg2-binary\n"
        "USER app\n"
    )
    assert fixed(text, "package-cache-in-layer", 2) == (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\\n"
        "    && python -m pip install --no-cache-dir psycopg2-binary"
        " && rm -rf /var/lib/apt/lists/*\n"
        "USER app\n"
    )


def test_exec_form_run_is_not_rewritten() -> None:
    text = 'FROM python:3.12-slim\nRUN ["pip", "install", "flask"]\nUSER a\n'
    assert rewrite(text, opportunity("package-cache-in-layer", 2)) is None


def test_cache_busting_pip() -> None:
    assert fixed(fixture("flask-gunicorn.Dockerfile"), "cache-busting-copy", 6) == (
        "# Flask API served by gunicorn\n"
        "FROM python:3.11-slim\n"
        "\n"
        "WORKDIR /app\n"
        "\n"
        "COPY requirements.txt ./\n"
        "RUN pip install -r requirements.txt\n"
        "COPY . .\n"
        "\n"
        "ENV FLASK_ENV=production\n"
        "EXPOSE 5000\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "2", "app:app"]\n'
    )


def test_cache_busting_npm() -> None:
    new = fixed(fixture("express.Dockerfile"), "cache-busting-copy", 6)
    assert "COPY package*.json ./\nRUN npm install\nCOPY . .\n\nEXPOSE 3000\n" in new


def test_cache_busting_keeps_workdir_semantics_and_flags() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "WORKDIR /srv\n"
        "COPY --chown=app:app . /srv/app\n"
        "ENV PIP_DISABLE_PIP_VERSION_CHECK=1\n"
        "WORKDIR /srv/app\n"
        "RUN pip install --no-cache-dir -r requirements/prod.txt -c constraints.txt\n"
        "USER app\n"
    )
    assert fixed(text, "cache-busting-copy", 3) == (
        "FROM python:3.12-slim\n"
        "WORKDIR /srv\n"
        "COPY --chown=app:app requirements/ /srv/app/requirements/\n"
        "COPY --chown=app:app constraints.txt /srv/app/\n"
        "ENV PIP_DISABLE_PIP_VERSION_CHECK=1\n"
        "WORKDIR /srv/app\n"
        "RUN pip install --no-cache-dir -r requirements/prod.txt -c constraints.txt\n"
        "COPY --chown=app:app . /srv/app\n"
        "USER app\n"
    )


def test_cache_busting_keeps_source_free_steps_in_order() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "# libpq for psycopg\n"
        "RUN apt-get update && apt-get install -y libpq5 && rm -rf /var/lib/apt/lists/*\n"
        "ENV PIP_NO_CACHE_DIR=1\n"
        "RUN pip install -r requirements.txt gunicorn==22.0.0\n"
        "RUN python -m compileall .\n"
        "USER app\n"
    )
    assert fixed(text, "cache-busting-copy", 3) == text.replace(
        "COPY . .", "COPY requirements.txt ./"
    ).replace("gunicorn==22.0.0\n", "gunicorn==22.0.0\nCOPY . .\n")


@pytest.mark.parametrize(
    ("install", "manifests"),
    [
        ("yarn install --frozen-lockfile", "package.json yarn.lock*"),
        ("go mod download", "go.mod go.sum*"),
        ("poetry install --no-root --only main", "pyproject.toml poetry.lock*"),
        ("bundle install", "Gemfile Gemfile.lock*"),
        ("apt-get update && npm ci", "package*.json"),
    ],
)
def test_cache_busting_manifests(install: str, manifests: str) -> None:
    text = f"FROM alpine:3.19\nWORKDIR /app\nCOPY . .\nRUN {install}\nUSER app\n"
    new = fixed(text, "cache-busting-copy", 3)
    head = "FROM alpine:3.19\nWORKDIR /app\n"
    assert new == f"{head}COPY {manifests} ./\nRUN {install}\nCOPY . .\nUSER app\n"


@pytest.mark.parametrize(
    "body",
    [
        "COPY . .\nRUN pip install -r requirements.txt && python manage.py collectstatic\n",
        "COPY . .\nRUN poetry install\n",  # installs the project itself: needs the source
        "COPY . .\nRUN pip install -r requirements.txt -e .\n",
        "COPY . .\nRUN composer install\n",
        "COPY . .\nRUN ./configure\nRUN npm ci\n",
        "COPY . .\nWORKDIR /app/web\nRUN npm ci\n",
        "COPY . /src\nRUN npm ci\n",  # installs in /app, not where the source went
        "COPY . /src\nRUN pip install -r ../requirements.txt\n",
        "COPY . .\nRUN pip install -r requirements.txt dist/app-1.0.whl\n",
        "COPY . $APP_HOME\nRUN npm ci\n",
    ],
)
def test_no_cache_busting_rewrite_when_unsure(body: str) -> None:
    text = f"FROM alpine:3.19\nWORKDIR /app\n{body}USER app\n"
    assert ("cache-busting-copy", 3) in {(c, n) for c, n, _ in findings(text)}
    assert rewrite(text, opportunity("cache-busting-copy", 3)) is None


def test_single_stage_django() -> None:
    assert fixed(fixture("django.Dockerfile"), "single-stage-build", 9) == (
        "FROM python:3.12-slim-bookworm AS build\n"
        "ENV PYTHONDONTWRITEBYTECODE=1 \\\n"
        "    PYTHONUNBUFFERED=1\n"
        "WORKDIR /code\n"
        "# psycopg2 is built from source against libpq\n"
        "RUN apt-get update \\\n"
        "    && apt-get install -y --no-install-recommends build-essential libpq-dev \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY requirements.txt .\n"
        "RUN pip install --prefix=/install --no-cache-dir -r requirements.txt\n"
        "\n"
        "FROM python:3.12-slim-bookworm\n"
        "\n"
        "ENV PYTHONDONTWRITEBYTECODE=1 \\\n"
        "    PYTHONUNBUFFERED=1\n"
        "\n"
        "WORKDIR /code\n"
        "\n"
        "# psycopg2 is built from source against libpq\n"
        "RUN apt-get update \\\n"
        "    && apt-get install -y --no-install-recommends libpq5 \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "\n"
        "COPY requirements.txt /code/\n"
        "COPY --from=build /install /usr/local\n"
        "\n"
        "COPY . /code/\n"
        "\n"
        "RUN python manage.py collectstatic --noinput\n"
        "\n"
        "EXPOSE 8000\n"
        'CMD ["gunicorn", "mysite.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]\n'
    )


def test_single_stage_drops_a_build_tools_only_layer() -> None:
    text = (
        "FROM python:3.11-slim\n"
        "\n"
        "# compilers for the C extensions\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "    gcc \\\n"
        "    python3-dev \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "USER nobody\n"
    )
    assert fixed(text, "single-stage-build", 4) == (
        "FROM python:3.11-slim AS build\n"
        "# compilers for the C extensions\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "    gcc \\\n"
        "    python3-dev \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install --prefix=/install --no-cache-dir -r requirements.txt\n"
        "\n"
        "FROM python:3.11-slim\n"
        "\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "COPY --from=build /install /usr/local\n"
        "USER nobody\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        fixture("spring-maven.Dockerfile"),
        # a -dev package whose runtime library is unknown
        "FROM python:3.12-slim\nRUN apt-get install -y gcc libgdal-dev\n"
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\n",
        # alpine: apk, not apt
        "FROM python:3.12-alpine\nRUN apk add --no-cache build-base\n"
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\n",
        # nothing installed from requirements
        "FROM python:3.12-slim\nRUN apt-get install -y gcc\nRUN pip install uwsgi\n",
    ],
)
def test_no_single_stage_rewrite_for_other_patterns(text: str) -> None:
    line = next(n for c, n, _ in findings(text) if c == "single-stage-build")
    assert rewrite(text, opportunity("single-stage-build", line)) is None


def test_root_user_alpine_and_crlf_and_no_final_newline() -> None:
    text = 'FROM node:20-alpine\r\nWORKDIR /app\r\nCOPY . .\r\n# start\r\nCMD ["node", "s.js"]'
    assert fixed(text, "root-user", 1) == (
        "FROM node:20-alpine\r\nWORKDIR /app\r\nCOPY . .\r\n"
        "RUN addgroup -S app && adduser -S -G app app\r\nUSER app\r\n"
        '# start\r\nCMD ["node", "s.js"]'
    )


def test_root_user_goes_after_a_trailing_user_root() -> None:
    text = 'FROM debian:bookworm-slim\nUSER root\nENTRYPOINT ["run"]\nUSER root\n'
    assert fixed(text, "root-user", 1) == (
        'FROM debian:bookworm-slim\nUSER root\nENTRYPOINT ["run"]\nUSER root\n'
        "RUN useradd --system --uid 10001 --no-create-home app\nUSER app\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        fixture("spring-maven.Dockerfile"),
        "FROM scratch\nCOPY app /app\n",
        'FROM python:3.12-slim\nRUN useradd web\nCMD ["x"]\n',
    ],
)
def test_no_root_user_rewrite(text: str) -> None:
    assert rewrite(text, opportunity("root-user", 1)) is None


def test_other_categories_and_stale_opportunities_are_not_rewritten() -> None:
    text = fixture("ubuntu-tools.Dockerfile")
    assert rewrite(text, opportunity("unpinned-base-image", 1)) is None
    assert rewrite(text, opportunity("package-cache-in-layer", 8)) is None  # nothing there
    assert rewrite(text, opportunity("no-resource-limits", 1)) is None


def test_a_dangling_continuation_is_not_rewritten() -> None:
    text = "FROM ubuntu:22.04\nRUN apt-get update; apt-get install -y curl \\\n\n"
    assert ("root-user", 1) in {(c, n) for c, n, _ in findings(text)}
    assert rewrite(text, opportunity("root-user", 1)) is None
