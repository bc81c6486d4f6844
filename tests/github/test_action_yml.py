"""The composite action at the repository's root: its interface, and no script injection."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ACTION = Path(__file__).resolve().parents[2] / "action.yml"
INPUTS = {
    "github-token",
    "anthropic-api-key",
    "config",
    "max-prs",
    "proposer",
    "dry-run",
    "backend",
}
OUTPUTS = {"pull-requests", "results", "best-improvement"}
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = action["runs"]["steps"]
    return result


def test_composite_with_the_documented_interface(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == INPUTS
    assert action["inputs"]["github-token"]["required"] is True
    assert action["inputs"]["max-prs"]["default"] == "3"
    assert action["inputs"]["dry-run"]["default"] == "false"
    assert action["inputs"]["backend"]["default"] == ""  # Docker, or fail: never local by accident
    for name in INPUTS - {"github-token"}:
        assert action["inputs"][name]["required"] is False, name
        assert isinstance(action["inputs"][name]["default"], str), name
    assert all(spec["description"] for spec in action["inputs"].values())


def test_outputs_come_from_the_mutbot_step(action: dict[str, Any]) -> None:
    assert set(action["outputs"]) == OUTPUTS
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.mutbot.outputs.{name} }}}}"
        assert spec["description"]
    assert [s.get("id") for s in steps(action)].count("mutbot") == 1


def test_no_expression_inside_any_script(action: dict[str, Any]) -> None:
    """`${{ inputs.x }}` in a script is pasted into its text before bash reads it: a value
    with `"; curl ...` in it would run. Values reach scripts through env only."""
    scripts = [s["run"] for s in steps(action) if "run" in s]
    assert len(scripts) == 2
    for script in scripts:
        assert "${{" not in script, script
    for step in steps(action):
        if "run" in step:
            assert step["shell"] == "bash"  # composite steps must name their shell


def test_mutbot_runs_with_inputs_in_its_environment(action: dict[str, Any]) -> None:
    (step,) = [s for s in steps(action) if s.get("id") == "mutbot"]
    assert step["env"] == {
        "GITHUB_TOKEN": "${{ inputs.github-token }}",
        "ANTHROPIC_API_KEY": "${{ inputs.anthropic-api-key }}",
        "MUTBOT_CONFIG": "${{ inputs.config }}",
        "MUTBOT_MAX_PRS": "${{ inputs.max-prs }}",
        "MUTBOT_PROPOSER": "${{ inputs.proposer }}",
        "MUTBOT_DRY_RUN": "${{ inputs.dry-run }}",
        "MUTBOT_BACKEND": "${{ inputs.backend }}",
    }
    assert step["run"].split()[-1] == "action"
    # exec: the shell, whose environment holds the tokens, does not outlive mutbot's start
    assert step["run"].split()[0] == "exec"
    assert step["run"].split()[1].endswith('/bin/mutbot"')


def test_python_and_install(action: dict[str, Any]) -> None:
    setup, install, _ = steps(action)
    assert setup["uses"] == "actions/setup-python@v5"
    assert setup["with"]["python-version"] == "3.11"
    assert '"$GITHUB_ACTION_PATH"' in install["run"]  # mutbot from the action's own folder
    assert "pip install" in install["run"]


def test_every_reference_is_declared(action: dict[str, Any]) -> None:
    """A misspelt `inputs.x` or `steps.x` is an empty string at run time, not an error."""
    text = ACTION.read_text(encoding="utf-8")
    ids = {s["id"] for s in steps(action) if "id" in s}
    expressions = [e.strip() for e in EXPRESSION.findall(text)]
    assert expressions
    for expression in expressions:
        for name in re.findall(r"\binputs\.([\w-]+)", expression):
            assert name in INPUTS, expression
        for name in re.findall(r"\bsteps\.([\w-]+)", expression):
            assert name in ids, expression
