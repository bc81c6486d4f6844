"""Figures that read right (pure): the load in words, and the score table's order and labels for
it. In a closed loop every user sends its next request when the last one answers, so a faster
service does more work: CPU used and cost at measured use grow with it, and read like
regressions. Such a pull request leads with per-request figures and says why the absolute ones
grew; under open-loop load both sides served the same arrivals, so the absolute figures compare
at equal load and say so."""

from __future__ import annotations

import math

from mutbot.metrics import METRICS
from mutbot.results import CandidateResult, RunResult

PER_REQUEST = (
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "cpu_ms_per_request",
    "cost_per_mreq_usd",
    "cost_limits_per_mreq_usd",
    "error_rate",
)
AT_USE = ("cpu_cores_mean", "cost_month_usd")  # totals that follow the work done


def open_loop(run: RunResult) -> bool:
    return str(run.load.get("model", "closed")).startswith("open")


def load_brief(run: RunResult) -> str:
    """ "20 concurrent users (closed loop)" or "108 req/s arriving (open loop)"."""
    model = str(run.load.get("model", "closed"))
    if model.startswith("open, "):
        return f"{model.removeprefix('open, ')} arriving (open loop)"
    return f"{run.load.get('users')} concurrent users (closed loop)"


def load_text(run: RunResult) -> str:
    """The load in words: "20 Locust users (closed loop)" or "open loop at 17 req/s (8 Locust
    workers)", and how it was chosen when the run says."""
    model, users = str(run.load.get("model", "closed")), run.load.get("users")
    if model.startswith("open, "):
        text = f"open loop at {model.removeprefix('open, ')} ({users} Locust workers)"
    else:
        text = f"{users} Locust users ({model} loop)"
    chosen = run.load.get("chosen")
    return f"{text}; {chosen}" if chosen else text


def table_order(names: list[str], run: RunResult) -> list[str]:
    """Closed loop: per-request figures first, the rest as they were."""
    if open_loop(run):
        return names
    return [n for n in names if n in PER_REQUEST] + [n for n in names if n not in PER_REQUEST]


def table_label(name: str, run: RunResult) -> str:
    label = METRICS[name].label
    return f"{label} (at equal load)" if open_loop(run) and name in AT_USE else label


def at_use_note(candidate: CandidateResult, run: RunResult) -> str | None:
    """Closed loop: one line on why CPU used and cost at measured use moved with the work."""
    comps = candidate.comparisons
    if open_loop(run) or not any(name in comps for name in AT_USE):
        return None
    throughput = comps.get("throughput_rps")
    if throughput is None or not math.isfinite(throughput.change):
        return None
    served = 1 + throughput.change
    text = (
        f"In a closed loop a faster service is sent more work: the candidate served {served:.2f}× "
        f"the baseline's requests, so CPU used and cost at measured use grow with that work"
    )
    per = [
        f"{METRICS[name].label} {comps[name].change:+.1%}"
        for name in ("cpu_ms_per_request", "cost_per_mreq_usd")
        if name in comps and math.isfinite(comps[name].change)
    ]
    return text + (f"; per request: {', '.join(per)}." if per else ".")
