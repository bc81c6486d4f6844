"""A real Prometheus server on 127.0.0.1 scraping an in-process exporter whose gauges a test
"plays": values before a switch, other values after it (a regression, an improvement).

    with exporter(player) as target, prometheus([target]) as url:
        ...  # Prometheus scrapes every second; query url + /api/v1/query_range

Prometheus is Debian's `prometheus` package (/usr/bin/prometheus), started as our own process
with a temporary config and storage; its packaged service plays no part.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

BINARY = "/usr/bin/prometheus"
LATENCY = "app_latency_p95_seconds"
ERRORS = "app_error_ratio"
# Multiplied into every value, by the scrape's whole second: series that move a little, as
# real ones do, instead of ties everywhere. Deterministic, so a run can be reasoned about.
JITTER = (0.0, 0.02, -0.015, 0.01, -0.02, 0.005, -0.005, 0.015, -0.01)
CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: player
    static_configs:
      - targets: [{targets}]
"""


def require_prometheus() -> str:
    """The binary's path; the test fails, naming the fix, where it is missing (CI installs it)."""
    found = shutil.which("prometheus") or (BINARY if Path(BINARY).exists() else None)
    if found is None:
        pytest.fail(f"no Prometheus at {BINARY}: apt-get install -y prometheus (.ci/run does)")
    return found


@dataclass(frozen=True)
class Scene:
    """One scenario (the `scenario` label): (before, after) values of each gauge."""

    latency_ms: tuple[float, float]
    error_rate: tuple[float, float]


class Player(Collector):
    """Gauges per scene, labelled scenario=<name>; `switch()` moves every scene to its after."""

    def __init__(self, scenes: dict[str, Scene]) -> None:
        self.scenes = scenes
        self.switched_at: float | None = None
        self._lock = threading.Lock()

    def switch(self) -> float:
        with self._lock:
            self.switched_at = time.time()
            return self.switched_at

    def value(self, scene: Scene, gauge: str, at: float) -> float:
        with self._lock:
            after = self.switched_at is not None and at >= self.switched_at
        before_after = scene.latency_ms if gauge == LATENCY else scene.error_rate
        base = before_after[1] if after else before_after[0]
        if gauge == LATENCY:
            base /= 1000.0
        return base * (1.0 + JITTER[int(at) % len(JITTER)])

    def collect(self) -> Iterable[Metric]:
        now = time.time()
        latency = GaugeMetricFamily(LATENCY, "p95 latency", labels=["scenario"])
        errors = GaugeMetricFamily(ERRORS, "share of failed requests", labels=["scenario"])
        for name, scene in self.scenes.items():
            latency.add_metric([name], self.value(scene, LATENCY, now))
            errors.add_metric([name], self.value(scene, ERRORS, now))
        return [latency, errors]


@contextmanager
def exporter(player: Player) -> Iterator[str]:
    """Serves the player's gauges on 127.0.0.1; yields the scrape target host:port."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(player)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def prometheus(targets: list[str], ready_timeout: float = 30.0) -> Iterator[str]:
    """A Prometheus scraping `targets` every second; yields its base URL. Stopped and its
    storage removed on exit, whatever happened inside."""
    binary = require_prometheus()
    folder = Path(tempfile.mkdtemp(prefix="mutbot-prometheus-"))
    try:
        (folder / "prometheus.yml").write_text(
            CONFIG.format(targets=", ".join(f"'{t}'" for t in targets))
        )
        port = _free_port()
        log = (folder / "prometheus.log").open("wb")
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, process, folder / "prometheus.log", ready_timeout)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_samples(url: str, query: str, timeout: float = 20.0) -> float:
    """Waits until an instant query has a value; returns the time it first did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=5).json()
        if answer["data"]["result"]:
            return time.time()
        time.sleep(0.2)
    raise AssertionError(f"Prometheus at {url} has no sample for {query!r} after {timeout:g} s")


def sleep_until(moment: float) -> None:
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 0.5))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"Prometheus exited with {process.returncode}:\n{tail}")
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"Prometheus at {url} not ready after {timeout:g} s")
