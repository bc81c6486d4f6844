"""The feedback loop against the fake GitHub, a bare git remote and (for production) a real
Prometheus: outcomes synced from the API, a merged mutation that regressed gets a revert PR."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mutbot.config import Production
from mutbot.feedback import revert_regressions, sync_outcomes, watch
from mutbot.github.publish import Target, publish
from mutbot.github.remote import Remote
from mutbot.ledger.model import Entry, evaluated
from mutbot.ledger.store import FileLedger
from mutbot.ledger.views import fold, history
from mutbot.monitor.prometheus import Prometheus
from testing.github_world import World, github_world, proposed, results
from testing.prometheus import Player, Scene, exporter, prometheus, sleep_until, wait_for_samples
from testing.repos import git

THREADS = "Serve requests from 8 worker threads"
CACHE = "Enable a 1024-entry price cache"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path / "w") as w:
        yield w


def merge(world: World, number: int) -> str:
    """Merge a pull request's branch into main for real, and tell the fake GitHub."""
    branch = world.fake.pull(number)["head"]["ref"]
    git(world.checkout, "fetch", "--quiet", "origin", branch)
    git(
        world.checkout,
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        f"Merge pull request #{number}",
        "FETCH_HEAD",
    )
    git(world.checkout, "push", "--quiet", "origin", "main")
    world.fake.merge_pull(number, world.head())
    return world.head()


def test_outcomes_are_synced_once_and_feed_the_history(world: World, tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    run = results(world.head(), proposed(THREADS, 0.3), proposed(CACHE, 0.5))
    ledger.append(evaluated(run))
    target = Target(world.checkout, "main", 3, record=lambda e: ledger.append([e]))
    with world.client() as gh:
        publish(run, gh, Remote(world.checkout), target, print)
        events = [e.event for e in ledger.read()]
        assert events[-4:] == ["pr-intent", "pr-opened", "pr-intent", "pr-opened"]
        sha = merge(world, 1)
        world.fake.close_pull(2)

        new = sync_outcomes(ledger, gh, Remote(world.checkout), print)
        assert sync_outcomes(ledger, gh, Remote(world.checkout), print) == []

    assert [(e.pr_number, e.outcome) for e in new] == [(1, "merged"), (2, "closed")]
    assert new[0].merge_sha == sha and new[0].merged_at is not None
    stamp = int(git(world.checkout, "log", "-1", "--format=%ct", sha))
    assert datetime.fromisoformat(new[0].merged_at).timestamp() == stamp
    assert {h.title: h.outcome for h in history(ledger.read())} == {
        THREADS: "merged",
        CACHE: "closed",
    }


def test_a_pr_whose_opening_was_never_recorded_is_found(world: World, tmp_path: Path) -> None:
    """A crash between opening the pull request and recording it loses nothing: the intent
    was recorded first, and the next sync finds the pull request by its branch."""
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    run = results(world.head(), proposed(THREADS, 0.3))
    kept: list[Entry] = []
    target = Target(world.checkout, "main", 3, record=kept.append)
    with world.client() as gh:
        publish(run, gh, Remote(world.checkout), target, print)
        ledger.append([e for e in kept if e.event == "pr-intent"])  # the crash: no "pr-opened"
        [found] = sync_outcomes(ledger, gh, Remote(world.checkout), print)
    assert (found.outcome, found.pr_number) == ("open", 1)


@pytest.mark.slow
def test_a_merged_mutation_that_regressed_in_production_gets_a_revert_pr(
    world: World, tmp_path: Path
) -> None:
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    run = results(world.head(), proposed(THREADS, 0.8))  # the sandbox saw p95 -20%
    ledger.append(evaluated(run))
    target = Target(world.checkout, "main", 3, record=lambda e: ledger.append([e]))
    player = Player({"live": Scene(latency_ms=(100.0, 150.0), error_rate=(0.01, 0.08))})
    with world.client() as gh, exporter(player) as scrape, prometheus([scrape]) as url:
        publish(run, gh, Remote(world.checkout), target, print)
        first = wait_for_samples(url, "app_error_ratio")
        merged_at = first + 11.0
        sleep_until(merged_at)
        merge_sha = merge(world, 1)
        sync_outcomes(ledger, gh, Remote(world.checkout), print)
        # the merge commit's own time has whole seconds; the ledger gets the exact moment
        ledger.append(
            [
                Entry(
                    event="outcome",
                    fingerprint=run.candidates[0].fingerprint,
                    merged_at=datetime.fromtimestamp(merged_at, UTC).isoformat(),
                )
            ]
        )
        time.sleep(0.5)
        player.switch()  # the deploy of the merge
        sleep_until(merged_at + 2.0 + 10.0 + 1.5)
        production = Production.model_validate(
            {
                "prometheus": url,
                "queries": {
                    "latency_p95_ms": "app_latency_p95_seconds * 1000",
                    "error_rate": "app_error_ratio",
                },
                "window": "10s",
                "step": "1s",
                "settle": "2s",
            }
        )
        with Prometheus(url, 5.0) as client:
            watched = watch(ledger, production, client, time.time(), print)
        opened = revert_regressions(watched, ledger, gh, Remote(world.checkout), "main", print)

    [item] = watched
    assert item.revert and "error rate" in item.reason
    [revert] = opened
    pull = world.fake.pull(2)
    assert revert.url == pull["html_url"] and pull["head"]["ref"] == "mutbot/revert-1"
    assert "| latency_p95_ms |" in pull["body"] and "regressed" in pull["body"]
    assert git(world.remote, "rev-parse", f"{pull['head']['sha']}^").strip() == merge_sha
    record = fold(ledger.read())[run.candidates[0].fingerprint]
    assert record.production is not None and record.production["status"] == "revert"
    assert record.revert_pr == 2
    assert [h.outcome for h in history(ledger.read())] == ["reverted"]
    with Prometheus(url, 1.0) as gone:  # judged once, never again (not even asked)
        assert watch(ledger, production, gone, time.time(), print) == []
