from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mutbot.config import Config, load_config
from mutbot.errors import ConfigError
from mutbot.init import exposed_port, init, list_files, starter_config, starter_workflow
from testing.expressions import evaluate, truthy
from testing.repos import git, make_repo
from testing.webhooks import payload


def load(tmp_path: Path, files: list[str], texts: dict[str, str] | None = None) -> Config:
    """The starter config for this file list, written out and read back by the real loader."""
    path = tmp_path / ".mutbot.yml"
    path.write_text(starter_config(files, (texts or {}).get))
    return load_config(path)


def test_bundled_example(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "pricing"
    files = list_files(example)
    config = load(tmp_path, files, {"Dockerfile": (example / "Dockerfile").read_text()})
    assert config.targets == ["Dockerfile", "config/**"]
    assert config.protected == [".github/**"]
    assert config.sandbox.dockerfile == "Dockerfile"
    assert config.sandbox.port == 8080
    assert config.sandbox.health == "/healthz"
    assert config.load.locustfile == "loadtest/locustfile.py"
    assert config.tests.command == "python -m pytest -q"  # tests/ holds Python files


def test_empty_repository_still_loads(tmp_path: Path) -> None:
    text = starter_config([])
    config = load(tmp_path, [])
    assert config.targets == ["Dockerfile"]
    assert config.sandbox.port == 8080
    assert config.tests.command is None
    assert config.load.locustfile == "loadtest/locustfile.py"
    assert "no Dockerfile found" in text
    assert "no test suite found" in text
    assert "CHECK: write this file" in text
    assert "#   class Visitor(HttpUser):" in text  # an example, commented, never a file


def test_node_service_with_kubernetes_and_compose(tmp_path: Path) -> None:
    files = [
        "Dockerfile",
        "package.json",
        "src/index.js",
        "k8s/base/deployment.yaml",
        "k8s/overlays/prod/kustomization.yaml",
        "docker-compose.yml",
        "compose.override.yaml",
        "node_modules/left-pad/settings.ini",
        "load/locustfile.py",
    ]
    config = load(tmp_path, files, {"Dockerfile": "FROM node:20\nEXPOSE 3000/tcp\n"})
    assert config.targets == [
        "Dockerfile",
        "k8s/**/*.yaml",
        "docker-compose.yml",
        "compose.override.yaml",
    ]
    assert config.sandbox.port == 3000
    assert config.tests.command == "npm test"
    assert config.load.locustfile == "load/locustfile.py"


def test_settings_files_and_what_is_left_out(tmp_path: Path) -> None:
    files = [
        "deploy/Dockerfile",
        "Dockerfile.dev",
        "gunicorn.conf.py",
        "uwsgi.ini",
        "fly.toml",
        "app.cfg",
        "prod.env",
        "pyproject.toml",
        "setup.cfg",
        "pytest.ini",
        "tox.ini",
        ".env",
        "db-secrets.env",
        "tests/fixtures/server.ini",
        "docs/example.toml",
        ".github/dependabot.toml",
        "conf/nginx.conf",
        "conf/tls/server.key",
        "conf/.env.production",
    ]
    text = starter_config(files, {"pyproject.toml": "[tool.pytest.ini_options]\n"}.get)
    config = load(tmp_path, files, {"pyproject.toml": "[tool.pytest.ini_options]\n"})
    assert config.targets == [
        "deploy/Dockerfile",
        "Dockerfile.dev",
        "conf/**",
        "gunicorn.conf.py",
        "uwsgi.ini",
        "fly.toml",
        "app.cfg",
        "prod.env",
    ]
    # Secrets a target glob reaches are protected: never read, so never sent to a proposer.
    assert config.protected == [".github/**", "conf/.env.production", "conf/tls/server.key"]
    assert config.sandbox.dockerfile == "deploy/Dockerfile"  # a plain Dockerfile first
    assert config.sandbox.port == 8080
    assert "no EXPOSE could be read" in text
    assert config.tests.command == "python -m pytest -q"


@pytest.mark.parametrize(
    "files",
    [
        ["svc #1/app.ini", "on.toml", "*weird*.env", "Dockerfile"],
        ["true.ini", "null.cfg", "a: b.ini", "Dockerfile"],
    ],
)
def test_awkward_names_read_back_exactly(tmp_path: Path, files: list[str]) -> None:
    config = load(tmp_path, files)
    assert sorted(config.targets) == sorted(files)


@pytest.mark.parametrize(
    ("dockerfile", "port"),
    [
        ("FROM python:3.11\nEXPOSE 8000\n", 8000),
        ("FROM x\nexpose 5000/tcp\n", 5000),
        ("FROM x\nEXPOSE 80 443\n", 80),
        ("FROM x AS build\nEXPOSE 1234\nFROM y\nEXPOSE 4321\n", 4321),
        ("FROM x\nARG PORT=9000\nEXPOSE $PORT\n", 9000),
        ("FROM x\nENV PORT 7000\nEXPOSE ${PORT}\n", 7000),
        ("FROM x\nEXPOSE ${PORT:-6000}\n", 6000),
        ("FROM x\nEXPOSE \\\n  8081\n", 8081),
        ("FROM x\nEXPOSE $UNKNOWN\n", None),
        ("FROM x\nEXPOSE 99999\n", None),
        ('FROM x\nCMD ["serve"]\n', None),
        ("", None),
    ],
)
def test_exposed_port(dockerfile: str, port: int | None) -> None:
    assert exposed_port(dockerfile) == port


def workflow(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    data["on"] = data.pop(True)  # YAML 1.1 reads the bare key `on` as the boolean true
    return data


def test_workflow() -> None:
    data = workflow(starter_workflow())
    on = data["on"]
    assert on["push"] == {"branches": ["main"]}
    minute, _, day, month, weekday = on["schedule"][0]["cron"].split()
    assert minute not in ("0", "00", "*")  # off the hour
    assert (day, month) == ("*", "*") and weekday.isdigit()  # weekly
    assert on["issue_comment"] == {"types": ["created"]}
    assert set(on["workflow_dispatch"]["inputs"]) == {"count", "targets", "proposer", "kind"}
    assert data["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
    }
    (job,) = data["jobs"].values()
    assert "github.event_name != 'issue_comment'" in job["if"]
    assert "startsWith(github.event.comment.body, '/mutate')" in job["if"]
    checkout, mutbot = job["steps"]
    assert checkout == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}
    assert mutbot["uses"] == "mutbot/mutbot@v1"
    assert mutbot["with"] == {
        "github-token": "${{ secrets.GITHUB_TOKEN }}",
        "anthropic-api-key": "${{ secrets.ANTHROPIC_API_KEY }}",
    }


def test_workflow_queues_runs_on_the_job_not_the_workflow() -> None:
    """A workflow-level group is claimed before the job's `if` is evaluated: any comment, even
    an outsider's `/mutate`, would cancel a queued push or schedule run. A skipped job never
    joins a job-level group."""
    data = workflow(starter_workflow())
    assert "concurrency" not in data
    assert data["jobs"]["mutbot"]["concurrency"] == {
        "group": "mutbot-${{ github.repository }}",
        "cancel-in-progress": False,
    }


def runs(event_name: str, event: dict[str, Any]) -> bool:
    """Whether the written workflow's job `if` lets this event through (GitHub's semantics,
    for the subset of the expression language the `if` uses: testing/expressions.py)."""
    condition = workflow(starter_workflow())["jobs"]["mutbot"]["if"]
    pull = event.get("pull_request") or {}
    github = {
        "event_name": event_name,
        "event": event,
        "repository": event["repository"]["full_name"],
        "head_ref": (pull.get("head") or {}).get("ref", "") if event_name == "pull_request" else "",
    }
    return truthy(evaluate(condition, {"github": github}))


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("'MUTBOT/x' == 'mutbot/X'", True),  # strings compare ignoring case
        ("github.nothing.here == 'x'", False),  # a missing property is null
        ("github.nothing == ''", True),  # null and "" are both 0 as numbers
        ("'a' && 'b'", "b"),
        ("'' || 0", 0.0),
        ("!(1 == 2) && contains(fromJSON('[\"A\", \"B\"]'), 'b')", True),
    ],
)
def test_the_expression_evaluator_follows_github(expression: str, value: object) -> None:
    assert evaluate(expression, {"github": {}}) == value


def comment_event(body: str, association: str = "OWNER", user_type: str = "User") -> Any:
    event = payload("issue_comment_created")
    event["comment"].update(body=body, author_association=association)
    event["comment"]["user"]["type"] = user_type
    return event


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR", "member"])
def test_workflow_runs_commands_of_people_with_a_role(association: str) -> None:
    assert runs("issue_comment", comment_event("/mutate n=2", association))


@pytest.mark.parametrize(
    ("body", "association", "user_type"),
    [
        ("/mutate", "NONE", "User"),  # an outsider: not even a runner starts
        ("/mutate", "CONTRIBUTOR", "User"),
        ("/mutate", "FIRST_TIME_CONTRIBUTOR", "User"),
        ("/mutate", "OWNER", "Bot"),
        ("You are totally right!", "OWNER", "User"),  # not a command
        ("please /mutate", "OWNER", "User"),
    ],
)
def test_workflow_drops_other_comments(body: str, association: str, user_type: str) -> None:
    assert not runs("issue_comment", comment_event(body, association, user_type))


def closed_pull(branch: str, head_repository: str | None) -> Any:
    event = payload("pull_request_closed")
    head = event["pull_request"]["head"]
    head["ref"] = branch
    if head_repository is None:
        head["repo"] = None  # the fork was deleted
    else:
        head["repo"]["full_name"] = head_repository
    return event


def test_workflow_takes_closed_pull_requests_of_mutbot_branches_of_this_repository() -> None:
    event = closed_pull("mutbot/threads-1a2b3c4", "Codertocat/Hello-World")
    assert event["repository"]["full_name"] == "Codertocat/Hello-World"
    assert runs("pull_request", event)
    assert not runs("pull_request", closed_pull("mutbot/threads-1a2b3c4", "evil/Hello-World"))
    assert not runs("pull_request", closed_pull("mutbot/threads-1a2b3c4", None))
    assert not runs("pull_request", closed_pull("changes", "Codertocat/Hello-World"))


@pytest.mark.parametrize(
    ("name", "fixture"),
    [("push", "push_with-new-branch"), ("workflow_dispatch", "workflow_dispatch_payload")],
)
def test_workflow_lets_pushes_and_manual_runs_through(name: str, fixture: str) -> None:
    assert runs(name, payload(fixture))
    schedule = {"schedule": "17 6 * * 1", "repository": payload(fixture)["repository"]}
    assert runs("schedule", schedule)


@pytest.mark.parametrize("branch", ["trunk", "release/2.x", "weird,[branch]", "yes"])
def test_workflow_default_branch_and_config(branch: str) -> None:
    data = workflow(starter_workflow(branch, config="svc/.mutbot.yml"))
    assert data["on"]["push"]["branches"] == [branch]
    (job,) = data["jobs"].values()
    assert job["steps"][-1]["with"]["config"] == "svc/.mutbot.yml"


def example_repo(tmp_path: Path, subdir: str = "") -> Path:
    project = make_repo(tmp_path / "repo", subdir=subdir)
    (project / ".mutbot.yml").unlink()
    git(project, "rm", "-r", "--quiet", "--cached", ".github")
    for path in sorted((project / ".github").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (project / ".github").rmdir()
    return project


def test_init_writes_both_files(tmp_path: Path) -> None:
    project = example_repo(tmp_path)
    (project / ".gitignore").write_text("local.ini\n")
    (project / "local.ini").write_text("[x]\n")  # ignored by git: not a target
    (project / "extra.ini").write_text("[x]\n")  # untracked but not ignored: a target
    written = init(project, default_branch="trunk")
    assert written == [project / ".mutbot.yml", project / ".github/workflows/mutbot.yml"]
    config = load_config(project / ".mutbot.yml")
    assert config.targets == ["Dockerfile", "config/**", "extra.ini"]
    data = workflow(written[1].read_text())
    assert data["on"]["push"]["branches"] == ["trunk"]
    assert "config" not in data["jobs"]["mutbot"]["steps"][-1]["with"]


def test_init_in_a_subfolder_puts_the_workflow_at_the_top(tmp_path: Path) -> None:
    project = example_repo(tmp_path, subdir="svc")
    written = init(project)
    top = tmp_path / "repo"
    assert written == [project / ".mutbot.yml", top / ".github/workflows/mutbot.yml"]
    step = workflow(written[1].read_text())["jobs"]["mutbot"]["steps"][-1]
    assert step["with"]["config"] == "svc/.mutbot.yml"


def test_init_outside_git_skips_dependencies(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\nEXPOSE 9000\n")
    (tmp_path / "node_modules/pkg").mkdir(parents=True)
    (tmp_path / "node_modules/pkg/settings.ini").write_text("[x]\n")
    (tmp_path / "server.toml").write_text("")
    init(tmp_path)
    config = load_config(tmp_path / ".mutbot.yml")
    assert config.targets == ["Dockerfile", "server.toml"]
    assert config.sandbox.port == 9000
    assert (tmp_path / ".github/workflows/mutbot.yml").is_file()


@pytest.mark.parametrize(
    "existing", [".mutbot.yml", ".github/mutbot.yml", ".github/workflows/mutbot.yml"]
)
def test_init_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("mine\n")
    with pytest.raises(ConfigError) as caught:
        init(tmp_path)
    assert str(caught.value) == f"{tmp_path / existing} already exists; use --force to overwrite it"
    assert (tmp_path / existing).read_text() == "mine\n"
    others = {".mutbot.yml", ".github/workflows/mutbot.yml"} - {existing}
    assert not any((tmp_path / other).exists() for other in others)  # nothing half-written


def test_init_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / ".mutbot.yml").write_text("mine\n")
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/mutbot.yml").write_text("mine\n")
    written = init(tmp_path, force=True)
    assert all(path.read_text() != "mine\n" for path in written)
    load_config(tmp_path / ".mutbot.yml")
