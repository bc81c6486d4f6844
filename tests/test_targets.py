from __future__ import annotations

from pathlib import Path

from mutbot.policy import DiffRules
from mutbot.targets import read_targets

RULES = DiffRules(
    targets=("Dockerfile", "config/*", "deploy/**"),
    protected=("config/secret*",),
    max_changed_lines=200,
    max_files=10,
)


def test_reads_only_text_targets_the_policy_allows(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "deploy" / "k8s").mkdir(parents=True)
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "config" / "server.ini").write_text("[server]\nthreads = 1\n")
    (tmp_path / "config" / "secrets.ini").write_text("token = x\n")  # protected
    (tmp_path / "config" / "logo.png").write_bytes(b"\x89PNG\0\0")  # binary
    (tmp_path / "config" / "big.json").write_text("x" * 300_000)  # too large to be source
    (tmp_path / "config" / "link.ini").symlink_to(tmp_path / "Dockerfile")
    (tmp_path / "deploy" / "k8s" / "app.yaml").write_text("kind: Deployment\n")
    (tmp_path / "app.py").write_text("print()\n")  # not a target

    found = read_targets(tmp_path, RULES)

    assert [f.path for f in found] == ["Dockerfile", "config/server.ini", "deploy/k8s/app.yaml"]
    assert found[1].text == "[server]\nthreads = 1\n"


def test_never_reads_mutbots_own_files(tmp_path: Path) -> None:
    rules = DiffRules(("**",), (), 200, 10)
    (tmp_path / ".mutbot").mkdir()
    (tmp_path / ".mutbot" / "x.ini").write_text("a = 1\n")
    (tmp_path / ".mutbot.yml").write_text("version: 1\n")
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    assert [f.path for f in read_targets(tmp_path, rules)] == ["Dockerfile"]


def test_narrowed_targets_read_only_what_the_run_asked_for(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "config" / "server.ini").write_text("a = 1\n")
    rules = DiffRules(("Dockerfile", "config/*"), (), 200, 10, narrow=("config/**",))
    assert [f.path for f in read_targets(tmp_path, rules)] == ["config/server.ini"]
