"""Production monitoring of merged mutations: a Prometheus client at the edge (prometheus.py)
and the pure before/after comparison that decides whether to propose a revert (compare.py)."""

from __future__ import annotations

from mutbot.errors import MonitorError  # Prometheus unreachable or a query refused (exit 10)

__all__ = ["MonitorError"]
