"""Dollars per month at the configured prices (pure)."""

from __future__ import annotations

from mutbot.config import Cost

HOURS_PER_MONTH = 730.0  # 365 * 24 / 12


def monthly_cost(cores: float, memory_bytes: float, prices: Cost) -> float:
    """An always-on instance with this many vCPUs and this much memory, for one month."""
    gigabytes = memory_bytes / 1024**3
    hourly = cores * prices.vcpu_hour_usd + gigabytes * prices.gb_hour_usd
    return hourly * HOURS_PER_MONTH


def cost_per_million(
    cores: float, memory_bytes: float, throughput_rps: float, prices: Cost
) -> float:
    """What a million requests cost at the measured usage and throughput."""
    if throughput_rps <= 0:
        return float("nan")
    hourly = monthly_cost(cores, memory_bytes, prices) / HOURS_PER_MONTH
    return hourly / (throughput_rps * 3600) * 1e6
