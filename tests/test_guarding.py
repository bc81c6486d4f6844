"""The packs' guard in a run: every proposer's candidates meet it at the policy stage, on the
files as git applies them; results.json records what each change reaches and the settings it
changes. Stand-in packs (testing/linepacks.py) play the registered ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutbot.edits import unified_diff
from mutbot.guarding import baseline_view, guard
from mutbot.packs import PACKS
from mutbot.packs.guard import NEVER, UNKNOWN
from mutbot.policy import ABSENT, Change
from mutbot.results import RunResult, SettingChange
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions, load_inputs, rules_for
from mutbot.worktree import Workspace
from testing.linepacks import example_packs
from testing.packs import view_of
from testing.records import candidate
from testing.records import run as record
from testing.reporters import RecordingReporter
from testing.repos import EXAMPLE, QUICK_LOAD, edit_config, example_candidates, make_repo

THREADS = "Serve requests from 8 worker threads"
DECIMALS = "Round prices to 3 decimals"
EXPOSE = "Expose another port"
# the baseline passes, these candidates fail: the run stops before any load
UNITTEST = "command: python -m unittest discover -s tests"
SAME = "grep -q 'threads = 1' config/server.ini && grep -q 'decimals = 2' config/server.ini"
TESTS = {UNITTEST: f'command: sh -c "{SAME}"'}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = make_repo(tmp_path / "repo")
    edit_config(project, {**QUICK_LOAD, **TESTS})
    return project


def candidates(path: Path) -> Path:
    dockerfile = (EXAMPLE / "Dockerfile").read_text()
    expose = {
        "title": EXPOSE,
        "kind": "incremental",
        "diff": unified_diff(
            "Dockerfile", dockerfile, dockerfile.replace("EXPOSE 8080", "EXPOSE 9090")
        ),
    }
    by_title = {str(c["title"]): c for c in example_candidates()}
    path.write_text(json.dumps([by_title[THREADS], by_title[DECIMALS], expose]))
    return path


def run(project: Path, tmp_path: Path) -> RunResult:
    mutations = candidates(tmp_path / "c.json")
    options = RunOptions(project, mutations, out=tmp_path / "out", backend="local")
    result = execute(options, RecordingReporter())
    loaded = RunResult.model_validate_json((tmp_path / "out" / "results.json").read_text())
    assert loaded == result
    return result


def test_the_guard_refuses_at_the_policy_stage_with_the_setting_named(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(PACKS):  # the stand-ins alone, whatever the registry holds
        monkeypatch.delitem(PACKS, name)
    for pack in example_packs():
        monkeypatch.setitem(PACKS, pack.name, pack)
    result = run(project, tmp_path)
    found = {c.title: c for c in result.candidates}
    assert (found[EXPOSE].stage, found[EXPOSE].reason) == (
        "policy",
        f"changes docker.expose at Dockerfile:7 ({NEVER})",
    )
    assert found[EXPOSE].settings[0].key == "docker.expose"
    assert (found[DECIMALS].stage, found[DECIMALS].reason) == (
        "policy",
        f"{UNKNOWN}: config/server.ini:12",
    )
    threads = found[THREADS]
    assert threads.stage == "tests"  # past the policy, built, then failed the grep
    assert threads.reaches == ["build"]
    assert threads.settings == [
        SettingChange(
            key="settings.threads",
            safety="tune",
            before=1,
            after=8,
            written=(True, True),
            where="config/server.ini:3",
            reaches="build",
        )
    ]


def test_with_no_pack_registered_the_guard_refuses_nothing_and_records_what_files_reach(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(PACKS):
        monkeypatch.delitem(PACKS, name)
    found = {c.title: c for c in run(project, tmp_path).candidates}
    # past the policy; the local backend builds no changed Dockerfile
    assert {t: c.stage for t, c in found.items()} == {
        THREADS: "tests",
        DECIMALS: "tests",
        EXPOSE: "build",
    }
    assert all(c.reaches == ["build"] and c.settings == [] for c in found.values())


def test_results_written_before_the_guard_still_load() -> None:
    data = json.loads(record([candidate("a")], ["a"]).model_dump_json())
    for item in data["candidates"]:
        del item["reaches"], item["settings"]
    loaded = RunResult.model_validate(data)
    assert loaded.candidates[0].reaches == [] and loaded.candidates[0].settings == []


def test_the_baseline_view_reads_the_worktree_with_the_configs_sandbox_and_targets(
    tmp_path: Path,
) -> None:
    project = make_repo(tmp_path / "mono", subdir="services/pricing")
    config, config_path = load_inputs(RunOptions(project))
    rules = rules_for(config, config_path, project)
    workspace = Workspace(project)
    try:
        view = baseline_view(workspace.add("baseline"), config, rules)
    finally:
        workspace.close()
    assert view.targets == {"Dockerfile", "config/server.ini"}
    assert view.reaches("config/server.ini") == "build"
    assert view.image is not None and view.image.base == "python:3.11-slim"


def test_git_changes_become_both_sides_relative_to_the_project(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(PACKS):
        monkeypatch.delitem(PACKS, name)
    for pack in example_packs():
        monkeypatch.setitem(PACKS, pack.name, pack)
    files = {p: (EXAMPLE / p).read_text() for p in ("Dockerfile", "config/server.ini", "app.py")}
    ini = files["config/server.ini"]
    renamed = [
        Change("svc/config/server.ini", "100644", ABSENT, False, ini, None),
        Change("svc/config/moved.ini", ABSENT, "100644", False, None, ini),
    ]
    found = guard(view_of(files), renamed, "svc")
    # the old file's settings go back to their defaults; the new one's lines are no pack's
    assert found.problem == f"{UNKNOWN}: config/moved.ini:1"
    assert [c.key for c in found.changed] == [
        "settings.cache_size",
        "settings.log_requests",
        "settings.threads",
    ]
