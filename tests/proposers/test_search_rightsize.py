"""The search proposer over a compose stack and Kubernetes manifests with a measured baseline:
the orchestration pack's right-sizing fix becomes one candidate per limit, each changing only
the measured service's memory limit (so the guard lets it through, reaching "resources")."""

from __future__ import annotations

from dataclasses import replace

from mutbot.packs.guard import check
from mutbot.packs.survey import survey
from mutbot.policy import DiffRules
from mutbot.proposers.base import Baseline, ProposalRequest, TargetFile
from mutbot.proposers.search import SearchProposer
from mutbot.run.propose import pack_view
from testing.proposals import example_config
from testing.repos import ROOT

SAMPLE = ROOT / "testing" / "packs" / "k8s-compose"
TARGETS = ("Dockerfile", "docker-compose.yml", "k8s/api.yaml", "k8s/postgres.yaml")


def request(peak_mb: float) -> ProposalRequest:
    config = example_config().model_copy(update={"targets": list(TARGETS)})
    rules = DiffRules(TARGETS, (".mutbot.yml",), 200, 10)
    files = tuple(TargetFile(p, (SAMPLE / p).read_text()) for p in TARGETS)
    baseline = Baseline(
        {"latency_p95_ms": 80.0, "memory_peak_mb": peak_mb}, "measured in this run (6 trials)"
    )
    found = survey(pack_view(SAMPLE, config, files, baseline))
    return ProposalRequest(
        files=files,
        opportunities=tuple(found.opportunities()),
        baseline=baseline,
        config=config,
        rules=rules,
        count=20,
        survey=found,
    )


def test_the_right_sized_limits_are_candidates_that_reach_the_resources() -> None:
    asked = request(120.0)
    proposal = SearchProposer().propose(asked)
    lowered = [c for c in proposal.candidates if c.title.startswith("Lower the memory limit")]
    assert [c.title for c in lowered] == [
        "Lower the memory limit 512M → 256M (docker-compose.yml:25)",
        "Lower the memory limit 2Gi → 256Mi (k8s/api.yaml:49)",
    ]
    assert all(c.category == "requests-far-from-use" for c in lowered)
    assert "-          memory: 512M\n+          memory: 256M\n" in lowered[0].diff
    assert asked.survey is not None and asked.survey.view is not None
    view = asked.survey.view
    for cand, path, old, new in (
        (lowered[0], "docker-compose.yml", "memory: 512M", "memory: 256M"),
        (lowered[1], "k8s/api.yaml", "memory: 2Gi", "memory: 256Mi"),
    ):
        text = (SAMPLE / path).read_text()
        guarded = check(view, {path: text}, {path: text.replace(old, new)})
        assert guarded.ok and guarded.reaches == ("resources",), cand.title


def test_without_a_measured_peak_no_limit_is_lowered() -> None:
    asked = request(120.0)
    assert asked.baseline is not None and asked.survey is not None
    bare = replace(asked.baseline, metrics={"latency_p95_ms": 80.0})
    found = survey(pack_view(SAMPLE, asked.config, asked.files, bare))
    proposal = SearchProposer().propose(replace(asked, baseline=bare, survey=found))
    assert not [c for c in proposal.candidates if c.title.startswith("Lower the memory limit")]
