from __future__ import annotations

import pytest

from mutbot.discover.model import Source
from mutbot.discover.process import Launch, Listen
from mutbot.packs import envsites
from mutbot.packs.model import Site, apply_edits
from mutbot.packs.view import Sandbox, View
from testing.packs import view_of

HEAD = "FROM python:3.12-slim\nWORKDIR /app\n"
TAIL = "COPY . .\nCMD gunicorn app:app --bind 0.0.0.0:8000\n"


def files_with(env: str = "", **more: str) -> dict[str, str]:
    return {"Dockerfile": HEAD + env + TAIL, "app.py": "app = 1\n", **more}


def changed(files: dict[str, str], name: str, value: str, view: View | None = None) -> str:
    edits = envsites.set_env(view or view_of(files), name, value)
    assert edits is not None
    (path,) = {e.path for e in edits}
    return apply_edits(files, edits)[path]


@pytest.mark.parametrize(
    ("written", "after"),
    [
        ("ENV WEB_CONCURRENCY=2\n", "ENV WEB_CONCURRENCY=4\n"),
        ('ENV WEB_CONCURRENCY="2"\n', 'ENV WEB_CONCURRENCY="4"\n'),
        ("ENV WEB_CONCURRENCY 2\n", "ENV WEB_CONCURRENCY 4\n"),
        (
            "ENV PYTHONUNBUFFERED=1 \\\n    WEB_CONCURRENCY=2 \\\n    PORT=8000\n",
            "ENV PYTHONUNBUFFERED=1 \\\n    WEB_CONCURRENCY=4 \\\n    PORT=8000\n",
        ),
    ],
)
def test_dockerfile_env_changed_where_written(written: str, after: str) -> None:
    files = files_with(written)
    site = envsites.env_site(view_of(files), "WEB_CONCURRENCY")
    assert site is not None and site.value == "2" and site.path == "Dockerfile"
    assert files["Dockerfile"][site.span[0] : site.span[1]] == "2"  # type: ignore[index]
    assert changed(files, "WEB_CONCURRENCY", "4") == HEAD + after + TAIL


def test_site_line_is_the_value_line_of_a_continued_env() -> None:
    files = files_with("ENV A=1 \\\n    WEB_CONCURRENCY=2\n")
    site = envsites.env_site(view_of(files), "WEB_CONCURRENCY")
    assert site is not None and site.site == Site("Dockerfile", 4, "env")


def test_values_with_spaces_are_quoted() -> None:
    files = files_with('ENV GUNICORN_CMD_ARGS="--bind 0.0.0.0:80"\n')
    out = changed(files, "GUNICORN_CMD_ARGS", "--bind 0.0.0.0:80 --workers 3")
    assert 'ENV GUNICORN_CMD_ARGS="--bind 0.0.0.0:80 --workers 3"\n' in out
    legacy = files_with('ENV GUNICORN_CMD_ARGS "--bind 0.0.0.0:80"\n')
    out = changed(legacy, "GUNICORN_CMD_ARGS", "--workers 3")
    assert 'ENV GUNICORN_CMD_ARGS "--workers 3"\n' in out
    bare = files_with("ENV GUNICORN_CMD_ARGS=--preload\n")
    assert 'ENV GUNICORN_CMD_ARGS="--preload -w 3"\n' in changed(
        bare, "GUNICORN_CMD_ARGS", "--preload -w 3"
    )


def test_unsafe_value_is_refused() -> None:
    files = files_with('ENV GUNICORN_CMD_ARGS="--bind 0.0.0.0:80"\n')
    assert envsites.set_env(view_of(files), "GUNICORN_CMD_ARGS", 'a "b"') is None


def test_added_after_the_last_env_of_the_built_stage() -> None:
    files = files_with("ENV PYTHONUNBUFFERED=1\n")
    view = view_of(files)
    assert envsites.env_site(view, "WEB_CONCURRENCY") is None
    assert envsites.add_site(view) == Site("Dockerfile", 4, "env")
    assert changed(files, "WEB_CONCURRENCY", "3") == (
        HEAD + "ENV PYTHONUNBUFFERED=1\nENV WEB_CONCURRENCY=3\n" + TAIL
    )


def test_added_before_cmd_of_the_built_stage_without_env() -> None:
    text = (
        "FROM python:3.12 AS build\nENV PIP_NO_CACHE_DIR=1\nRUN pip wheel -w /w flask\n"
        "FROM python:3.12-slim\nCOPY --from=build /w /w\nCOPY . .\nEXPOSE 8000\n"
        'CMD ["gunicorn", "app:app"]'
    )
    files = {"Dockerfile": text, "app.py": ""}
    view = view_of(files)
    assert envsites.add_site(view) == Site("Dockerfile", 8, "env")
    out = changed(files, "WEB_CONCURRENCY", "3")
    assert out.endswith('EXPOSE 8000\nENV WEB_CONCURRENCY=3\nCMD ["gunicorn", "app:app"]')


def test_added_at_the_end_of_a_stage_with_no_command() -> None:
    files = {"Dockerfile": "FROM python:3.12-slim\nCOPY . .", "app.py": ""}
    view = view_of(files, Sandbox(command="gunicorn app:app"))
    assert changed(files, "WEB_CONCURRENCY", "3", view) == (
        "FROM python:3.12-slim\nCOPY . .\nENV WEB_CONCURRENCY=3\n"
    )


def test_target_stage() -> None:
    text = (
        "FROM python:3.12-slim AS prod\nCOPY . .\nCMD gunicorn app:app\n"
        "FROM prod AS dev\nENV DEBUG=1\nCMD flask run\n"
    )
    files = {"Dockerfile": text, "app.py": ""}
    view = view_of(files, Sandbox(target="prod"))
    assert envsites.add_site(view) == Site("Dockerfile", 3, "env")
    assert "COPY . .\nENV WEB_CONCURRENCY=3\nCMD gunicorn" in changed(
        files, "WEB_CONCURRENCY", "3", view
    )


def test_shell_export_in_the_entrypoint_script() -> None:
    files = {
        "Dockerfile": HEAD + 'COPY . .\nENTRYPOINT ["./boot.sh"]\n',
        "boot.sh": "#!/bin/sh\nexport WEB_CONCURRENCY='2'\nexec gunicorn app:app -b :8000\n",
        "app.py": "",
    }
    site = envsites.env_site(view_of(files), "WEB_CONCURRENCY")
    assert site is not None and (site.path, site.line, site.quote) == ("boot.sh", 2, "'")
    assert "export WEB_CONCURRENCY='5'\n" in changed(files, "WEB_CONCURRENCY", "5")


def test_sandbox_env_and_files_outside_the_targets_are_not_edited() -> None:
    files = files_with()
    view = view_of(files, Sandbox(env={"WEB_CONCURRENCY": "2"}))
    site = envsites.env_site(view, "WEB_CONCURRENCY")
    assert site == envsites.EnvSite("WEB_CONCURRENCY", "2", None, None, None, "")
    assert envsites.set_env(view, "WEB_CONCURRENCY", "3") is None
    assert envsites.set_env(view_of(files, targets={"app.py"}), "WEB_CONCURRENCY", "3") is None
    assert envsites.add_site(view_of(files, targets={"app.py"})) is None


def _with_env(view: View, name: str, value: str, where: Source) -> View:
    """A view whose server sees `name` set at `where` (compose and Kubernetes files are not read
    by the View today; the env reader still knows them)."""
    assert view.listen is not None and view.launch is not None
    launch = Launch(
        view.launch.program, view.launch.argv, view.launch.source, {name: (value, where)}
    )
    listen = Listen(view.listen.server, view.listen.port, launch=launch)
    return View(view.repo, view.sandbox, view.image, listen, view.targets, view.packages)


@pytest.mark.parametrize(
    ("text", "line", "after"),
    [
        (
            "services:\n  web:\n    environment:\n      WEB_CONCURRENCY: 2\n",
            4,
            "      WEB_CONCURRENCY: 4\n",
        ),
        (
            'services:\n  web:\n    environment:\n      - "WEB_CONCURRENCY=2"\n',
            4,
            '      - "WEB_CONCURRENCY=4"\n',
        ),
        (
            'env:\n  - name: WEB_CONCURRENCY\n    value: "2"\n  - name: X\n    value: y\n',
            2,
            '  - name: WEB_CONCURRENCY\n    value: "4"\n',
        ),
    ],
)
def test_compose_and_kubernetes(text: str, line: int, after: str) -> None:
    files = {**files_with(), "deploy.yml": text}
    view = _with_env(view_of(files, Sandbox(compose="deploy.yml")), "WEB_CONCURRENCY", "2",
                     Source("deploy.yml", line))  # fmt: skip
    assert after in changed(files, "WEB_CONCURRENCY", "4", view)
