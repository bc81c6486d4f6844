"""Property: no candidate that touches a `never` setting passes the guard, whatever else it
changes. Files are generated in the shapes the issue met (Dockerfiles, compose files and
settings files with ports, hosts, probes, users and tuning values, in any order, with
comments); candidates change any mix of their values. Over the stand-in packs always, and
over the registered packs once there are any."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mutbot.packs import PACKS
from mutbot.packs.guard import NEVER, check
from mutbot.packs.view import Sandbox
from testing.linepacks import example_packs
from testing.packs import view_of

STAND_INS = example_packs()
SAFETY = {
    f"{pack.name}.{name}": setting.safety
    for pack in STAND_INS
    for name, setting in pack.settings.items()
}


@dataclass(frozen=True)
class Line:
    text: str  # with {} where the value goes
    key: str | None  # the stand-in setting written there; None: nothing a pack knows
    values: tuple[str, ...]


DOCKER = (
    Line("ENV PORT={}", "docker.port", ("8080", "8000", "80", "3000")),
    Line("EXPOSE {}", "docker.expose", ("8080", "8000", "80", "443")),
    Line("USER {}", "docker.user", ("app", "nobody", "1000")),
    Line(
        "HEALTHCHECK --retries={} CMD curl -f localhost/healthz",
        "docker.healthcheck",
        ("1", "3", "5"),
    ),
    Line("ENV WORKERS={}", "docker.workers", ("1", "2", "4", "9")),
    Line("ENV TIMEOUT={}", None, ("30", "60", "120")),
)
INI = (
    Line("threads = {}", "settings.threads", ("1", "4", "16")),
    Line("cache_size = {}", "settings.cache_size", ("0", "64", "1024")),
    Line("log_requests = {}", "settings.log_requests", ("true", "false")),
    Line("port = {}", "settings.port", ("8080", "16000", "80")),
    Line("host = {}", "settings.host", ("0.0.0.0", "127.0.0.1", "::")),
    Line("jwt_expiry = {}", None, ("60", "3600", "86400")),
    Line("retries = {}", None, ("1", "3", "5")),
)
COMPOSE = (
    Line('      - "{}:8080"', "compose.ports", ("8080", "16000", "80")),
    Line("      retries: {}", "compose.retries", ("1", "3", "5")),
    Line("      memory: {}", "compose.memory", ("256m", "512m", "1g")),
    Line("      replicas: {}", None, ("1", "2", "3")),
)
HEADS = {
    "Dockerfile": ["FROM python:3.12-slim", "WORKDIR /app", "COPY config/ /app/config/"],
    "config/server.ini": ["[server]"],
    "compose.yaml": ["services:", "  web:", "    x:"],
}
TAILS = {"Dockerfile": ['CMD ["python", "app.py"]'], "config/server.ini": [], "compose.yaml": []}
SHAPES = {"Dockerfile": DOCKER, "config/server.ini": INI, "compose.yaml": COMPOSE}


@dataclass(frozen=True)
class Written:
    path: str
    line: Line
    value: str


@st.composite
def repositories(draw: st.DrawFn) -> tuple[dict[str, str], list[Written]]:
    """Each file with its lines in any order, some commented, each setting written once."""
    files, written = {}, []
    for path, shapes in SHAPES.items():
        body = list(HEADS[path])
        for shape in draw(st.permutations(shapes)):
            if draw(st.booleans()):
                body.append("# " + shape.text.strip().split(" ")[0].split("=")[0])
            value = draw(st.sampled_from(shape.values))
            body.append(shape.text.format(value))
            written.append(Written(path, shape, value))
        files[path] = "\n".join([*body, *TAILS[path]]) + "\n"
    return files, written


@st.composite
def candidates(
    draw: st.DrawFn, touching: str
) -> tuple[dict[str, str], dict[str, str], set[str | None]]:
    """A repository and a candidate that changes some of its values (at least one of the
    `touching` safety class: "never", or "tune" for tuning values only)."""
    files, written = draw(repositories())

    def safety(item: Written) -> str:
        return SAFETY[item.line.key] if item.line.key else "unknown"

    if touching == "tune":
        pool = [w for w in written if safety(w) == "tune" and w.path != "compose.yaml"]
    else:
        pool = written
    must = [w for w in pool if safety(w) == touching]
    chosen = {draw(st.sampled_from(must))}
    chosen |= set(draw(st.lists(st.sampled_from(pool), max_size=4)))
    after = dict(files)
    for item in sorted(chosen, key=lambda w: (w.path, w.line.text)):
        new = draw(st.sampled_from([v for v in item.line.values if v != item.value]))
        old_line, new_line = item.line.text.format(item.value), item.line.text.format(new)
        assert after[item.path].count(old_line + "\n") == 1
        after[item.path] = after[item.path].replace(old_line + "\n", new_line + "\n")
    return files, after, {w.line.key for w in chosen}


def changed(files: dict[str, str], after: dict[str, str]) -> tuple[dict[str, str | None], ...]:
    paths = [p for p in files if files[p] != after[p]]
    return {p: files[p] for p in paths}, {p: after[p] for p in paths}


@settings(max_examples=150, deadline=None)
@given(candidates("never"), st.booleans())
def test_no_candidate_touching_a_never_setting_passes(
    case: tuple[dict[str, str], dict[str, str], set[str | None]], compose_measured: bool
) -> None:
    files, after, keys = case
    sandbox = Sandbox(compose="compose.yaml" if compose_measured else None)
    before, later = changed(files, after)
    found = check(view_of(files, sandbox), before, later, STAND_INS)
    assert not found.ok
    never = sorted(k for k in keys if k and SAFETY[k] == "never")
    event(f"refused for {found.problem.split(' ')[1] if found.problem else None}")
    assert found.problem is not None and found.problem.endswith(f"({NEVER})")
    assert found.problem.split(" ")[1] in never, (found.problem, never)


@settings(max_examples=60, deadline=None)
@given(candidates("tune"))
def test_tuning_values_in_measured_files_pass_and_are_named(
    case: tuple[dict[str, str], dict[str, str], set[str | None]],
) -> None:
    files, after, keys = case
    before, later = changed(files, after)
    found = check(view_of(files), before, later, STAND_INS)
    assert found.ok, found.problem
    assert {c.key for c in found.changed} == keys
    assert found.reaches == ("build",)


REAL = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PORT={port}
EXPOSE {port}
HEALTHCHECK --interval=30s --retries={retries} CMD curl -f http://localhost:{port}/healthz
CMD ["gunicorn", "--bind", "0.0.0.0:{port}", "--workers", "{workers}", "app:app"]
"""
REAL_COMPOSE = """\
services:
  web:
    build: .
    ports:
      - "{port}:{port}"
    healthcheck:
      retries: {retries}
"""
PORTS = st.sampled_from([80, 3000, 8000, 8080])


@pytest.mark.skipif(not PACKS, reason="no pack registered yet")
@settings(max_examples=40, deadline=None)
@given(PORTS, PORTS, st.integers(1, 5), st.integers(1, 9), st.data())
def test_no_candidate_touching_a_never_setting_passes_the_registered_packs(
    port: int, other: int, retries: int, workers: int, data: st.DataObject
) -> None:
    values = {"port": port, "retries": retries, "workers": workers}
    files = {
        "Dockerfile": REAL.format(**values),
        "compose.yaml": REAL_COMPOSE.format(**values),
        "requirements.txt": "flask\ngunicorn\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    }
    sandbox = Sandbox(compose=data.draw(st.sampled_from([None, "compose.yaml"])))
    path = data.draw(st.sampled_from(["Dockerfile", "compose.yaml"]))
    lines = files[path].splitlines(keepends=True)
    never = [n for n, line in enumerate(lines) if str(port) in line or "retries" in line]
    at = data.draw(st.sampled_from(never))
    changed_line = lines[at].replace(str(port), str(other if other != port else port + 1))
    if changed_line == lines[at]:
        changed_line = lines[at].replace(f"retries: {retries}", f"retries: {retries + 1}")
        changed_line = changed_line.replace(f"retries={retries}", f"retries={retries + 1}")
    lines[at] = changed_line
    if data.draw(st.booleans()):  # a tuning change beside it
        lines = [x.replace(f'"{workers}"', f'"{workers + 1}"') for x in lines]
    after = "".join(lines)
    assert after != files[path]
    found = check(view_of(files, sandbox), {path: files[path]}, {path: after})
    assert not found.ok, (path, lines[at])
