"""After a mutbot pull request is merged, the open mutbot pull requests of its conflict set
would conflict: each is closed with "superseded by #N", recorded first in the ledger as
`superseded` — not as "closed", which the proposers learn from as a maintainer's no. The next
run measures the setting again on the new base, where a fresh candidate may stand."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mutbot.conflicts import Footprint, conflict, footprint, from_data
from mutbot.errors import GitHubError
from mutbot.feedback import sync_outcomes
from mutbot.github.body import marker_fingerprint, read_marker
from mutbot.github.client import GitHub
from mutbot.github.remote import Remote
from mutbot.github.types import PullInfo
from mutbot.ledger.model import Entry, now
from mutbot.ledger.store import Ledger
from mutbot.ledger.views import fold
from mutbot.report import defuse

Log = Callable[[str], None]


def sync(ledger: Ledger, gh: GitHub, remote: Remote, log: Log) -> list[Entry]:
    """The outcome sync, then: every merge it found supersedes the open alternatives."""
    new = sync_outcomes(ledger, gh, remote, log)
    for entry in new:
        if entry.outcome == "merged" and entry.pr_number is not None:
            supersede(gh, ledger, entry.pr_number, log)
    return new


def fingerprint_of(pull: PullInfo) -> str | None:
    return marker_fingerprint(pull.body)


def touches(pull: PullInfo, ledger_diff: str | None = None) -> Footprint | None:
    """What a mutbot pull request changes: its marker's, else its diff's from the ledger."""
    found = from_data((read_marker(pull.body) or {}).get("touches"))
    if found is None and ledger_diff:
        return footprint(ledger_diff)
    return found


def supersede(gh: GitHub, ledger: Ledger, merged: int, log: Log) -> list[int]:
    """Closes the open mutbot pull requests that conflict with merged #`merged`; returns their
    numbers. A failure to close one is logged: the next run tries again."""
    pull = gh.pull(merged)
    records = fold(ledger.read())
    fp = fingerprint_of(pull)
    record = records.get(fp) if fp else None
    mine = touches(pull, record.diff if record else None)
    if not pull.merged or mine is None:
        return []
    closed = []
    for other in _open(gh, merged):
        other_fp = fingerprint_of(other)
        theirs = touches(other)
        why = conflict(mine, theirs) if theirs is not None else None
        if other_fp is None or why is None:
            continue
        try:
            _close(gh, ledger, merged, other, other_fp, why)
        except GitHubError as exc:
            log(f"#{other.number}: superseded by #{merged} but not closed: {exc}")
            continue
        log(f"#{other.number}: superseded by #{merged} ({why}): closed")
        closed.append(other.number)
    return closed


def _open(gh: GitHub, merged: int) -> Sequence[PullInfo]:
    return [p for p in gh.open_pulls("mutbot", branch_prefix="mutbot/") if p.number != merged]


def _close(gh: GitHub, ledger: Ledger, merged: int, pull: PullInfo, fp: str, why: str) -> None:
    ledger.append(
        [
            Entry(
                at=now(),
                event="superseded",
                fingerprint=fp,
                pr_number=pull.number,
                pr_url=pull.url,
                branch=pull.head,
                outcome="superseded",
                note=f"superseded by #{merged}: {why}",
            )
        ]
    )
    gh.comment(
        pull.number,
        f"Superseded by #{merged}: {defuse(why)}, so merging this one now would conflict. mutbot "
        "closes it; this is not counted as a refusal. The next run measures this setting again "
        f"on the new base, with #{merged} in it.",
    )
    gh.close_pull(pull.number)
