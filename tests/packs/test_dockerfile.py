"""The Dockerfile pack over its sample (a production and a development Dockerfile) and small
Dockerfiles: every instruction of the built stages as a setting with its safety class, the
findings with one fix each, every move proved by a re-scan, the non-root move only for a port
of 1024 or more."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.dockerfile import PACK
from mutbot.packs.model import Finding, apply_edits
from mutbot.packs.view import Sandbox
from testing.packs import applied, by_key, proves, sample_files, view_of
from testing.repos import ROOT

SAMPLE = ROOT / "testing" / "packs" / "dockerfile-dev-prod"


def sample() -> dict[str, str]:
    return sample_files(SAMPLE)


def found(files: dict[str, str], sandbox: Sandbox | None = None) -> list[Finding]:
    view = view_of(files, sandbox)
    return PACK.detect(view, PACK.scan(view))


def fix_of(files: dict[str, str], category: str, sandbox: Sandbox | None = None) -> Finding:
    [finding] = [f for f in found(files, sandbox) if f.category == category]
    return finding


PROD = {
    "assets/FROM": ("node:alpine", "tune", True),
    "assets/WORKDIR 1": ("/assets", "tune", True),
    "assets/COPY 1": ("package.json package-lock.json ./", "tune", True),
    "assets/RUN 1": ("npm ci", "tune", True),
    "assets/COPY 2": ("static/ static/", "tune", True),
    "assets/RUN 2": ("npm run build", "tune", True),
    "FROM": ("python:3.11", "tune", True),
    "ENV PYTHONDONTWRITEBYTECODE": ("1", "tune", True),
    "ENV PYTHONUNBUFFERED": ("1", "tune", True),
    "ENV DJANGO_SETTINGS_MODULE": ("orders.settings", "tune", True),
    "ENV PORT": ("8000", "never", True),
    "WORKDIR 1": ("/srv/app", "tune", True),
    "RUN 1": ("apt-get update && apt-get -y install     libpq-dev     curl", "tune", True),
    "COPY 1": (". .", "tune", True),
    "RUN 2": ("pip install -r requirements.txt", "tune", True),
    "COPY 2": ("--from=assets /assets/dist /srv/app/static/dist", "tune", True),
    "RUN 3": ("python manage.py collectstatic --noinput", "tune", True),
    "EXPOSE 1": ("8000", "never", True),
    "HEALTHCHECK 1": (
        "--interval=30s --timeout=3s CMD curl -fsS http://localhost:8000/healthz || exit 1",
        "never",
        True,
    ),
    "USER": ("root", "prove", False),
}


def test_the_production_dockerfile_as_settings() -> None:
    seen = PACK.scan(view_of(sample()))
    assert {s.setting.name: (s.value, s.setting.safety, s.written) for s in seen} == PROD
    for s in seen:
        assert s.site is not None and s.site.path == "Dockerfile"  # not the dev one
        assert (s.setter is None) == (s.setting.safety == "never"), s
        assert PACK.settings[s.setting.name] == s.setting
    # WEB_CONCURRENCY belongs to the server packs; CMD and its flags too
    assert by_key(seen)["dockerfile.USER"].site.line == 32  # type: ignore[union-attr]
    assert by_key(seen)["dockerfile.USER"].setting.default == "root"


def test_the_production_dockerfile_findings() -> None:
    findings = found(sample())
    assert [(f.category, f.site.line, len(f.fix)) for f in findings] == [
        ("unpinned-base-image", 3, 1),
        ("heavy-base-image", 10, 0),  # psycopg2 from source, no compiler installed
        ("package-cache-in-layer", 26, 1),
        ("package-cache-in-layer", 21, 1),
        ("cache-busting-copy", 25, 0),  # a rewrite of several instructions: PACK.rewrite
        ("root-user", 10, 1),
    ]
    titles = [f.title for f in findings]
    assert len(set(titles)) == len(titles)
    assert "psycopg2" in findings[1].why and "would not build" in findings[1].why


def test_every_move_of_the_sample_proves_itself() -> None:
    files = sample()
    moves = [m for f in found(files) for m in f.fix]
    assert len(moves) == 4
    for move in moves:
        assert move.seen.setting.safety != "never"
        proves(PACK, files, move)


def test_the_floating_asset_image_is_pinned_to_the_nvmrc_version() -> None:
    finding = fix_of(sample(), "unpinned-base-image")
    assert "`FROM node:alpine` names no version" in finding.why and ".nvmrc says 22" in finding.why
    [move] = finding.fix
    assert move.value == "node:22-alpine"
    assert applied(sample(), move)["Dockerfile"].splitlines()[2] == "FROM node:22-alpine AS assets"


def test_the_non_root_move_creates_a_user_before_the_command() -> None:
    files = sample()
    finding = fix_of(files, "root-user")
    assert "it binds port 8000" in finding.why
    [move] = finding.fix
    text = applied(files, move)["Dockerfile"]
    assert text.endswith(
        "HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://localhost:8000/healthz"
        " || exit 1\n"
        "RUN useradd --system --uid 10001 --no-create-home app\n"
        "USER app\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-",'
        ' "orders.wsgi:application"]\n'
    )


def test_the_development_dockerfile_when_it_is_the_one_measured() -> None:
    sandbox = Sandbox(dockerfile="Dockerfile.dev")
    findings = found(sample(), sandbox)
    assert [(f.category, f.site.line) for f in findings] == [
        ("end-of-life-base-image", 2),
        ("package-cache-in-layer", 7),
        ("single-stage-build", 7),
        ("root-user", 2),
    ]
    assert findings[0].why == (
        "`python:3.8-slim-buster` is on Python 3.8, which reached its end of life on 2024-10-07 "
        "and gets no more security fixes; `python:3.13-slim-bookworm` is a supported successor"
    )
    assert findings[0].fix == ()  # a new major version is the team's call: an opportunity
    for move in [m for f in findings for m in f.fix]:
        proves(PACK, sample(), move, sandbox)


def test_the_cache_busting_rewrite_is_offered_to_whole_file_proposers() -> None:
    files = sample()
    view = view_of(files)
    finding = fix_of(files, "cache-busting-copy")
    [edit] = PACK.rewrite(view, finding)
    new = apply_edits(files, (edit,))["Dockerfile"]
    assert "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n" in new
    assert not [f for f in found({**files, "Dockerfile": new}) if f.category == finding.category]


def test_nothing_is_editable_when_the_dockerfile_is_not_a_target() -> None:
    files = sample()
    view = view_of(files, targets={"requirements.txt"})
    seen = PACK.scan(view)
    assert seen and all(s.setter is None for s in seen)
    assert all(f.fix == () for f in PACK.detect(view, seen))


def test_no_dockerfile_no_settings() -> None:
    assert PACK.scan(view_of({"app.py": "print(1)\n"})) == []


SERVER = 'CMD ["gunicorn", "--bind", "0.0.0.0:{port}", "app:app"]\n'


def user_finding(text: str, port: int = 8000) -> Finding:
    return fix_of({"Dockerfile": text + SERVER.format(port=port)}, "root-user")


def test_no_non_root_move_for_a_port_below_1024() -> None:
    files = {"Dockerfile": "FROM python:3.12-slim\n" + SERVER.format(port=80)}
    finding = fix_of(files, "root-user")
    assert finding.fix == ()
    assert "binds port 80" in finding.why and "below 1024" in finding.why
    assert by_key(PACK.scan(view_of(files)))["dockerfile.USER"].setter is None


def test_no_non_root_move_when_the_port_is_unknown() -> None:
    finding = fix_of({"Dockerfile": "FROM python:3.12-slim\nCMD ./serve\n"}, "root-user")
    assert finding.fix == () and "not known" in finding.why


@pytest.mark.parametrize(
    ("head", "user", "added"),
    [
        ("FROM node:22-slim\n", "node", "USER node\n"),  # the image has one
        (
            "FROM python:3.12-alpine\n",
            "app",
            "RUN addgroup -S app && adduser -S -G app app\nUSER app\n",
        ),
        ("FROM python:3.12-slim\nRUN useradd --uid 999 -s /bin/sh web\n", "web", "USER web\n"),
    ],
)
def test_the_non_root_user(head: str, user: str, added: str) -> None:
    files = {"Dockerfile": head + SERVER.format(port=8000)}
    [move] = fix_of(files, "root-user").fix
    assert move.value == user
    assert applied(files, move)["Dockerfile"] == head + added + SERVER.format(port=8000)
    proves(PACK, files, move)


def test_a_written_root_user_is_replaced() -> None:
    text = "FROM debian:bookworm-slim\nUSER root\n" + SERVER.format(port=8080)
    files = {"Dockerfile": text}
    [move] = fix_of(files, "root-user").fix
    assert applied(files, move)["Dockerfile"] == text.replace(
        "USER root\n", "RUN useradd --system --uid 10001 --no-create-home app\nUSER app\n"
    )
    proves(PACK, files, move)
    seen = by_key(PACK.scan(view_of(applied(files, move))))["dockerfile.USER"]
    assert seen.setter is not None and seen.setter("root") == ()  # never back to root


def test_distroless_nonroot_sets_its_own_user() -> None:
    files = {"Dockerfile": "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\n"}
    seen = PACK.scan(view_of(files))
    assert "dockerfile.USER" not in by_key(seen)
    assert not [f for f in found(files) if f.category == "root-user"]


def test_variables_other_packs_own_and_variables_never_changed() -> None:
    text = (
        "FROM python:3.12-slim\n"
        'ENV WEB_CONCURRENCY=3 GUNICORN_CMD_ARGS="--timeout 60" NODE_ENV=production\n'
        "ENV APP_HOST=0.0.0.0 SECRET_KEY=dev DATABASE_URL=postgres://db/app LOG_LEVEL=info\n"
        "ENV PATH /opt/venv/bin:$PATH\n"
        "ARG PIP_INDEX_TOKEN\n"
        "USER 10001\n"
    )
    seen = {s.setting.name: s for s in PACK.scan(view_of({"Dockerfile": text}))}
    assert {n: (s.value, s.setting.safety) for n, s in seen.items() if " " in n} == {
        "ENV APP_HOST": ("0.0.0.0", "never"),
        "ENV SECRET_KEY": ("dev", "never"),
        "ENV DATABASE_URL": ("postgres://db/app", "never"),
        "ENV LOG_LEVEL": ("info", "tune"),
        "ENV PATH": ("/opt/venv/bin:$PATH", "tune"),
        "ARG PIP_INDEX_TOKEN": (None, "never"),
    }
    assert seen["ENV SECRET_KEY"].setter is None


@pytest.mark.parametrize(
    ("line", "name", "value", "after"),
    [
        ('ENV GREETING="hello world"\n', "ENV GREETING", "hi there", 'ENV GREETING="hi there"\n'),
        ("ENV LOG_LEVEL=info\n", "ENV LOG_LEVEL", "warning", "ENV LOG_LEVEL=warning\n"),
        ("ENV LOG_LEVEL info\n", "ENV LOG_LEVEL", "debug", "ENV LOG_LEVEL debug\n"),
        ("ARG BUILD_MODE\n", "ARG BUILD_MODE", "release", "ARG BUILD_MODE=release\n"),
        ("ENV MSG=one\n", "ENV MSG", "two words", 'ENV MSG="two words"\n'),
    ],
)
def test_variable_setters_keep_the_file_style(line: str, name: str, value: str, after: str) -> None:
    files = {"Dockerfile": f"FROM python:3.12-slim\n{line}USER 10001\n"}
    seen = {s.setting.name: s for s in PACK.scan(view_of(files))}[name]
    assert seen.setter is not None
    new = apply_edits(files, seen.setter(value))["Dockerfile"]
    assert new == f"FROM python:3.12-slim\n{after}USER 10001\n"
    again = {s.setting.name: s for s in PACK.scan(view_of({"Dockerfile": new}))}
    assert again[name].value == value


def test_stages_built_are_the_target_and_what_it_copies_from() -> None:
    text = (
        "FROM golang:1.23 AS build\nRUN go build -o /app .\n"
        "FROM alpine:3.22 AS debug\nRUN apk add --no-cache curl\n"
        "FROM gcr.io/distroless/static-debian12 AS prod\nCOPY --from=build /app /app\n"
        "FROM prod AS final\nUSER 65532\n"
    )
    names = {s.setting.name for s in PACK.scan(view_of({"Dockerfile": text}))}
    assert names == {
        "build/FROM", "build/RUN 1", "prod/FROM", "prod/COPY 1", "FROM (stage)", "USER",
    }  # fmt: skip
    target = Sandbox(target="debug")
    names = {s.setting.name for s in PACK.scan(view_of({"Dockerfile": text}, target))}
    assert names == {"FROM", "RUN 1", "USER"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "RUN echo before any FROM\n",
        "FROM python:3.12\nRUN <<EOF\nx\nEOF\n",
    ],
)
def test_odd_files_do_not_crash(text: str) -> None:
    files = {"Dockerfile": text}
    view = view_of(files)
    PACK.detect(view, PACK.scan(view))


def test_the_settings_resolve_every_name_they_give() -> None:
    for name in ("FROM", "build/FROM", "RUN 3", "global/ARG PY", "ENV A (2)", "FROM (stage)"):
        assert PACK.settings[name].name == name
    for name in ("CMD", "RUN x", "USER 1", "EXPOSE x"):
        with pytest.raises(KeyError):
            PACK.settings[name]
    assert {k: s.name for k, s in PACK.settings.items()} == {k: k for k in PACK.settings}
    assert Path(SAMPLE / "Dockerfile.dev").is_file()
