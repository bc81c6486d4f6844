import difflib
from pathlib import Path

from mutbot.config import Config
from mutbot.proposers.base import (
    HistoryEntry,
    Proposal,
    ProposalRequest,
)
from mutbot.proposers.learning import Bandit, apply_diff, refused_values
from mutbot.proposers.search import create
from testing.proposals import example_config, example_request

ROOT = Path("examples/pricing")
INI = "config/server.ini"


def config() -> Config:
    return example_config()


def request(**changes: object) -> ProposalRequest:
    return example_request(**changes)


def propose(**changes: object) -> Proposal:
    return create().propose(request(**changes))


def files() -> dict[str, str]:
    return {f.path: f.text for f in request().files}


def added(diff: str) -> set[str]:
    return {line for line in diff.splitlines() if line.startswith("+") and "=" in line}


def old_diff(old: str, new: str, context: int) -> str:
    """A diff as an earlier run made it: other context size, other line numbers."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"a/{INI}",
        f"b/{INI}",
        n=context,
    )
    return f"diff --git a/{INI} b/{INI}\n" + "".join(lines)


def entry(diff: str = "", **fields: object) -> HistoryEntry:
    defaults = {"fingerprint": "0" * 12, "title": "t", "kind": "incremental", "verdict": "reject"}
    return HistoryEntry.model_validate({**defaults, "diff": diff, **fields})


def threads_to_4_long_ago() -> str:
    """threads 1 → 4, diffed when the file had two more lines at the top and with one line
    of context: another fingerprint than today's candidate, the same value."""
    today = files()[INI]
    then = "; tuned by hand\n; see docs\n" + today
    return old_diff(then, then.replace("threads = 1", "threads = 4"), context=1)


def test_refused_values_come_from_history_diffs_applied_to_todays_files() -> None:
    diff = threads_to_4_long_ago()
    assert "@@ -4,3 +4,3 @@" in diff  # the line numbers of the old file
    refused = refused_values((entry(diff, category="single-worker"),), files())
    assert refused == {(INI, "server.threads", "4")}
    closed = entry(diff, verdict="propose", outcome="closed")
    assert refused_values((closed,), files()) == refused
    reverted = entry(diff, verdict="propose", outcome="reverted")
    assert refused_values((reverted,), files()) == refused
    for fine in ("merged", "open", None):
        assert refused_values((entry(diff, verdict="propose", outcome=fine),), files()) == set()


def test_a_bundle_failing_blames_no_single_value() -> None:
    today = files()[INI]
    both = today.replace("threads = 1", "threads = 4").replace("cache_size = 0", "cache_size = 9")
    assert apply_diff(old_diff(today, both, 3), files()) == {INI: both}
    assert refused_values((entry(old_diff(today, both, 3)),), files()) == set()


def test_the_search_proposer_skips_refused_values() -> None:
    history = (entry(threads_to_4_long_ago(), category="single-worker"),)
    before, after = propose(count=30), propose(count=30, history=history)
    assert {c.fingerprint for c in before.candidates} & {h.fingerprint for h in history} == set()
    assert any("+threads = 4" in added(c.diff) for c in before.candidates)
    assert not any("+threads = 4" in added(c.diff) for c in after.candidates)
    assert (
        "not proposed, the value failed before (history): appsettings.server.threads = 4"
        in after.notes
    )
    together = [c for c in after.candidates if c.title.startswith("All ")]
    assert together and added(together[0].diff) == {"+cache_size = 1024", "+log_requests = false"}


def test_a_diff_that_no_longer_applies_is_ignored() -> None:
    today = files()[INI]
    then = today.replace("threads = 1", "threads = 2")  # the file has changed since
    stale = old_diff(then, then.replace("threads = 2", "threads = 4"), context=3)
    assert apply_diff(stale, files()) is None
    assert apply_diff(stale.replace(INI, "config/gone.ini"), files()) is None
    assert apply_diff("not a diff", files()) is None
    history = tuple(entry(stale, category=None) for _ in range(4))
    assert refused_values(history, files()) == set()
    assert propose(history=history).candidates == propose().candidates


def test_the_bandit_moves_failing_categories_back_and_paying_ones_forward() -> None:
    history = (
        *(entry(category="single-worker") for _ in range(3)),
        *(entry(category="cache-disabled", verdict="propose", outcome="merged") for _ in range(2)),
        entry(category="tiny-pool", verdict="needs-review"),  # neither a success nor a failure
    )
    bandit = Bandit.from_history(history, files(), {})
    arms = ["single-worker", "cache-disabled", "verbose-logging", "tiny-pool"]
    assert bandit.order(arms, str) == [
        "cache-disabled",
        "verbose-logging",
        "tiny-pool",
        "single-worker",
    ]
    assert bandit.demote(arms, str) == [
        "cache-disabled",
        "verbose-logging",
        "tiny-pool",
        "single-worker",
    ]
    assert bandit.disproven("single-worker") and not bandit.disproven("tiny-pool")
    assert Bandit().order(arms, str) == arms  # no history: the usual order

    found = propose(count=30, history=history).candidates
    flagged = [c.category for c in found if c.kind == "incremental" and c.category]
    assert flagged == ["cache-disabled", "verbose-logging", "single-worker"]
    generic = [c.title for c in found if c.kind == "incremental" and not c.category]
    assert generic == ["Raise server.threads from 1 to 2"]
    bundles = [c.category for c in found if c.kind == "radical"]
    assert bundles == ["root-user", "single-worker", "single-worker"]
    # a short list puts the disproven category last (its exploratory step too)
    short = propose(count=3, radical_share=0.0, history=history).candidates
    assert [c.category for c in short] == ["cache-disabled", "verbose-logging", "single-worker"]
    shorter = propose(count=2, radical_share=0.0, history=history).candidates
    assert [c.category for c in shorter] == ["cache-disabled", "verbose-logging"]


def test_uncategorised_history_counts_for_the_setting_it_changed() -> None:
    diff = threads_to_4_long_ago()
    history = tuple(entry(diff) for _ in range(3))
    bandit = Bandit.from_history(history, files(), {(INI, "server.threads"): "single-worker"})
    assert bandit.disproven("single-worker")


def test_same_seed_same_order() -> None:
    history = (
        *(entry(category="single-worker") for _ in range(3)),
        entry(category="root-user", verdict="propose"),
    )
    for seed in (1, 7):
        first = propose(count=30, history=history, seed=seed)
        assert first == propose(count=30, history=history, seed=seed)


def test_a_closed_fingerprint_never_comes_back() -> None:
    closed = [c for c in propose(count=30).candidates if c.kind == "incremental"][:2]
    history = tuple(
        entry(c.diff, fingerprint=c.fingerprint, title=c.title, verdict="propose", outcome="closed")
        for c in closed
    )
    for seed in range(1, 6):
        for count in (2, 8, 30):
            again = propose(count=count, seed=seed, history=history).candidates
            assert not {c.fingerprint for c in again} & {c.fingerprint for c in closed}
            values = set().union(*(added(c.diff) for c in again)) if again else set()
            assert not values & set().union(*(added(c.diff) for c in closed))


def test_a_value_changed_with_other_text_is_not_blamed() -> None:
    today = files()[INI]
    new = today.replace("threads = 1", "threads = 4").replace("# Worker", "# Many worker")
    diff = old_diff(today, new, 3)
    assert apply_diff(diff, files()) == {INI: new}
    assert refused_values((entry(diff),), files()) == set()
