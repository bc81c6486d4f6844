"""The feedback loop's steps that talk to the outside world: syncing what became of mutbot's
pull requests, and watching merged mutations in production. What to conclude is decided by pure
code (`ledger.views`, `monitor.compare`); this module reads, asks and records — in the ledger,
before acting on it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mutbot.config import Production
from mutbot.github.client import GitHub
from mutbot.github.remote import Remote
from mutbot.github.revert import open_revert
from mutbot.github.summary import Published
from mutbot.ledger.model import Entry
from mutbot.ledger.store import Ledger
from mutbot.ledger.views import Record, fold
from mutbot.monitor.compare import Verdict, decide, windows
from mutbot.monitor.prometheus import Prometheus, observe
from mutbot.report import change, fmt, p_text

Log = Callable[[str], None]
# closed by mutbot, with the ledger entry saying why written first: never read back as "closed"
MUTBOT_CLOSED = ("ignored", "superseded")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sync_outcomes(ledger: Ledger, gh: GitHub, remote: Remote, log: Log) -> list[Entry]:
    """Outcome entries for mutbot pull requests whose state changed since the ledger last saw
    them; also finds a pull request whose opening was never recorded (a crash after opening)."""
    new: list[Entry] = []
    for record in fold(ledger.read()).values():
        entry = _outcome(record, gh, remote)
        if entry is not None:
            log(f"{record.title or record.fingerprint}: {entry.outcome}")
            new.append(entry)
    if new:
        ledger.append(new)
    return new


def _outcome(record: Record, gh: GitHub, remote: Remote) -> Entry | None:
    if record.branch is None or record.outcome in ("closed", "reverted", *MUTBOT_CLOSED):
        return None
    base = {"event": "outcome", "at": _now(), "fingerprint": record.fingerprint}
    if record.outcome == "merged":
        if record.revert_pr is None:
            return None
        revert = gh.pull(record.revert_pr)
        return Entry.model_validate({**base, "outcome": "reverted"}) if revert.merged else None
    pull = gh.find_pull(record.branch)
    if pull is None:
        return None
    where = {"pr_number": pull.number, "pr_url": pull.url, "branch": pull.head}
    if pull.merged and pull.merge_commit_sha:
        merged_at = remote.commit_time(pull.merge_commit_sha, pull.base)
        return Entry.model_validate(
            {
                **base,
                **where,
                "outcome": "merged",
                "merge_sha": pull.merge_commit_sha,
                "merged_at": merged_at,
            }
        )
    if pull.state == "closed":
        return Entry.model_validate({**base, **where, "outcome": "closed"})
    if record.outcome is None:
        return Entry.model_validate({**base, **where, "outcome": "open"})
    return None


@dataclass(frozen=True)
class Watched:
    record: Record
    verdicts: list[Verdict]
    revert: bool
    reason: str
    revert_pr: Published | None = None


def watch(
    ledger: Ledger,
    production: Production,
    prometheus: Prometheus,
    now: float,
    log: Log,
    alpha: float = 0.05,
) -> list[Watched]:
    """Judge every merged mutation whose after-window has passed and that was not judged yet.

    A verdict is final (a `production` entry) when it calls for a revert, when every metric
    had data, or once `production.watch_for` has passed since the merge. Before that, a metric
    without data (Prometheus down, too few samples) is not a verdict: the merge is only
    logged, and watched again on the next run."""
    done = []
    for record in fold(ledger.read()).values():
        if record.outcome != "merged" or record.production or not record.merged_at:
            continue
        merged = datetime.fromisoformat(record.merged_at).timestamp()
        spans = windows(merged, now, production)
        if spans is None:
            log(f"{record.title}: merged {record.merged_at}; the after-window is not over yet")
            continue
        predicted = {record.primary: record.change} if record.primary and record.change else {}
        verdicts = observe(prometheus, production, spans, predicted, alpha)
        revert, reason = decide(verdicts)
        until = merged + production.watch_for
        if not revert and any(v.status == "no data" for v in verdicts) and now < until:
            stamp = datetime.fromtimestamp(until, UTC).isoformat(timespec="seconds")
            log(f"{record.title}: {reason}; not final, watched again until {stamp}")
            continue
        status = (
            "no data"
            if all(v.status == "no data" for v in verdicts)
            else ("revert" if revert else "fine")
        )
        ledger.append(
            [
                Entry.model_validate(
                    {
                        "event": "production",
                        "at": _now(),
                        "fingerprint": record.fingerprint,
                        "production": {
                            "status": status,
                            "revert": revert,
                            "reason": reason,
                            "verdicts": [_plain(asdict(v)) for v in verdicts],
                        },
                    }
                )
            ]
        )
        log(f"{record.title}: {reason}")
        done.append(Watched(record, verdicts, revert, reason))
    return done


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: a figure that could not be computed is null."""
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in data.items()
    }


def revert_regressions(
    watched: list[Watched], ledger: Ledger, gh: GitHub, remote: Remote, base_branch: str, log: Log
) -> list[Published]:
    opened = []
    for item in watched:
        if not item.revert or item.record.pr_number is None:
            continue
        why = "mutbot's production monitor found this merge harmful:\n\n" + evidence(item)
        done = open_revert(gh, remote, item.record.pr_number, base_branch, why)
        number = int(done.url.rsplit("/", 1)[-1]) if done.url else None
        ledger.append(
            [
                Entry.model_validate(
                    {
                        "event": "revert-opened",
                        "at": _now(),
                        "fingerprint": item.record.fingerprint,
                        "revert_pr": number,
                        "note": item.reason,
                    }
                )
            ]
        )
        log(f"{item.record.title}: revert pull request {done.url}")
        opened.append(done)
    return opened


def evidence(item: Watched) -> str:
    """The table a revert pull request carries: before and after the merge, per metric."""
    rows = [
        "| metric | before merge | after merge | change | CI | p (worse) | pairs | predicted "
        "| status |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for v in item.verdicts:
        predicted = change(v.metric, v.predicted) if v.predicted is not None else ""
        interval = f"{change(v.metric, v.ci_low)}…{change(v.metric, v.ci_high)}"
        rows.append(
            f"| {v.metric} | {fmt(v.metric, v.before)} | {fmt(v.metric, v.after)} | "
            f"{change(v.metric, v.change)} | {interval} | {p_text(v.p)} | {v.pairs} | "
            f"{predicted} | {v.status} |"
        )
    pr = f" (#{item.record.pr_number}, {item.record.pr_url})" if item.record.pr_url else ""
    return "\n".join([*rows, "", f"**{item.reason}**", "", f"Original pull request{pr}."])
