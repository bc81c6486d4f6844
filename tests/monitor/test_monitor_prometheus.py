"""End to end: a real Prometheus scrapes gauges that play ~12 s before a merge and ~12 s after
it, and the monitor compares a 10 s window on each side, as it would 24 h in production."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from mutbot.config import Production
from mutbot.monitor.compare import Verdict, decide, windows
from mutbot.monitor.prometheus import Prometheus, observe
from testing.prometheus import Player, Scene, exporter, prometheus, sleep_until, wait_for_samples

pytestmark = pytest.mark.slow  # about 25 s for the whole module: one played timeline

SCENES = {
    "regression": Scene(latency_ms=(100.0, 150.0), error_rate=(0.01, 0.08)),
    "improvement": Scene(latency_ms=(100.0, 80.0), error_rate=(0.01, 0.01)),
}
PREDICTED = {"latency_p95_ms": -0.2}  # the sandbox measured 20% lower p95 latency


def settings(url: str, scenario: str) -> Production:
    return Production.model_validate(
        {
            "prometheus": url,
            "queries": {
                "latency_p95_ms": f'app_latency_p95_seconds{{scenario="{scenario}"}} * 1000',
                "error_rate": f'app_error_ratio{{scenario="{scenario}"}}',
            },
            "window": "10s",
            "step": "1s",
            "settle": "2s",
            "timeout": "5s",
        }
    )


@pytest.fixture(scope="module")
def played() -> Iterator[tuple[str, float, float]]:
    """Yields (Prometheus URL, merged_at, now) once both windows are over."""
    player = Player(SCENES)
    with exporter(player) as target, prometheus([target]) as url:
        first = wait_for_samples(url, "app_error_ratio")
        merged_at = first + 11.0  # the before window is fully scraped by then
        sleep_until(merged_at)
        time.sleep(0.5)  # the deploy lands just after the merge, as in production
        player.switch()
        sleep_until(merged_at + 2.0 + 10.0 + 1.5)  # settle, window, the last scrape
        yield url, merged_at, time.time()


def verdicts_for(played: tuple[str, float, float], scenario: str) -> dict[str, Verdict]:
    url, merged_at, now = played
    production = settings(url, scenario)
    span = windows(merged_at, now, production)
    assert span is not None
    with Prometheus(url, production.timeout) as client:
        verdicts = observe(client, production, span, PREDICTED, 0.05)
    return {v.metric: v for v in verdicts}


def test_a_played_regression_is_reverted(played: tuple[str, float, float]) -> None:
    verdicts = verdicts_for(played, "regression")
    assert {m: v.status for m, v in verdicts.items()} == {
        "latency_p95_ms": "regressed",
        "error_rate": "regressed",
    }
    assert verdicts["error_rate"].change == pytest.approx(0.07, abs=0.005)  # absolute
    revert, reason = decide(list(verdicts.values()))
    assert revert
    assert verdicts["latency_p95_ms"].change == pytest.approx(0.5, abs=0.04)
    assert "p95 latency significantly worse: +" in reason
    assert "error rate 8." in reason and "above the 5.00% limit" in reason


def test_a_played_improvement_as_predicted_is_fine(played: tuple[str, float, float]) -> None:
    verdicts = verdicts_for(played, "improvement")
    latency = verdicts["latency_p95_ms"]
    assert latency.status == "fine", latency.reason
    assert latency.pairs == 11
    assert latency.change == pytest.approx(-0.2, abs=0.04)
    assert latency.before == pytest.approx(100.0, rel=0.03)
    assert latency.after == pytest.approx(80.0, rel=0.03)
    assert verdicts["error_rate"].status == "fine"
    assert decide(list(verdicts.values()))[0] is False


def test_an_empty_query_is_no_data_never_fine(played: tuple[str, float, float]) -> None:
    verdicts = verdicts_for(played, "absent")
    assert [v.status for v in verdicts.values()] == ["no data", "no data"]
    revert, reason = decide(list(verdicts.values()))
    assert not revert and reason.startswith("no data: p95 latency: 0 usable pairs")


def test_an_unreachable_prometheus_is_no_data() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    production = settings(url, "regression")
    span = windows(1_000.0, 2_000.0, production)
    assert span is not None
    with Prometheus(url, 2.0) as client:
        verdicts = observe(client, production, span, PREDICTED, 0.05)
    assert [v.status for v in verdicts] == ["no data", "no data"]
    revert, reason = decide(verdicts)
    assert not revert
    assert reason.startswith(f"no data: Prometheus {url}: cannot reach it (")
