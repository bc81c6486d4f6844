"""The bundled example with a compose file whose `api` service builds the measured Dockerfile,
and candidates that change its limits, for the end-to-end tests of right-sizing."""

from __future__ import annotations

import json
from pathlib import Path

from mutbot.edits import unified_diff
from testing.repos import QUICK_LOAD, edit_config, git, make_repo

COMPOSE = """\
services:
  api:
    build: .
    ports:
      - "8080:8080"
    deploy:
      resources:
        limits:
          cpus: "1"
          memory: 1g
"""
LIMIT = "orchestration.memory_limit@docker-compose.yml:services.api.deploy.resources.limits.memory"
# the shortest confirmation block a run accepts: 3 pairs at alpha 0.25
SHORTEST = {"alpha: 0.1": "alpha: 0.25", "  pairs: 5 ": "  pairs: 3 "}


def compose_project(dest: Path) -> Path:
    """The example plus COMPOSE, its limits a target, with short trials."""
    project = make_repo(dest)
    (project / "docker-compose.yml").write_text(COMPOSE)
    git(project, "add", "docker-compose.yml")
    git(project, "commit", "--quiet", "-m", "compose")
    targets = 'targets: [Dockerfile, "config/*.ini"]'
    edit_config(project, {**QUICK_LOAD, targets: targets[:-1] + ", docker-compose.yml]"})
    edit_config(project, SHORTEST)
    return project


def compose_candidate(title: str, old: str, new: str) -> dict[str, object]:
    assert COMPOSE.count(old) == 1, old
    diff = unified_diff("docker-compose.yml", COMPOSE, COMPOSE.replace(old, new))
    return {"title": title, "kind": "incremental", "rationale": title, "diff": diff}


def write(path: Path, candidates: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(candidates))
    return path
