"""A real-world-shaped repository (testing/samples/notes-flask: gunicorn from an entrypoint
script, a prod and a dev Dockerfile, compose with PostgreSQL, Kubernetes manifests, CI workflows
and a local action) and the attacks that once got past the policy, written as a candidates file
(testing/samples/notes-flask-candidates.json): each is refused before anything is applied or
built, and the honest candidates apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.candidates import load_candidates
from mutbot.errors import StageFailure
from mutbot.run.options import RunOptions, load_inputs, rules_for
from mutbot.worktree import Workspace
from testing.repos import ROOT, make_repo

SAMPLE = ROOT / "testing" / "samples" / "notes-flask"
CANDIDATES = ROOT / "testing" / "samples" / "notes-flask-candidates.json"
REFUSED = {
    "Tidy CI (rename lines lie)": "disagree with the header",
    "Copy a workflow": "disagree with the header",
    "Quoted action": ".github/actions/setup/action.yml: changes under .github/actions/",
    "Link the credentials": "malformed header line 'new file mode  120000'",
    "Faster installs via a script": "Dockerfile: adds a network fetch the baseline does not",
    "A mirror index": "requirements.txt: adds a network fetch the baseline does not have",
}


@pytest.mark.parametrize("subdir", ["", "services/notes"])
def test_attacks_on_a_real_world_repository_are_refused(tmp_path: Path, subdir: str) -> None:
    project = make_repo(tmp_path / "repo", source=SAMPLE, subdir=subdir)
    config, config_path = load_inputs(RunOptions(project=project))
    rules = rules_for(config, config_path, project)
    workspace = Workspace(project)
    applied = []
    try:
        for number, candidate in enumerate(load_candidates(CANDIDATES)):
            tree = workspace.add(f"c{number}")
            if candidate.title in REFUSED:
                with pytest.raises(StageFailure) as refused:
                    workspace.apply(tree, candidate.diff, rules)
                assert refused.value.stage == "policy", candidate.title
                assert REFUSED[candidate.title] in refused.value.reason, candidate.title
            else:
                workspace.apply(tree, candidate.diff, rules)
                assert "--workers" in (tree / "boot.sh").read_text()
                applied.append(candidate.title)
    finally:
        workspace.close()
    assert len(applied) == 2  # more workers, and the one whose text is hostile (not its diff)
