"""The feedback loop inside `mutbot action` and `mutbot monitor`: the ledger on the
`mutbot/ledger` branch, outcome sync, history for the proposers, production monitoring."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from mutbot.config import Config
from mutbot.feedback import revert_regressions, watch
from mutbot.github.client import GitHub
from mutbot.github.remote import Remote
from mutbot.github.summary import Published
from mutbot.github.superseded import sync
from mutbot.ledger.model import Entry
from mutbot.ledger.store import Ledger
from mutbot.monitor.prometheus import Prometheus

Log = Callable[[str], None]
CODEOWNERS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


def opened_at(entries: list[Entry]) -> tuple[datetime, ...]:
    """When mutbot opened pull requests, for policy.max_prs_per_week."""
    return tuple(datetime.fromisoformat(e.at) for e in entries if e.event == "pr-opened")


def codeowners(workspace: Path) -> str:
    for name in CODEOWNERS:
        if (workspace / name).is_file():
            return (workspace / name).read_text(encoding="utf-8", errors="replace")
    return ""


def monitor(
    config: Config, ledger: Ledger, gh: GitHub, workspace: Path, log: Log
) -> list[Published]:
    """Sync outcomes (closing what a merge superseded), judge merged mutations in production,
    open revert PRs where they hurt."""
    remote = Remote(workspace)
    sync(ledger, gh, remote, log)
    production = config.production
    if production is None:
        log("monitor: no production section in the config; nothing to watch")
        return []
    prometheus = Prometheus(production.prometheus, production.timeout)
    watched = watch(ledger, production, prometheus, time.time(), log, config.judge.alpha)
    return revert_regressions(watched, ledger, gh, remote, gh.default_branch(), log)
