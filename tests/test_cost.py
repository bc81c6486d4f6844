"""Tests for src/mutbot/cost.py: dollars per month and per million requests."""

from __future__ import annotations

import math

import pytest

from mutbot.config import Cost
from mutbot.cost import HOURS_PER_MONTH, cost_per_million, monthly_cost

GIB = 1024**3
FARGATE = Cost()  # the defaults: Fargate on-demand prices


def test_default_prices_are_fargate() -> None:
    assert (FARGATE.vcpu_hour_usd, FARGATE.gb_hour_usd) == (0.04048, 0.004445)
    assert HOURS_PER_MONTH == 730.0


def test_monthly_cost_one_vcpu_two_gib() -> None:
    expected = 730 * (0.04048 + 2 * 0.004445)
    assert monthly_cost(1.0, 2 * GIB, FARGATE) == pytest.approx(expected)
    assert monthly_cost(1.0, 2 * GIB, FARGATE) == pytest.approx(36.0401)


def test_monthly_cost_parts() -> None:
    assert monthly_cost(0.0, 0, FARGATE) == 0.0
    assert monthly_cost(0.5, 0, FARGATE) == pytest.approx(0.5 * 0.04048 * 730)
    assert monthly_cost(0.0, 256 * 1024**2, FARGATE) == pytest.approx(0.25 * 0.004445 * 730)


def test_monthly_cost_uses_configured_prices() -> None:
    prices = Cost(vcpu_hour_usd=0.1, gb_hour_usd=0.01)
    assert monthly_cost(2.0, GIB, prices) == pytest.approx(730 * (0.2 + 0.01))


def test_cost_per_million() -> None:
    hourly = 0.04048 + 2 * 0.004445
    # 100 req/s is 360,000 requests an hour
    expected = hourly / 360_000 * 1e6
    assert cost_per_million(1.0, 2 * GIB, 100.0, FARGATE) == pytest.approx(expected)


def test_cost_per_million_halves_when_throughput_doubles() -> None:
    slow = cost_per_million(1.0, GIB, 50.0, FARGATE)
    fast = cost_per_million(1.0, GIB, 100.0, FARGATE)
    assert fast == pytest.approx(slow / 2)


@pytest.mark.parametrize("throughput", [0.0, -1.0])
def test_cost_per_million_without_throughput_is_nan(throughput: float) -> None:
    assert math.isnan(cost_per_million(1.0, GIB, throughput, FARGATE))
