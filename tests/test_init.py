from __future__ import annotations

import ast
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from mutbot.calibrate import fixed_plan
from mutbot.cli import main
from mutbot.config import Config, Load, load_config
from mutbot.errors import ConfigError
from mutbot.init import init, starter_config, starter_workflow
from mutbot.load import drive
from mutbot.repofiles import list_files
from mutbot.validate import user_classes
from testing.expressions import evaluate, truthy
from testing.local_server import LocalServer
from testing.repos import git, make_repo
from testing.webhooks import payload


def load(tmp_path: Path, files: dict[str, str]) -> tuple[str, Config]:
    """The starter config for these files, written out and read back by the real loader."""
    text = starter_config(list(files), files.get)
    path = tmp_path / ".mutbot.yml"
    path.write_text(text)
    return text, load_config(path)


def test_bundled_example(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "pricing"
    files = {name: (example / name).read_text() for name in list_files(example)}
    text, config = load(tmp_path, files)
    assert config.targets == ["Dockerfile", "config/**"]
    assert config.protected == [".github/**"]
    assert config.sandbox.dockerfile == "Dockerfile"
    assert (config.sandbox.port, config.sandbox.health) == (8080, "/healthz")
    assert "  port: 8080                # make_server(port=8080) (from PORT) in app.py:219" in text
    assert "url.path == '/healthz' in do_GET in app.py:135" in text
    assert config.load.locustfile == "loadtest/locustfile.py"
    assert config.tests.command == "python -m unittest discover -s tests"
    # no users, rate nor seconds: each run calibrates its load, windows sized by requests
    given = config.load
    assert (given.users, given.arrival_rate, given.duration, given.warmup) == (None,) * 4
    assert "  # Neither users nor arrival_rate: each run measures the baseline's capacity" in text


def test_empty_repository_still_loads(tmp_path: Path) -> None:
    text, config = load(tmp_path, {})
    assert config.targets == ["Dockerfile"]
    assert (config.sandbox.port, config.sandbox.health) == (8080, "/")
    assert config.tests.command is None
    assert config.load.locustfile == "loadtest/locustfile.py"
    assert "# CHECK: no Dockerfile found" in text
    assert "# no test suite found" in text
    assert "# CHECK: written by mutbot init" in text


def test_targets_are_what_the_sandbox_consumes(tmp_path: Path) -> None:
    """The Dockerfile, the scripts and settings its command reads, the settings and
    requirements the image copies in; never Kubernetes manifests, CI, docs, tests or tool
    settings. Secrets inside a target glob are protected."""
    files = {
        "Dockerfile": (
            "FROM python:3.11-slim\nWORKDIR /srv\nCOPY requirements.txt .\n"
            'RUN pip install -r requirements.txt\nCOPY . .\nCMD ["./start.sh"]\n'
        ),
        "start.sh": "#!/bin/sh\nexec gunicorn -c gunicorn.conf.py app:app\n",
        "gunicorn.conf.py": "bind = ':8000'\n",
        "requirements.txt": "gunicorn\n",
        "Dockerfile.dev": "FROM python:3.11\nCMD flask run\n",
        "uwsgi.ini": "[uwsgi]\n",
        "fly.toml": "",
        "prod.env": "A=1\n",
        "pyproject.toml": "[tool.pytest.ini_options]\n",
        "setup.cfg": "",
        "tox.ini": "",
        ".env": "SECRET=1\n",
        "db-secrets.env": "",
        "tests/fixtures/server.ini": "",
        "docs/example.toml": "",
        ".github/dependabot.toml": "",
        "k8s/deployment.yaml": "kind: Deployment\n",
        "docker-compose.yml": "services: {}\n",
        "conf/nginx.conf": "",
        "conf/tls/server.key": "",
        "conf/.env.production": "",
        "app.py": "",
    }
    text, config = load(tmp_path, files)
    assert config.sandbox.dockerfile == "Dockerfile"  # not the dev one
    assert config.targets == [
        "Dockerfile",
        "start.sh",
        "gunicorn.conf.py",
        "requirements.txt",
        "conf/**",
        "fly.toml",
        "prod.env",
        "uwsgi.ini",
    ]
    # Secrets a target glob reaches are protected: never read, so never sent to a proposer.
    assert config.protected == [".github/**", "conf/.env.production", "conf/tls/server.key"]
    assert config.sandbox.port == 8000
    assert "  port: 8000                # gunicorn bind = ':8000' in gunicorn.conf.py:1" in text
    ignored = {**files, ".dockerignore": "conf\n*.toml\n"}
    _, config = load(tmp_path, ignored)
    assert "conf/**" not in config.targets and "fly.toml" not in config.targets


@pytest.mark.parametrize(
    "files",
    [
        ["svc #1/app.ini", "on.toml", "*weird*.env", "Dockerfile"],
        ["true.ini", "null.cfg", "a: b.ini", "Dockerfile"],
    ],
)
def test_awkward_names_read_back_exactly(tmp_path: Path, files: list[str]) -> None:
    texts = dict.fromkeys(files, "")
    texts["Dockerfile"] = "FROM x\nCOPY . .\nCMD serve\n"
    _, config = load(tmp_path, texts)
    assert sorted(config.targets) == sorted(files)


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
    assert on["issues"] == {"types": ["edited"]}  # the dashboard's ticked boxes
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


def dashboard_edit(body: str, sender_type: str = "User") -> Any:
    event = payload("issue_comment_created")
    del event["comment"]
    event.update(action="edited", changes={"body": {"from": ""}})
    event["issue"]["body"] = body
    event["sender"]["type"] = sender_type
    return event


def test_workflow_takes_a_persons_edits_of_the_dashboard_only() -> None:
    dashboard = "<!-- mutbot-dashboard -->\n- [x] <!-- mutbot-tick: rebench 4 -->"
    assert runs("issues", dashboard_edit(dashboard))
    assert not runs("issues", dashboard_edit(dashboard, "Bot"))  # mutbot's own update
    assert not runs("issues", dashboard_edit("an ordinary issue"))


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
    assert written.paths == [project / ".mutbot.yml", project / ".github/workflows/mutbot.yml"]
    assert written.locustfile is None  # the example has one
    assert written.checks == 2  # the limits
    config = load_config(project / ".mutbot.yml")
    assert config.targets == ["Dockerfile", "config/**", "extra.ini"]
    data = workflow(written.paths[1].read_text())
    assert data["on"]["push"]["branches"] == ["trunk"]
    assert "config" not in data["jobs"]["mutbot"]["steps"][-1]["with"]


def test_init_in_a_subfolder_puts_the_workflow_at_the_top(tmp_path: Path) -> None:
    project = example_repo(tmp_path, subdir="svc")
    written = init(project)
    top = tmp_path / "repo"
    assert written.paths == [project / ".mutbot.yml", top / ".github/workflows/mutbot.yml"]
    step = workflow(written.paths[1].read_text())["jobs"]["mutbot"]["steps"][-1]
    assert step["with"]["config"] == "svc/.mutbot.yml"


def test_init_outside_git_skips_dependencies(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\nCOPY . .\nEXPOSE 9000\n")
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
    others = {".mutbot.yml", ".github/workflows/mutbot.yml", "loadtest"} - {existing}
    assert not any((tmp_path / other).exists() for other in others)  # nothing half-written


def test_init_force_overwrites_the_config_never_a_locustfile(tmp_path: Path) -> None:
    (tmp_path / ".mutbot.yml").write_text("mine\n")
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/mutbot.yml").write_text("mine\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY . .\nCMD gunicorn -b :80 app:app\n"
    )
    (tmp_path / "app.py").write_text("@app.get('/items')\ndef items(): ...\n")
    written = init(tmp_path, force=True)
    assert written.locustfile == tmp_path / "loadtest/locustfile.py"
    assert all(path.read_text() != "mine\n" for path in written.paths)
    assert load_config(tmp_path / ".mutbot.yml").load.locustfile == "loadtest/locustfile.py"
    assert user_classes(ast.parse(written.locustfile.read_text())) == ["Visitor"]
    assert 'self.client.get("/items")' in written.locustfile.read_text()
    written.locustfile.write_text("# mine now\n")
    again = init(tmp_path, force=True)
    assert (
        again.locustfile is None
        and (tmp_path / "loadtest/locustfile.py").read_text() == "# mine now\n"
    )
    assert load_config(tmp_path / ".mutbot.yml").load.locustfile == "loadtest/locustfile.py"


def test_a_locustfile_goes_where_nothing_is(tmp_path: Path) -> None:
    (tmp_path / "loadtest").write_text("a file, not a folder\n")
    written = init(tmp_path)
    assert written.locustfile == tmp_path / "locustfile.py"
    assert (tmp_path / "loadtest").read_text() == "a file, not a folder\n"
    assert load_config(tmp_path / ".mutbot.yml").load.locustfile == "locustfile.py"


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCMD gunicorn -b :80 app:app\n")
    (tmp_path / "Dockerfile.dev").write_text("FROM python:3.11-slim\nCMD flask run\n")
    assert main(["init", "--repo", str(tmp_path), "--service", "nope"]) == 3
    assert (
        "mutbot: error: --service 'nope': no such service; the services: Dockerfile, "
        in capsys.readouterr().err
    )
    assert not (tmp_path / ".mutbot.yml").exists()
    assert main(["init", "--repo", str(tmp_path), "--service", "Dockerfile.dev"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / '.mutbot.yml'} (5 lines marked CHECK)" in out
    assert f"wrote {tmp_path / 'loadtest/locustfile.py'} (a starting point" in out
    assert f"then run `mutbot doctor --repo {tmp_path}`" in out
    assert load_config(tmp_path / ".mutbot.yml").sandbox.dockerfile == "Dockerfile.dev"
    assert main(["validate", "--repo", str(tmp_path)]) == 0


class Paths(BaseHTTPRequestHandler):
    seen: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        Paths.seen.add(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_written_locustfile_runs(tmp_path: Path) -> None:
    """Locust itself (the runner a measurement uses) loads the locustfile init writes and
    sends every request it names."""
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY . .\nCMD gunicorn -b :80 app:app\n"
    )
    (tmp_path / "app.py").write_text(
        "@app.get('/')\ndef a(): ...\n@app.get('/items')\ndef b(): ...\n"
        "@app.get('/items/<int:n>')\ndef c(n): ...\n@app.get('/healthz')\ndef d(): ...\n"
    )
    written = init(tmp_path)
    assert written.locustfile is not None
    server = LocalServer(Paths)
    server.start()
    try:
        load = fixed_plan(Load(locustfile="x", users=2, duration=1.0, warmup=0.2), "")
        assert load is not None
        run = drive(
            server.url, written.locustfile, load, tmp_path / "out.json", tmp_path / "log", None
        )
    finally:
        server.stop()
    assert run.errors == {} and len(run.raw.requests) > 10
    assert Paths.seen == {"/", "/items", "/healthz"}
