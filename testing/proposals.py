"""A ProposalRequest built from the bundled example's real files, for the proposer tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mutbot.config import Config, load_config
from mutbot.packs.survey import survey
from mutbot.policy import DiffRules
from mutbot.proposers.base import Baseline, ProposalRequest, TargetFile
from mutbot.run.propose import pack_view
from testing.repos import EXAMPLE

# Not knobs: the simulated database wait, and the API's 2 decimal places.
KEEP = ["config/server.ini:server.downstream_ms", "config/*.ini:server.currency_decimals"]


def example_config() -> Config:
    loaded = load_config(EXAMPLE / ".mutbot.yml")
    return loaded.model_copy(update={"propose": loaded.propose.model_copy(update={"keep": KEEP})})


def example_request(**changes: Any) -> ProposalRequest:
    cfg = example_config()
    rules = DiffRules(
        tuple(cfg.targets),
        (*cfg.protected, ".mutbot.yml", "loadtest/locustfile.py"),
        cfg.policy.max_changed_lines,
        cfg.policy.max_files,
    )
    files = tuple(
        TargetFile(p, (EXAMPLE / p).read_text()) for p in ("Dockerfile", "config/server.ini")
    )
    baseline = Baseline({"latency_p95_ms": 412.0}, "measured in this run (6 trials)")
    found = survey(pack_view(EXAMPLE, cfg, files, baseline))
    base = ProposalRequest(
        files=files,
        opportunities=tuple(found.opportunities()),
        baseline=baseline,
        config=cfg,
        rules=rules,
        survey=found,
    )
    return replace(base, **changes)
