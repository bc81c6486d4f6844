"""`mutbot validate` checks the files the config names, not only its shape; a run fails the same
clean way, before it builds anything."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mutbot.cli import main
from testing.repos import EXAMPLE, example_candidates, git, make_repo, write_candidates

LOCUST = "from locust import HttpUser, task\n\n\nclass Visitor(HttpUser):\n    @task\n    def home(self):\n        self.client.get('/')\n"  # noqa: E501
CONFIG = "version: 1\ntargets: [Dockerfile]\nload: {locustfile: loadtest/locustfile.py}\n"


def project(tmp_path: Path, extra: str = "", locust: str | None = LOCUST) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    if locust is not None:
        (tmp_path / "loadtest").mkdir()
        (tmp_path / "loadtest" / "locustfile.py").write_text(locust)
    (tmp_path / ".mutbot.yml").write_text(CONFIG + extra)
    return tmp_path


def validate(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", "--repo", str(repo)])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_missing_path_is_named_with_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project(
        tmp_path,
        "sandbox: {dockerfile: docker/Dockerfile.prod, context: Dockerfile, compose: dc.yml}\n"
        "propose: {prompts: prompts}\n",
        locust=None,
    )
    code, _, err = validate(repo, capsys)
    config = repo / ".mutbot.yml"
    assert code == 3
    assert err.splitlines() == [
        f"mutbot: error: {config}: load.locustfile: 'loadtest/locustfile.py' does not exist",
        f"{config}: sandbox.compose: 'dc.yml' does not exist",
        f"{config}: propose.prompts: 'prompts' does not exist",
        f"{config}: sandbox.dockerfile: 'docker/Dockerfile.prod' does not exist",
        f"{config}: sandbox.context: 'Dockerfile' is not a folder",
    ]


def test_paths_linked_outside_the_project_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "repo").mkdir()
    repo = project(tmp_path / "repo", "sandbox: {compose: docker-compose.yml}\n")
    (tmp_path / "docker-compose.yml").write_text("services: {web: {build: .}}\n")
    (repo / "docker-compose.yml").symlink_to(tmp_path / "docker-compose.yml")
    code, _, err = validate(repo, capsys)
    assert code == 3
    assert f"sandbox.compose: must stay inside the project folder {repo.resolve()}" in err


def test_sizes_without_units_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = validate(project(tmp_path, "sandbox: {memory: 256}\n"), capsys)
    assert (code, err) == (
        3,
        f"mutbot: error: {tmp_path / '.mutbot.yml'}: sandbox.memory: 256 bytes is below "
        "Docker's minimum of 6m (sizes take a unit: 256m, 1g); did you mean 256m?\n",
    )


@pytest.mark.parametrize(
    ("locust", "problem"),
    [
        ("class Visitor(HttpUser:\n", "'loadtest/locustfile.py' does not parse: line 1: "),
        ("import locust\n\nclass Helper:\n    pass\n", "'loadtest/locustfile.py' defines no "
         "user class (a class deriving from HttpUser, FastHttpUser, User, with tasks)"),
        ("from locust import HttpUser\n\nclass Base(HttpUser):\n    abstract = True\n",
         "defines no user class"),
        ("x = '\0'\n", "does not parse: source code string cannot contain null bytes"),
        ("x = 1\n" + "(" * 300 + ")" * 300 + "\n", "'loadtest/locustfile.py' does not parse"),
    ],
)  # fmt: skip
def test_a_locustfile_that_would_not_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], locust: str, problem: str
) -> None:
    code, _, err = validate(project(tmp_path, locust=locust), capsys)
    assert code == 3
    assert err.startswith(f"mutbot: error: {tmp_path / '.mutbot.yml'}: load.locustfile: ")
    assert problem in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "locust",
    [
        LOCUST,
        "import locust\n\nclass Shopper(locust.FastHttpUser):\n    pass\n",
        "from locust import HttpUser\n\nclass BaseUser(HttpUser):\n    abstract = True\n\n"
        "class Shopper(BaseUser):\n    pass\n",
        "from common import ApiUser\n\nclass Shopper(ApiUser):\n    pass\n",
    ],
)
def test_user_classes_as_locustfiles_write_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], locust: str
) -> None:
    code, out, _ = validate(project(tmp_path, locust=locust), capsys)
    assert code == 0 and ": valid (1 target globs" in out


def test_a_local_only_config_needs_no_dockerfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project(tmp_path, "sandbox: {local_command: python app.py}\n")
    (repo / "Dockerfile").unlink()
    assert validate(repo, capsys)[0] == 0


def test_validate_shows_the_sandbox_a_compose_file_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = project(tmp_path, "sandbox: {compose: docker-compose.yml}\n")
    (repo / "docker-compose.yml").write_text(
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    ports: ['5000:5000']\n"
        "    environment: {SECRET_KEY: dev, DATABASE_URL: 'postgresql://app:pw@db/app'}\n"
        "    depends_on: [db]\n"
        "  db: {image: 'postgres:16', environment: {POSTGRES_PASSWORD: pw}}\n"
    )
    code, out, _ = validate(repo, capsys)
    compose = repo / "docker-compose.yml"
    assert code == 0
    assert out.splitlines()[1:] == [
        f"{compose}: service web, port 5000, health /healthz, services: db",
        f"note: {compose}: services.web.environment.DATABASE_URL: the password in its URL is "
        "left out",
        f"note: {compose}: services.web.environment.SECRET_KEY: left out (its name looks like a "
        "secret); a random value is made up for each run instead (throwaway_env)",
        f"note: {compose}: services.web: no healthcheck asks HTTP; the health path is "
        "sandbox.health's",
        f"note: {compose}: services.db.environment.POSTGRES_PASSWORD: left out (its name looks "
        "like a secret)",
        f"note: {compose}: services.db: its password is left out, so it runs without one "
        "(POSTGRES_HOST_AUTH_METHOD=trust)",
    ]
    (repo / "docker-compose.yml").write_text("services:\n  web:\n    build: ./app\n")
    code, _, err = validate(repo, capsys)
    assert (code, err) == (
        3,
        f"mutbot: error: {compose}: services.web.build.dockerfile: 'app/Dockerfile' does not "
        f"exist\n{compose}: services.web.build.context: 'app' does not exist\n",
    )
    (repo / "docker-compose.yml").write_text("services:\n  web:\n    build: .\n    ports: 80\n")
    code, _, err = validate(repo, capsys)
    assert (code, err) == (
        3,
        f"mutbot: error: {compose}: services.web.ports: 80 is not of type 'array'\n",
    )


@pytest.mark.parametrize("how", ["folder", "uncommitted"])
def test_a_run_without_its_locustfile_stops_before_building(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    """The old code crashed with exit 70 and a traceback once the load generator started."""
    repo = make_repo(tmp_path / "repo")
    git(repo, "rm", "-rq", "loadtest")
    git(repo, "commit", "-qm", "no load file")
    if how == "uncommitted":  # in the folder, but not in the commit a run measures
        shutil.copytree(EXAMPLE / "loadtest", repo / "loadtest")
    mutations = write_candidates(tmp_path / "c.json", [example_candidates()[0]["title"]])
    code = main(["run", "--repo", str(repo), "--backend", "local", "--mutations", str(mutations)])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err
    if how == "folder":
        assert err == (
            f"mutbot: error: {repo / '.mutbot.yml'}: load.locustfile: 'loadtest/locustfile.py' "
            "does not exist\n"
        )
    else:
        assert "load.locustfile: 'loadtest/locustfile.py' is not in the last commit" in err
    assert not list((repo / ".mutbot" / "runs").glob("*/logs"))  # nothing was built
