"""Tests for src/mutbot/risk.py: risk and complexity computed from the diff alone."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from mutbot.risk import Assessment, Finding, assess_complexity, assess_risk

DOCS = Path(__file__).resolve().parents[1] / "docs" / "risk.md"


def _hunk_lines(start: int, offset: int, body: str, section: str = "") -> tuple[list[str], int]:
    lines = body.splitlines()
    old = sum(line[:1] in (" ", "-") for line in lines)
    new = sum(line[:1] in (" ", "+") for line in lines)
    header = f"@@ -{start},{old} +{start + offset},{new} @@" + (f" {section}" if section else "")
    return [header, *lines], offset + new - old


def multi(path: str, hunks: list[tuple[int, str]]) -> str:
    """A git diff of PATH with one hunk per (old start line, body with +/-/space markers)."""
    out, offset = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"], 0
    for start, body in hunks:
        lines, offset = _hunk_lines(start, offset, body)
        out += lines
    return "\n".join(out) + "\n"


def change(path: str, body: str, start: int = 1, section: str = "") -> str:
    lines, _ = _hunk_lines(start, 0, body, section)
    return (
        "\n".join([f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}", *lines])
        + "\n"
    )


def new_file(path: str, lines: list[str]) -> str:
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def deleted_file(path: str, lines: list[str]) -> str:
    body = "".join(f"-{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\ndeleted file mode 100644\nindex 1111111..0000000\n"
        f"--- a/{path}\n+++ /dev/null\n@@ -1,{len(lines)} +0,0 @@\n{body}"
    )


def summary(assessment: Assessment) -> list[tuple[str, float, str]]:
    return [(f.rule, f.points, f.where) for f in assessment.findings]


THREADS = change("config/app.ini", " [server]\n-threads = 1\n+threads = 8\n", start=3)
FROM = change("Dockerfile", "-FROM python:3.11-slim\n+FROM python:3.12-slim\n WORKDIR /app\n")
FROM_AND_CMD = multi(
    "Dockerfile",
    [
        (1, "-FROM python:3.11-slim\n+FROM pypy:3.10-slim\n WORKDIR /app\n"),
        (9, ' EXPOSE 8080\n-CMD ["python", "app.py"]\n+CMD ["gunicorn", "app:app"]\n'),
    ],
)


# --- the documented examples -------------------------------------------------------------------


def test_threads_in_an_ini_file_is_a_small_server_model_change() -> None:
    risk = assess_risk(THREADS)
    assert risk.score == 2.0
    assert summary(risk) == [("server-model", 2.0, "config/app.ini:4")]
    assert risk.findings[0].why
    complexity = assess_complexity(THREADS)
    assert complexity.score == 1.0
    assert summary(complexity) == [("lines", 1.0, "config/app.ini")]


def test_changing_the_base_image_is_at_least_4() -> None:
    assert assess_risk(FROM) == Assessment(
        4.0, (Finding("base-image", 4.0, "Dockerfile:1", "The base image or runtime changes."),)
    )


def test_base_image_and_start_command_together_need_review() -> None:
    risk = assess_risk(FROM_AND_CMD)
    assert risk.score == 7.0
    assert summary(risk) == [
        ("base-image", 4.0, "Dockerfile:1"),
        ("entrypoint", 3.0, "Dockerfile:10"),
    ]


# --- each rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("diff", "where"),
    [
        (
            change("Dockerfile", '-ENTRYPOINT ["./start.sh"]\n+ENTRYPOINT ["./start.sh", "-q"]\n'),
            "Dockerfile:1",
        ),
        (
            change("Dockerfile", "-cmd python app.py\n+cmd python -O app.py\n", start=7),
            "Dockerfile:7",
        ),
        (
            change(
                "Dockerfile",
                ' CMD ["gunicorn", \\\n-     "--timeout", "30"]\n+     "--timeout", "60"]\n',
            ),
            "Dockerfile:2",
        ),
        (
            change(
                "docker-compose.yml",
                " services:\n   web:\n"
                "-    command: gunicorn app:app\n+    command: uvicorn app:app\n",
            ),
            "docker-compose.yml:3",
        ),
        (
            change(
                "k8s/deploy.yaml",
                "         args:\n-        - --timeout=30\n+        - --timeout=60\n",
                start=20,
            ),
            "k8s/deploy.yaml:21",
        ),
        (
            change("supervisord.ini", "-command = python app.py\n+command = python -O app.py\n"),
            "supervisord.ini:1",
        ),
    ],
)
def test_entrypoint(diff: str, where: str) -> None:
    assert summary(assess_risk(diff)) == [("entrypoint", 3.0, where)]


def test_a_worker_flag_in_the_start_command_counts_as_entrypoint_only() -> None:
    cmd = change(
        "Dockerfile", "-CMD gunicorn --workers 2 app:app\n+CMD gunicorn --workers 4 app:app\n"
    )
    assert summary(assess_risk(cmd)) == [("entrypoint", 3.0, "Dockerfile:1")]
    k8s = change(
        "deploy.yaml", "         args:\n-        - --workers=2\n+        - --workers=4\n", start=20
    )
    assert summary(assess_risk(k8s)) == [("entrypoint", 3.0, "deploy.yaml:21")]


@pytest.mark.parametrize(
    ("diff", "where"),
    [
        (THREADS, "config/app.ini:4"),
        (change("gunicorn.yaml", " server:\n-  workers: 2\n+  workers: 4\n"), "gunicorn.yaml:2"),
        (change(".env", "-WEB_CONCURRENCY=2\n+WEB_CONCURRENCY=4\n", start=5), ".env:5"),
        (
            change(
                "settings.json", ' {\n-  "worker_class": "sync",\n+  "worker_class": "gevent",\n'
            ),
            "settings.json:2",
        ),
        (change("puma.yml", "-maxThreads: 5\n+maxThreads: 16\n"), "puma.yml:1"),
        (change("nginx.conf", "-worker_processes 1;\n+worker_processes auto;\n"), "nginx.conf:1"),
        (
            change("uvicorn.toml", '-event_loop = "asyncio"\n+event_loop = "uvloop"\n'),
            "uvicorn.toml:1",
        ),
        (
            change(
                "app.env", '-GUNICORN_CMD_ARGS="--threads 2"\n+GUNICORN_CMD_ARGS="--threads 4"\n'
            ),
            "app.env:1",
        ),
        (
            change("Dockerfile", "-ENV WEB_CONCURRENCY=2\n+ENV WEB_CONCURRENCY=4\n", start=3),
            "Dockerfile:3",
        ),
        (
            change(
                "deploy.yaml",
                "         env:\n         - name: WEB_CONCURRENCY\n"
                '-          value: "2"\n+          value: "4"\n',
                start=30,
            ),
            "deploy.yaml:32",
        ),
    ],
)
def test_server_model(diff: str, where: str) -> None:
    risk = assess_risk(diff)
    assert risk.score == 2.0
    assert summary(risk) == [("server-model", 2.0, where)]


@pytest.mark.parametrize(
    "diff",
    [
        change(
            "deploy.yaml",
            "         resources:\n           limits:\n"
            "-            memory: 256Mi\n+            memory: 512Mi\n",
        ),
        change(
            "docker-compose.yml",
            "     image_pull_policy: never\n-    mem_limit: 256m\n+    mem_limit: 512m\n",
        ),
        change(
            "compose.yaml",
            "       resources:\n         limits:\n-          cpus: '0.5'\n+          cpus: '1'\n",
        ),
        change("Dockerfile", '-ENV JAVA_OPTS="-Xmx256m"\n+ENV JAVA_OPTS="-Xmx512m"\n'),
        change(".env", "-GOMAXPROCS=1\n+GOMAXPROCS=2\n"),
        change(
            "node.env",
            "-NODE_OPTIONS=--max-old-space-size=256\n+NODE_OPTIONS=--max-old-space-size=512\n",
        ),
    ],
)
def test_resource_limits(diff: str) -> None:
    assert [f.rule for f in assess_risk(diff).findings] == ["resource-limits"]
    assert assess_risk(diff).score == 2.0


@pytest.mark.parametrize(
    "diff",
    [
        change("Dockerfile", " WORKDIR /app\n+USER app\n"),
        change("docker-compose.yml", "   web:\n-    privileged: false\n+    privileged: true\n"),
        change(".env", "-SECRET_KEY=abc\n+SECRET_KEY=def\n"),
        change("gunicorn.ini", "+ssl_certfile = /certs/server.pem\n"),
        change(
            "deploy.yaml",
            "         securityContext:\n-          runAsUser: 1000\n+          runAsUser: 0\n",
        ),
        change("app.ini", "-debug = false\n+debug = true\n"),
        change("client.toml", "+verify = false\n"),
        change("app.yaml", "+cors_origins: '*'\n"),
        change("Dockerfile", "+RUN chmod 777 /app\n"),
        change("Dockerfile", "-COPY . /app\n+COPY --chown=app:app . /app\n"),
        change("Dockerfile", "+RUN curl -fsSL https://example.com/setup | sh\n"),
    ],
)
def test_security(diff: str) -> None:
    risk = assess_risk(diff)
    assert [f.rule for f in risk.findings] == ["security"]
    assert risk.score == 3.0


def test_installing_from_an_untrusted_host_is_security_and_package_install() -> None:
    diff = change("Dockerfile", "+RUN pip install --trusted-host pypi.example.com flask\n", start=4)
    assert summary(assess_risk(diff)) == [
        ("security", 3.0, "Dockerfile:4"),
        ("package-install", 1.0, "Dockerfile:4"),
    ]


@pytest.mark.parametrize(
    "diff",
    [
        change(
            "Dockerfile", " FROM python:3.12-slim\n+RUN apt-get update && apt-get install -y curl\n"
        ),
        change("Dockerfile", "-RUN apk add --no-cache curl\n+RUN apk add --no-cache curl jq\n"),
        change("Dockerfile", "-RUN pip install gunicorn==21.2\n+RUN pip install gunicorn==22.0\n"),
        change("Dockerfile", "+RUN npm ci --omit=dev\n"),
        change(
            "Dockerfile",
            " RUN apt-get update && apt-get install -y \\\n     curl \\\n+    jq \\\n     git\n",
        ),
        # the hunk opens inside the RUN: git names the instruction in the hunk header
        change(
            "Dockerfile",
            "     curl \\\n+    jq \\\n     git\n",
            start=5,
            section="RUN apt-get update && apt-get install -y \\",
        ),
    ],
)
def test_package_install(diff: str) -> None:
    risk = assess_risk(diff)
    assert [f.rule for f in risk.findings] == ["package-install"]
    assert risk.score == 1.0


@pytest.mark.parametrize(
    ("diff", "where"),
    [
        (change("Dockerfile", "-from python:3.11\n+from python:3.12\n"), "Dockerfile:1"),
        (
            change("Dockerfile.prod", "-ARG PYTHON_VERSION=3.11\n+ARG PYTHON_VERSION=3.12\n"),
            "Dockerfile.prod:1",
        ),
        (
            change("build/api.Dockerfile", "+FROM busybox AS tools\n", start=9),
            "build/api.Dockerfile:9",
        ),
        (
            change(
                "docker-compose.yml", "   cache:\n-    image: redis:7.0\n+    image: redis:7.2\n"
            ),
            "docker-compose.yml:2",
        ),
    ],
)
def test_base_image(diff: str, where: str) -> None:
    assert summary(assess_risk(diff)) == [("base-image", 4.0, where)]


@pytest.mark.parametrize(
    "diff",
    [
        change("config/app.ini", "-threads_comment = one\n+threads_comment = many\n"),
        change("config/app.ini", "-# threads = 1\n+# threads = 8\n"),
        change("config/app.ini", "-; workers = 1\n+; workers = 4\n"),
        change("gunicorn.ini", "-max_requests = 1000\n+max_requests = 2000\n"),
        change("gunicorn.ini", "-timeout = 30\n+timeout = 60\n"),
        change("setup.ini", "-author = me\n+author = you\n"),
        change("app.ini", "-debug = true\n+debug = false\n"),
        change("Dockerfile", "-# FROM python:3.11\n+# FROM python:3.12\n FROM python:3.12\n"),
        change(
            "Dockerfile",
            ' FROM python:3.12\n-RUN echo "built from source"\n+RUN echo "from source"\n',
        ),
        change("Dockerfile", "-RUN pip list\n+RUN pip freeze\n"),
        change("Dockerfile", "-# RUN apt-get install -y curl\n+# RUN apk add curl\n"),
        change("Dockerfile", "-ARG APP_HOME=/app\n+ARG APP_HOME=/srv\n"),
        change("README.md", "-FROM python:3.11\n+FROM python:3.12\n"),
        change("Dockerfile", "-EXPOSE 8080\n+EXPOSE 8000\n"),
    ],
)
def test_look_alikes_do_not_fire(diff: str) -> None:
    assert assess_risk(diff) == Assessment(0.0, ())


def test_each_rule_counts_once_at_its_first_match() -> None:
    diff = multi(
        "Dockerfile",
        [
            (1, "-FROM python:3.11 AS build\n+FROM python:3.12 AS build\n"),
            (8, "-FROM python:3.11-slim\n+FROM python:3.12-slim\n"),
        ],
    )
    assert summary(assess_risk(diff)) == [("base-image", 4.0, "Dockerfile:1")]


def test_a_removal_is_located_by_its_old_line() -> None:
    diff = multi("app.ini", [(1, "+a = 1\n+b = 2\n x = 0\n"), (7, " y = 0\n-threads = 4\n")])
    assert summary(assess_risk(diff)) == [("server-model", 2.0, "app.ini:8")]


def test_risk_is_capped_at_10() -> None:
    diff = change(
        "Dockerfile",
        "-FROM python:3.11\n+FROM python:3.12\n+USER app\n+ENV WEB_CONCURRENCY=4 GOMAXPROCS=2\n"
        '-CMD ["python", "app.py"]\n+CMD ["gunicorn", "app:app"]\n',
    )
    risk = assess_risk(diff)
    assert risk.score == 10.0
    assert summary(risk) == [
        ("base-image", 4.0, "Dockerfile:1"),
        ("entrypoint", 3.0, "Dockerfile:2"),
        ("security", 3.0, "Dockerfile:2"),
        ("server-model", 2.0, "Dockerfile:3"),
        ("resource-limits", 2.0, "Dockerfile:3"),
    ]


# --- files and hunks ----------------------------------------------------------------------------


def test_deleted_and_renamed_files() -> None:
    assert summary(assess_risk(deleted_file("config/old.ini", ["color = blue"]))) == [
        ("deleted-file", 2.0, "config/old.ini")
    ]
    rename = (
        "diff --git a/config/a.ini b/config/b.ini\nsimilarity index 100%\n"
        "rename from config/a.ini\nrename to config/b.ini\n"
    )
    assert summary(assess_risk(rename)) == [("deleted-file", 2.0, "config/a.ini")]


def test_new_file() -> None:
    risk = assess_risk(new_file("config/extra.ini", ["color = blue"]))
    assert risk.score == 0.5
    assert summary(risk) == [("new-file", 0.5, "config/extra.ini")]


def _files(count: int) -> str:
    return "".join(change(f"conf/{i}.ini", "-color = red\n+color = blue\n") for i in range(count))


@pytest.mark.parametrize(("count", "points"), [(1, 0.0), (2, 1.0), (3, 2.0), (4, 3.0)])
def test_files_beyond_the_first(count: int, points: float) -> None:
    risk = assess_risk(_files(count))
    assert risk.score == points
    assert summary(risk) == ([("files", points, "conf/1.ini")] if points else [])


def test_files_are_capped_at_3_and_their_hunks_count_too() -> None:
    risk = assess_risk(_files(7))  # one hunk per file: 7 hunks
    assert summary(risk) == [("files", 3.0, "conf/1.ini"), ("hunks", 1.0, "conf/2.ini:1")]
    assert risk.score == 4.0


def _hunks(count: int) -> str:
    return multi(
        "app.ini", [(1 + 10 * i, f"-color{i} = red\n+color{i} = blue\n") for i in range(count)]
    )


@pytest.mark.parametrize(
    ("count", "points"), [(2, 0.0), (4, 0.0), (5, 1.0), (7, 1.0), (8, 2.0), (20, 2.0)]
)
def test_hunks_beyond_the_first_two(count: int, points: float) -> None:
    risk = assess_risk(_hunks(count))
    assert risk.score == points
    assert summary(risk) == ([("hunks", points, "app.ini:21")] if points else [])


# --- the proposer's rating ------------------------------------------------------------------------


def test_the_proposer_can_raise_the_risk() -> None:
    risk = assess_risk(THREADS, proposer_risk=6)
    assert risk.score == 6.0 and isinstance(risk.score, float)
    assert summary(risk) == [
        ("server-model", 2.0, "config/app.ini:4"),
        ("proposer", 4.0, "proposer"),
    ]
    assert risk.findings[-1].why == "The proposer rated it riskier."


@pytest.mark.parametrize("rating", [None, 0.0, 1.5, 2.0, float("nan")])
def test_the_proposer_cannot_lower_the_risk(rating: float | None) -> None:
    assert assess_risk(THREADS, proposer_risk=rating) == assess_risk(THREADS)


def test_the_proposer_rating_is_capped_too() -> None:
    assert assess_risk(THREADS, proposer_risk=15).score == 10.0
    assert assess_risk(FROM_AND_CMD + _files(4), proposer_risk=10).findings[-1].rule != "proposer"


# --- complexity ---------------------------------------------------------------------------------


def _added(count: int) -> str:
    return change("app.ini", " [app]\n" + "".join(f"+key{i} = {i}\n" for i in range(count)))


@pytest.mark.parametrize(("count", "score"), [(1, 1.0), (2, 1.6), (3, 2.0), (7, 3.0), (63, 6.0)])
def test_complexity_grows_with_the_log_of_changed_lines(count: int, score: float) -> None:
    complexity = assess_complexity(_added(count))
    assert complexity.score == score == round(math.log2(1 + count), 1)
    assert summary(complexity) == [("lines", score, "app.ini")]


def test_a_replaced_line_counts_once() -> None:
    assert assess_complexity(FROM).score == 1.0


def test_a_rewrite_adds_one() -> None:
    body = "".join(f"-old{i} = 1\n" for i in range(12)) + "".join(
        f"+new{i} = 1\n" for i in range(12)
    )
    complexity = assess_complexity(change("app.ini", body))
    assert summary(complexity) == [("lines", 3.7, "app.ini"), ("rewrite", 1.0, "app.ini")]
    assert complexity.score == 4.7


def test_complexity_of_several_files_and_hunks() -> None:
    complexity = assess_complexity(_files(3))
    assert summary(complexity) == [
        ("lines", 2.0, "conf/0.ini"),
        ("files", 2.0, "conf/1.ini"),
        ("hunks", 1.0, "conf/1.ini:1"),
    ]
    assert complexity.score == 5.0
    many = assess_complexity(_hunks(6))
    assert summary(many) == [("lines", 2.8, "app.ini"), ("hunks", 2.0, "app.ini:11")]


def test_complexity_is_capped_at_10() -> None:
    big = "".join(
        change(f"conf/{i}.ini", "".join(f"+k{j} = {j}\n" for j in range(300))) for i in range(4)
    )
    complexity = assess_complexity(big)
    assert complexity.score == 10.0
    assert sum(f.points for f in complexity.findings) > 10


# --- odd input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "diff",
    [
        "",
        "not a diff at all\n",
        "diff --git a/x.ini b/x.ini\n--- a/x.ini\n+++ b/x.ini\n@@ -1,3 +1,1 @@\n-a = 1\n+a = 2\n",
    ],
)
def test_an_unparsable_diff_is_the_maximum(diff: str) -> None:
    for assessment in (assess_risk(diff, proposer_risk=3), assess_complexity(diff)):
        assert assessment.score == 10.0
        assert [f.rule for f in assessment.findings] == ["unparsable"]


def test_odd_but_valid_input_does_not_crash() -> None:
    binary = (
        "diff --git a/logo.png b/logo.png\nindex 1..2 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n"
    )
    assert assess_risk(binary) == Assessment(0.0, ())
    assert assess_complexity(binary) == Assessment(0.0, ())
    crlf = THREADS.replace("\n", "\r\n")
    assert assess_risk(crlf) == assess_risk(THREADS)
    no_newline = THREADS + "\\ No newline at end of file\n"
    assert assess_risk(no_newline) == assess_risk(THREADS)


def test_the_docs_table_lists_every_rule() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", text, re.MULTILINE))
    rules = {"base-image", "entrypoint", "security", "server-model", "resource-limits"}
    rules |= {"package-install", "deleted-file", "new-file", "files", "hunks", "proposer"}
    assert rules | {"unparsable"} <= documented


def test_scores_are_floats_in_range_for_every_prefix_of_a_diff() -> None:
    diff = FROM_AND_CMD + THREADS
    for end in range(len(diff) + 1):
        for assessment in (assess_risk(diff[:end], proposer_risk=3), assess_complexity(diff[:end])):
            assert isinstance(assessment.score, float)
            assert 0.0 <= assessment.score <= 10.0
    assert isinstance(assess_risk(_files(1)).score, float)
