"""The feedback loop against the fake GitHub, a bare git remote and (for production) a real
Prometheus: outcomes synced from the API, a merged mutation that regressed gets a revert PR."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mutbot.config import Production
from mutbot.feedback import revert_regressions, sync_outcomes, watch
from mutbot.github.publish import Target, publish
from mutbot.github.remote import Remote
from mutbot.ledger.model import Entry, evaluated
from mutbot.ledger.store import FileLedger
from mutbot.ledger.views import fold, history
from mutbot.monitor.prometheus import Prometheus
from testing.github_events import merge
from testing.github_world import World, github_world, proposed, results
from testing.local_server import LocalServer
from testing.prometheus import Player, Scene, exporter, prometheus, sleep_until, wait_for_samples
from testing.repos import git

THREADS = "Serve requests from 8 worker threads"
CACHE = "Enable a 1024-entry price cache"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path / "w") as w:
        yield w


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


class Outage:
    """A stand-in for Prometheus's query_range API: an empty 503 (a proxy in front of a
    Prometheus that is down) while `down`, else a steady series (100 ± 2) for any query but
    `absent`, which matches no series."""

    def __init__(self) -> None:
        self.down = True
        outage = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                payload = b""
                if not outage.down:
                    start, end, step = (float(query[k][0]) for k in ("start", "end", "step"))
                    times = [start + i * step for i in range(int((end - start) / step) + 1)]
                    values = [[at, str(98.0 + int(at / step) * 7919 % 5)] for at in times]
                    series = [{"metric": {}, "values": values}]
                    if query["query"] == ["absent"]:
                        series = []  # a query that matches no series
                    data = {"resultType": "matrix", "result": series}
                    payload = json.dumps({"status": "success", "data": data}).encode()
                self.send_response(503 if outage.down else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = LocalServer(Handler)
        self.url = self.server.url


MERGED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY = 86_400.0


def merged_ledger(path: Path) -> FileLedger:
    ledger = FileLedger(path)
    at = MERGED_AT.isoformat()
    ledger.append(
        [
            Entry(event="evaluated", at=at, fingerprint="0123456789ab", title=THREADS),
            Entry(
                event="outcome",
                at=at,
                fingerprint="0123456789ab",
                outcome="merged",
                merged_at=at,
                pr_number=12,
            ),
        ]
    )
    return ledger


def watch_at(
    ledger: FileLedger,
    url: str,
    days: float,
    lines: list[str],
    queries: dict[str, str] | None = None,
) -> list[str]:
    """The production statuses one watch `days` after the merge recorded."""
    production = Production.model_validate(
        {
            "prometheus": url,
            "queries": queries or {"latency_p95_ms": "p95"},
            "window": "1h",
            "step": "5m",
        }
    )
    now = MERGED_AT.timestamp() + days * DAY
    with Prometheus(url, 5.0) as client:
        watch(ledger, production, client, now, lines.append)
    return [e.production["status"] for e in ledger.read() if e.production]


@pytest.fixture
def stub() -> Iterator[Outage]:
    outage = Outage()
    outage.server.start()
    yield outage
    outage.server.stop()


def test_a_prometheus_outage_is_not_a_verdict(tmp_path: Path, stub: Outage) -> None:
    """No data is retried until `watch_for` (7 days) has passed since the merge; once
    Prometheus answers again the merge gets its real verdict."""
    ledger = merged_ledger(tmp_path / "ledger.jsonl")
    lines: list[str] = []
    assert watch_at(ledger, stub.url, 1, lines) == []
    assert "HTTP 503" in lines[-1]
    assert "not final, watched again until 2026-03-09T10:00:00+00:00" in lines[-1]
    assert watch_at(ledger, stub.url, 6.9, lines) == []
    stub.down = False
    assert watch_at(ledger, stub.url, 6.95, lines) == ["fine"]


def test_no_data_is_final_once_the_watch_is_over(tmp_path: Path, stub: Outage) -> None:
    ledger = merged_ledger(tmp_path / "ledger.jsonl")
    assert watch_at(ledger, stub.url, 2, []) == []
    assert watch_at(ledger, stub.url, 7 + 1 / 24, []) == ["no data"]
    assert watch_at(ledger, stub.url, 9, []) == ["no data"]  # judged once
    record = fold(ledger.read())["0123456789ab"]
    assert record.production is not None and record.production["revert"] is False
    assert record.production["reason"].startswith("no data: ")
    assert record.outcome == "merged"


def test_a_metric_without_data_keeps_the_watch_open(tmp_path: Path, stub: Outage) -> None:
    """ "Fine, but no data for the error rate" is not final either until the watch is over."""
    ledger = merged_ledger(tmp_path / "ledger.jsonl")
    stub.down = False
    queries = {"latency_p95_ms": "p95", "error_rate": "absent"}
    lines: list[str] = []
    assert watch_at(ledger, stub.url, 1, lines, queries) == []
    assert "no data for error_rate; not final" in lines[-1]
    assert watch_at(ledger, stub.url, 8, lines, queries) == ["fine"]
    record = fold(ledger.read())["0123456789ab"]
    assert record.production is not None
    assert [v["status"] for v in record.production["verdicts"]] == ["fine", "no data"]
