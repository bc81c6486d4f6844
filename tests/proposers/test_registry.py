from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutbot import proposers
from mutbot.candidates import Candidate
from mutbot.config import load_config
from mutbot.errors import CandidateError, ConfigError, ProposerError
from mutbot.policy import DiffRules
from mutbot.proposers.base import Deduper, HistoryEntry, ProposalRequest
from testing.repos import EXAMPLE, example_candidates

CONFIG = load_config(EXAMPLE / ".mutbot.yml")


def test_default_is_anthropic_with_a_key_and_search_without() -> None:
    assert proposers.choose(None, {"ANTHROPIC_API_KEY": "k"}) == "anthropic"
    assert proposers.choose(None, {}) == "search"
    assert proposers.choose("search", {"ANTHROPIC_API_KEY": "k"}) == "search"
    assert proposers.choose("file:x.json", {}) == "file:x.json"
    with pytest.raises(ConfigError, match="unknown proposer 'gpt'; expected one of anthropic"):
        proposers.choose("gpt", {})


def test_anthropic_without_a_key_is_a_clear_error() -> None:
    with pytest.raises(ProposerError, match="needs an API key in ANTHROPIC_API_KEY"):
        proposers.create("anthropic", CONFIG, EXAMPLE, print, {})


def test_file_proposer_checks_the_file_first_and_skips_repeats(tmp_path: Path) -> None:
    with pytest.raises(CandidateError, match="cannot read"):
        proposers.create(f"file:{tmp_path / 'none.json'}", CONFIG, EXAMPLE, print, {})
    listed = example_candidates()[:3]
    path = tmp_path / "c.json"
    path.write_text(json.dumps([*listed, listed[0]]))
    proposer = proposers.create(f"file:{path}", CONFIG, EXAMPLE, print, {})
    assert not proposer.needs_baseline
    request = ProposalRequest(
        files=(), opportunities=(), baseline=None, config=CONFIG, rules=DiffRules((), (), 1, 1)
    )
    proposal = proposer.propose(request)
    assert [c.title for c in proposal.candidates] == [str(c["title"]) for c in listed]
    assert proposal.notes == [
        f"1 of 4 candidates in {path} skipped: the same change is listed twice, or a "
        "maintainer closed, reverted or ignored it before"
    ]


def test_history_keeps_open_prs_alive_and_refusals_out(tmp_path: Path) -> None:
    listed = example_candidates()[:3]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(listed))
    prints = [Candidate.model_validate(c).fingerprint for c in listed]
    history = (
        HistoryEntry(fingerprint=prints[0], title="a", kind="incremental", verdict="propose"),
        HistoryEntry(
            fingerprint=prints[1], title="b", kind="incremental", verdict="propose", outcome="open"
        ),
        HistoryEntry(
            fingerprint=prints[2],
            title="c",
            kind="incremental",
            verdict="propose",
            outcome="closed",
        ),
    )
    assert Deduper.from_history(history).seen == {prints[0], prints[2]}
    assert Deduper.refused(history).seen == {prints[2]}
    request = ProposalRequest(
        files=(),
        opportunities=(),
        baseline=None,
        config=CONFIG,
        rules=DiffRules((), (), 1, 1),
        history=history,
    )
    kept = proposers.create(f"file:{path}", CONFIG, EXAMPLE, print, {}).propose(request)
    assert [c.fingerprint for c in kept.candidates] == prints[:2]
