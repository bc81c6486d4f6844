"""The edge over Prometheus's HTTP API: range queries, every failure a one-line MonitorError.

Only `/api/v1/query_range` is used. A query must return a single series (aggregate it in PromQL,
e.g. `histogram_quantile(0.95, sum by (le) (rate(...[5m])))`); no series at all is an empty
list, which the comparison reports as "no data"."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import requests

from mutbot.config import Production
from mutbot.monitor import MonitorError
from mutbot.monitor.compare import Limits, Verdict, Window, compare_windows, no_data

Sample = tuple[float, float]  # (epoch seconds, value)


class Prometheus:
    def __init__(self, url: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Prometheus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def range(self, query: str, start: float, end: float, step: float) -> list[Sample]:
        """The query's single series at start, start + step, ... end; NaN and ±Inf dropped."""
        body = self._get(
            "/api/v1/query_range",
            {"query": query, "start": repr(start), "end": repr(end), "step": repr(step)},
            query,
        )
        data = body.get("data")
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            kind = data.get("resultType") if isinstance(data, dict) else None
            raise MonitorError(f"Prometheus {self.url}: {query!r} gave a {kind}, not a matrix")
        series = data.get("result") or []
        if len(series) > 1:
            labels = ", ".join(_labels(s) for s in series[:3])
            raise MonitorError(
                f"Prometheus query {query!r} returned {len(series)} series ({labels}); "
                "it must return one: aggregate it, e.g. sum(...) or max(...)"
            )
        if not series:
            return []
        return _samples(series[0].get("values") or [], query)

    def _get(self, path: str, params: dict[str, str], query: str) -> dict[str, Any]:
        # Prometheus stops evaluating at its own timeout too, so a slow query ends on both sides
        params = {**params, "timeout": f"{self.timeout:g}s"}
        try:
            response = self._session.get(self.url + path, params=params, timeout=self.timeout)
        except requests.Timeout:
            raise MonitorError(
                f"Prometheus {self.url}: no answer within {self.timeout:g} s"
            ) from None
        except requests.RequestException as exc:
            raise MonitorError(f"Prometheus {self.url}: cannot reach it ({_short(exc)})") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("status") == "error":
            raise MonitorError(
                f"Prometheus rejected {query!r}: {body.get('errorType', 'error')}: "
                f"{body.get('error', 'no message')}"
            )
        if response.status_code != 200 or not isinstance(body, dict):
            raise MonitorError(
                f"Prometheus {self.url}{path}: HTTP {response.status_code} "
                f"{response.reason or ''}".rstrip()
            )
        return body


def _samples(values: list[Any], query: str) -> list[Sample]:
    samples = []
    for item in values:
        try:
            at, value = float(item[0]), float(item[1])  # Prometheus sends values as strings
        except (TypeError, ValueError, IndexError):
            raise MonitorError(f"Prometheus sent a bad sample for {query!r}: {item!r}") from None
        if math.isfinite(value):
            samples.append((at, value))
    return samples


def _labels(series: dict[str, Any]) -> str:
    metric = series.get("metric") or {}
    return "{" + ",".join(f"{k}={v!r}" for k, v in sorted(metric.items())) + "}"


def _short(exc: Exception) -> str:
    """requests nests the socket error deep in its message; the innermost reason is enough."""
    reason: BaseException = exc
    while reason.__context__ is not None or reason.__cause__ is not None:
        reason = reason.__cause__ or reason.__context__  # type: ignore[assignment]
    return str(reason) or type(reason).__name__


def observe(
    client: Prometheus,
    production: Production,
    span: tuple[Window, Window],
    predicted: Mapping[str, float],
    alpha: float,
) -> list[Verdict]:
    """Every configured metric's verdict for one merge; a query that fails is "no data" (with
    Prometheus's reason), never "fine". `predicted`: the sandbox's change per metric (primary)."""
    limits = Limits.of(production, alpha)
    verdicts = []
    for metric, query in production.queries.items():
        try:
            before, after = (client.range(query, w.start, w.end, w.step) for w in span)
        except MonitorError as exc:
            verdicts.append(no_data(metric, str(exc), predicted.get(metric)))
            continue
        verdicts.append(
            compare_windows(
                before,
                after,
                metric=metric,
                predicted_change=predicted.get(metric),
                limits=limits,
                span=span,
            )
        )
    return verdicts
