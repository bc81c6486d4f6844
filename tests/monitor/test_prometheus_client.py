from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from mutbot.monitor import MonitorError
from mutbot.monitor.prometheus import Prometheus
from testing.local_server import LocalServer
from testing.prometheus import (
    JITTER,
    Player,
    Scene,
    exporter,
    prometheus,
    sleep_until,
    wait_for_samples,
)

pytestmark = pytest.mark.slow  # the first scrape comes ~5 s after Prometheus starts

LATENCY = 'app_latency_p95_seconds{scenario="a"} * 1000'


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, float]]:
    """A real Prometheus with a few seconds of two steady scenes; yields (URL, first sample)."""
    player = Player({"a": Scene((100.0, 100.0), (0.01, 0.01)), "b": Scene((50.0, 50.0), (0, 0))})
    with exporter(player) as target, prometheus([target]) as url:
        first = wait_for_samples(url, LATENCY)
        sleep_until(first + 3.0)
        yield url, first


def query_range(
    url: str, query: str, start: float, end: float, timeout: float = 10.0
) -> list[tuple[float, float]]:
    with Prometheus(url, timeout) as client:
        return client.range(query, start, end, 1.0)


def test_a_range_query_returns_the_played_values(server: tuple[str, float]) -> None:
    url, first = server
    start = float(int(first)) + 1.0
    samples = query_range(url, LATENCY, start, start + 2.0)
    assert [at for at, _ in samples] == [start, start + 1.0, start + 2.0]
    played = [100.0 * (1.0 + jitter) for jitter in JITTER]  # 100 ms, moved by ±2% per second
    assert all(min(abs(value - p) for p in played) < 1e-9 for _, value in samples), samples


def test_no_series_is_an_empty_list(server: tuple[str, float]) -> None:
    url, first = server
    query = 'app_latency_p95_seconds{scenario="none"}'
    assert query_range(url, query, first, first + 2.0) == []


def test_nan_and_infinite_values_are_dropped(server: tuple[str, float]) -> None:
    url, first = server
    infinite = 'app_latency_p95_seconds{scenario="a"} / 0'
    assert query_range(url, infinite, first + 1, first + 2) == []
    assert query_range(url, f"({infinite}) * 0", first + 1, first + 2) == []  # NaN


def test_several_series_must_be_aggregated(server: tuple[str, float]) -> None:
    url, first = server
    with pytest.raises(MonitorError) as caught:
        query_range(url, "app_latency_p95_seconds", first + 1, first + 2)
    message = str(caught.value)
    assert message.startswith("Prometheus query 'app_latency_p95_seconds' returned 2 series (")
    assert "scenario='a'" in message and "scenario='b'" in message
    assert message.endswith("it must return one: aggregate it, e.g. sum(...) or max(...)")


def test_a_bad_query_names_prometheus_error(server: tuple[str, float]) -> None:
    url, first = server
    with pytest.raises(MonitorError) as caught:
        query_range(url, "sum(", first, first + 2.0)
    assert str(caught.value).startswith("Prometheus rejected 'sum(': bad_data: ")
    assert "parse error" in str(caught.value)


def test_a_closed_port_cannot_be_reached() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(MonitorError) as caught:
        query_range(url, "up", 0.0, 1.0)
    assert str(caught.value).startswith(f"Prometheus {url}: cannot reach it (")
    assert "Connection refused" in str(caught.value)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections in its backlog, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        begun = time.monotonic()
        with pytest.raises(MonitorError) as caught:
            query_range(url, "up", 0.0, 1.0, timeout=0.3)
        assert time.monotonic() - begun < 5
    assert str(caught.value) == f"Prometheus {url}: no answer within 0.3 s"


class _BadGateway(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>bad gateway</html>"
        self.send_response(502)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_http_error_without_prometheus_json_names_the_status() -> None:
    proxy = LocalServer(_BadGateway)
    proxy.start()
    try:
        with pytest.raises(MonitorError) as caught:
            query_range(proxy.url + "/", "up", 0.0, 1.0)
    finally:
        proxy.stop()
    assert str(caught.value) == f"Prometheus {proxy.url}/api/v1/query_range: HTTP 502 Bad Gateway"
