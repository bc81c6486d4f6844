"""The Dockerfile rewrites that move and add instructions: the whole source copied before the
dependency install, and build tools shipped by a single-stage build. Each rewrite is checked:
it parses, its finding is gone, a second rewrite offers nothing, and the pack finds no new kind
of problem in the result."""

from __future__ import annotations

import pytest

from mutbot.discover.dockerfile_syntax import instructions, stages
from mutbot.packs.dockerfile import PACK
from mutbot.packs.dockerfile_rewrite import findings, rewrite
from testing.packs import view_of
from testing.repos import ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "dockerfiles"


def found(text: str) -> set[tuple[str, int]]:
    return {(c, n) for c, n, _ in findings(text)}


def pack_categories(text: str) -> set[str]:
    view = view_of({"Dockerfile": text})
    return {f.category for f in PACK.detect(view, PACK.scan(view))}


def fixed(text: str, category: str, line: int) -> str:
    """The rewrite, checked: it parses, the finding is gone, and a second rewrite is None."""
    new = rewrite(text, category, line)
    assert new is not None
    assert stages(new) and len(instructions(new)) >= len(instructions(text)) - 2
    before = [f for f in findings(text) if f[0] == category]
    after = [f for f in findings(new) if f[0] == category]
    assert len(after) < len(before)
    assert (category, line) not in found(new)
    assert rewrite(new, category, line) is None
    return new


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_every_offered_rewrite_fixes_its_finding_and_adds_no_other(name: str) -> None:
    text = fixture(name)
    for category, line, _ in findings(text):
        new = rewrite(text, category, line)
        if new is None:
            continue
        fixed(text, category, line)
        assert pack_categories(new) <= pack_categories(text)


def test_the_fixtures_findings() -> None:
    every = {p.name: found(p.read_text()) for p in sorted(FIXTURES.iterdir())}
    assert {name: f for name, f in every.items() if f} == {
        "django.Dockerfile": {("single-stage-build", 9)},
        "express.Dockerfile": {("cache-busting-copy", 6)},
        "flask-gunicorn.Dockerfile": {("cache-busting-copy", 6)},
        "spring-maven.Dockerfile": {("single-stage-build", 4)},
    }
    whys = {c: w for c, _, w in findings(fixture("flask-gunicorn.Dockerfile"))}
    assert "`pip install -r` (line 7)" in whys["cache-busting-copy"]
    assert "`COPY . .`" in whys["cache-busting-copy"]


@pytest.mark.parametrize(
    "install",
    [
        "npm ci --omit=dev",
        "yarn --frozen-lockfile",
        "pnpm install",
        "poetry install --no-root",
        "pipenv install --deploy --system",
        "bundle install --jobs 4",
        "go mod download",
        "composer install --no-dev",
        "pip install --no-cache-dir --requirement requirements.txt",
    ],
)
def test_cache_busting_install_commands(install: str) -> None:
    text = f"FROM alpine:3.19\nWORKDIR /app\nADD . ./\nRUN {install}\nUSER app\n"
    assert found(text) == {("cache-busting-copy", 3)}


@pytest.mark.parametrize(
    "text",
    [
        "COPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
        "COPY . .\nRUN npm install -g pm2\n",
        "COPY --from=build /out .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "COPY ./src ./src\nRUN pip install --no-cache-dir -r requirements.txt\n",
    ],
)
def test_not_cache_busting(text: str) -> None:
    assert found(f"FROM alpine:3.19 AS x\nFROM x\n{text}USER app\n") == set()


def test_install_in_another_stage_is_not_cache_busting() -> None:
    text = "FROM node:20-slim AS a\nCOPY . .\nFROM node:20-slim\nRUN npm ci\nUSER node\n"
    assert found(text) == set()


def test_continuation_lines_keep_their_numbers() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "# tools\n"
        "RUN apt-get update \\\n"
        "    # jq for the healthcheck\n"
        "    && apt-get install -y jq\n"
        "COPY . /srv\n"
        "RUN cd /srv \\\n"
        "    && pip install --no-cache-dir -r requirements.txt\n"
        "USER app\n"
    )
    assert found(text) == {("cache-busting-copy", 6)}


@pytest.mark.parametrize(
    "run",
    [
        "RUN apk add --no-cache build-base postgresql-dev",
        "RUN CGO_ENABLED=0 go build -o /app .",
        "RUN npm run build",
        "RUN ./gradlew bootJar",
    ],
)
def test_single_stage_build(run: str) -> None:
    text = f"FROM alpine:3.19\nRUN echo hi\n{run}\nUSER app\n"
    assert found(text) == {("single-stage-build", 3)}


def test_build_tools_removed_in_the_same_layer_are_not_shipped() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc \\\n"
        "    && pip install --no-cache-dir uwsgi \\\n"
        "    && apt-get purge -y --auto-remove gcc && rm -rf /var/lib/apt/lists/*\n"
        "USER app\n"
    )
    assert found(text) == set()


def test_build_tools_in_a_multi_stage_build_are_fine() -> None:
    text = fixture("go-distroless.Dockerfile")
    assert "go build" in text and found(text) == set()


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
    assert ("cache-busting-copy", 3) in found(text)
    assert rewrite(text, "cache-busting-copy", 3) is None


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
    assert rewrite(text, "single-stage-build", line) is None


def test_other_categories_and_stale_findings_are_not_rewritten() -> None:
    text = fixture("flask-gunicorn.Dockerfile")
    assert rewrite(text, "root-user", 2) is None  # the pack's own move
    assert rewrite(text, "package-cache-in-layer", 7) is None
    assert rewrite(text, "cache-busting-copy", 7) is None  # nothing there
    assert rewrite(text, "no-resource-limits", 1) is None


def test_a_dangling_continuation_is_not_rewritten() -> None:
    text = "FROM alpine:3.19\nWORKDIR /app\nCOPY . .\nRUN npm ci \\\n\n"
    assert ("cache-busting-copy", 3) in found(text)
    assert rewrite(text, "cache-busting-copy", 3) is None


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment\n", "RUN echo before any FROM\n",
     'FROM python:3.12-slim\nRUN echo "unterminated\nUSER a\n'],
)  # fmt: skip
def test_odd_files_give_nothing(text: str) -> None:
    assert findings(text) == []
