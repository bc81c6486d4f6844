import subprocess
from pathlib import Path

import pytest

from mutbot.config import Config
from mutbot.packs.guard import check
from mutbot.policy import DiffRules, check_diff
from mutbot.proposers.base import (
    HistoryEntry,
    Proposal,
    ProposalRequest,
)
from mutbot.proposers.learning import apply_diff
from mutbot.proposers.search import create
from testing.proposals import example_config, example_request

ROOT = Path("examples/pricing")


def config() -> Config:
    return example_config()


def request(**changes: object) -> ProposalRequest:
    return example_request(**changes)


def propose(**changes: object) -> Proposal:
    return create().propose(request(**changes))


def changes(diff: str) -> set[str]:
    return {line for line in diff.splitlines() if line.startswith("+") and "=" in line}


def test_the_real_improvements_come_first() -> None:
    found = propose().candidates[:8]
    by_change = [changes(c.diff) for c in found]
    assert {"+threads = 4"} in by_change  # 4 threads per CPU, at least 4 (1 CPU)
    assert {"+cache_size = 1024"} in by_change
    assert {"+log_requests = false"} in by_change
    together = {"+threads = 4", "+cache_size = 1024", "+log_requests = false"}
    radical = [c for c in found if c.kind == "radical"]
    assert changes(radical[0].diff) == together
    assert found[0].title == "Raise server.threads from 1 to 4"
    assert "server.threads = 1: one thread" in found[0].rationale
    assert "p95 latency: 412 ms" in found[0].rationale
    assert found[0].category == "single-worker"


def test_kept_settings_are_never_touched() -> None:
    proposal = propose(count=30, radical_share=0.5)
    old = (ROOT / "config/server.ini").read_text()
    for c in proposal.candidates:  # not tuning settings: no pack sees them at all
        assert "downstream_ms" not in "".join(changes(c.diff))
        assert "currency_decimals" not in "".join(changes(c.diff))
    cfg = config()
    keep = cfg.propose.model_copy(update={"keep": ["config/*.ini:server.threads"]})
    kept = create().propose(request(config=cfg.model_copy(update={"propose": keep}), count=30))
    assert kept.candidates and not any(
        "threads" in "".join(changes(c.diff)) for c in kept.candidates
    )
    assert any(
        "would change a kept setting (config/server.ini:server.threads)" in n for n in kept.notes
    )
    assert old  # the files on disk are never written


def test_same_seed_same_output_and_seeds_reorder_only_generic_moves() -> None:
    first, again = propose(count=30), propose(count=30)
    assert first == again
    others = [propose(count=30, seed=s) for s in range(2, 12)]
    flagged = [c for c in first.candidates if c.category is not None]
    for other in others:
        assert [c for c in other.candidates if c.category is not None] == flagged
        assert sorted(c.fingerprint for c in other.candidates) == sorted(
            c.fingerprint for c in first.candidates
        )


def test_history_is_never_proposed_again() -> None:
    first = propose().candidates
    history = tuple(
        HistoryEntry(fingerprint=c.fingerprint, title=c.title, kind=c.kind, verdict="reject")
        for c in first[:3]
    )
    again = propose(history=history).candidates
    assert not {c.fingerprint for c in again} & {h.fingerprint for h in history}
    assert len({c.fingerprint for c in again}) == len(again)


@pytest.mark.parametrize(("count", "share"), [(8, 0.25), (4, 0.25), (2, 0.1), (6, 0.0), (1, 1.0)])
def test_count_and_radical_share(count: int, share: float) -> None:
    found = propose(count=count, radical_share=share).candidates
    radical = sum(c.kind == "radical" for c in found)
    assert len(found) <= count
    assert radical <= max(round(count * share), 1 if share > 0 and count >= 2 else 0)
    if share > 0 and count >= 2:
        assert radical >= 1


def test_every_diff_passes_policy_and_applies(tmp_path: Path) -> None:
    req = request(count=30, radical_share=0.5)
    for path in ("Dockerfile", "config/server.ini"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text((ROOT / path).read_text())
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for c in create().propose(req).candidates:
        check_diff(c.diff, req.rules)
        patch = tmp_path / "c.diff"
        patch.write_text(c.diff)
        subprocess.run(["git", "apply", "--check", str(patch)], cwd=tmp_path, check=True)


def test_policy_refusals_are_dropped_and_noted() -> None:
    req = request()
    rules = DiffRules(("config/*.ini",), ("Dockerfile",), 200, 10)
    proposal = create().propose(request(rules=rules))
    assert proposal.candidates
    assert all("a/Dockerfile" not in c.diff for c in proposal.candidates)
    assert any("policy refuses it: Dockerfile is protected" in n for n in proposal.notes)
    assert req.rules != rules


def test_dockerfile_rewrites_are_radical_and_keep_settings() -> None:
    proposal = propose(count=30, radical_share=1.0)
    rewrites = [c for c in proposal.candidates if c.diff.startswith("diff --git a/Dockerfile")]
    assert rewrites and all(c.kind == "radical" for c in rewrites)
    assert all(c.category in ("root-user", "cache-busting-copy") for c in rewrites)
    old = (ROOT / "Dockerfile").read_text()
    view = request().survey.view  # type: ignore[union-attr]
    for rewrite in rewrites:
        new = apply_diff(rewrite.diff, {"Dockerfile": old})
        assert new is not None
        guarded = check(view, {"Dockerfile": old}, new)
        assert guarded.ok and "dockerfile.ENV PORT" not in {c.key for c in guarded.changed}
