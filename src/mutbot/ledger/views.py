"""What the ledger says, read from its events (pure): the current state of each candidate, the
history the proposers learn from, the `mutbot ledger` table and the fine-tuning export.

Export schema (`mutbot export --format jsonl`): one JSON object per line, one per evaluated
candidate, in the order first evaluated:

    {"fingerprint": "0123456789ab",
     "context": {"title", "kind", "category", "files", "rationale", "proposer", "base_commit"},
     "completion": "<the unified diff>",
     "labels": {"verdict": "propose | needs-review | inconclusive | reject",
                "stage": "<rejecting stage>|null",
                "reason": str, "primary": "<metric>|null",
                "predicted_change": "<relative change of primary, metric's own direction>|null",
                "improvement": "<the same, + = better>|null",
                "outcome": "open | merged | closed | reverted | ignored | superseded | null",
                "realised_change": "<production change of primary, metric's own direction>|null",
                "production": {<the monitor's verdict and figures>}|null}}

A consumer training on accepted changes keeps the lines whose `labels.outcome` is "merged".
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from pydantic import ConfigDict

from mutbot.ledger.model import Entry, Fields
from mutbot.metric_math import to_d
from mutbot.metrics import METRICS
from mutbot.proposers.base import HistoryEntry


class Record(Fields):
    """One candidate now: the latest value of each field across its events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    events: int
    first_at: str
    last_at: str
    last_event: str


def fold(entries: Iterable[Entry]) -> dict[str, Record]:
    """The current state of every candidate, in the order first seen. Events apply in ledger
    order; a reverted mutation stays reverted (its merged PR still reads "merged" in the API).
    A `forgotten` event takes the maintainer's refusal back: no outcome, and not settled, so a
    proposer may bring the change again. Events about a setting (`setting-ignored`, a
    `forgotten` naming a setting) are no candidate's: see `ignored_settings`."""
    state: dict[str, dict[str, object]] = {}
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.setting is not None:
            continue
        fp = entry.fingerprint
        fields = entry.model_dump(exclude_none=True, exclude={"version", "at", "event"})
        now = state.setdefault(fp, {"first_at": entry.at})
        if now.get("outcome") == "reverted":
            fields.pop("outcome", None)
        now.update(fields, last_at=entry.at, last_event=entry.event)
        if entry.event == "forgotten" and now.get("outcome") in FORGETTABLE:
            # no branch: the outcome sync leaves the closed pull request alone from now on
            for key in ("outcome", "branch"):
                now.pop(key, None)
            now["final"] = False
        counts[fp] = counts.get(fp, 0) + 1
    return {fp: Record.model_validate({**data, "events": counts[fp]}) for fp, data in state.items()}


FORGETTABLE = ("closed", "ignored")  # refusals the dashboard can take back


def forgiven(entries: Iterable[Entry]) -> frozenset[str]:
    """Fingerprints whose refusal was forgotten and not refused again since: publishing may
    open a new pull request for them, although their earlier one is closed."""
    found: set[str] = set()
    for entry in entries:
        if entry.setting is not None:
            continue
        if entry.event == "forgotten":
            found.add(entry.fingerprint)
        elif entry.outcome in FORGETTABLE:
            found.discard(entry.fingerprint)
    return frozenset(found)


def ignored_settings(entries: Iterable[Entry]) -> dict[str, Entry]:
    """The settings a maintainer asked mutbot never to change (`/mutate ignore setting NAME`),
    each with the event that asked, minus the ones forgotten since, in the order asked."""
    found: dict[str, Entry] = {}
    for entry in entries:
        if entry.setting is None:
            continue
        if entry.event == "setting-ignored":
            found.setdefault(entry.setting, entry)
        elif entry.event == "forgotten":
            found.pop(entry.setting, None)
    return found


def improvement(record: Fields) -> float | None:
    """The predicted change of the primary metric as + = better (error rate: absolute)."""
    if record.change is None or record.primary not in METRICS:
        return None
    return record.change if METRICS[record.primary].better == "higher" else -record.change


def measured_d(record: Fields) -> float | None:
    """The primary's measured change as a log ratio, + = better: the confirmation's when it
    had one, else the screening's (what the closed-loop search warm-starts from)."""
    change = record.change if record.change is not None else record.screened
    if change is None or record.primary not in METRICS:
        return None
    d = to_d(record.primary, change)
    return d if math.isfinite(d) else None


def realised(record: Fields) -> float | None:
    """The production change of the primary metric (its own direction): the monitor's `change`,
    or the `change` of the primary metric's entry in its `verdicts` list."""
    production = record.production or {}
    change = production.get("change")
    verdicts = production.get("verdicts")
    if change is None and isinstance(verdicts, list):
        for verdict in verdicts:
            if isinstance(verdict, dict) and verdict.get("metric") == record.primary:
                change = verdict.get("change")
    if isinstance(change, bool) or not isinstance(change, int | float):
        return None
    try:
        value = float(change)
    except OverflowError:  # 10**400: `parse` refuses it, an entry built in code may not
        return None
    return value if math.isfinite(value) else None


def outcome(record: Record) -> str | None:
    """The maintainer's outcome, "reverted" also when production asked for a revert."""
    production = record.production or {}
    if record.revert_pr is not None or production.get("revert") is True:
        return "reverted"
    return record.outcome


MAX_UNDECIDED = 3  # runs that could not decide a candidate before its last verdict stands


def undecided_runs(entries: Iterable[Entry]) -> dict[str, int]:
    """Per fingerprint, the evaluations that decided nothing (inconclusive, screened out)."""
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.event == "evaluated" and entry.final is False:
            counts[entry.fingerprint] = counts.get(entry.fingerprint, 0) + 1
    return counts


def settled(record: Record, undecided: int) -> bool:
    """Whether the latest verdict stands for good: a measured failure or a confident answer,
    or one left undecided in MAX_UNDECIDED runs (so no candidate is measured forever). Lines
    from before `final` existed: every verdict was final then."""
    if undecided >= MAX_UNDECIDED:
        return True
    return record.final if record.final is not None else record.verdict != "inconclusive"


def history(entries: Iterable[Entry]) -> tuple[HistoryEntry, ...]:
    """Every evaluated candidate and what became of it, for the proposers."""
    entries = list(entries)
    undecided = undecided_runs(entries)
    found = []
    for record in fold(entries).values():
        if record.verdict is None or record.title is None:
            continue  # never evaluated (e.g. only a policy event): nothing to learn from
        found.append(
            HistoryEntry(
                fingerprint=record.fingerprint,
                title=record.title,
                kind="radical" if record.kind == "radical" else "incremental",
                category=record.category,
                diff=record.diff or "",
                verdict=record.verdict,
                reason=record.reason or "",
                change=improvement(record),
                outcome=outcome(record),
                final=settled(record, undecided.get(record.fingerprint, 0)),
                d=measured_d(record),
                base_commit=record.base_commit,
            )
        )
    return tuple(found)


def _percent(record: Fields, change: float | None) -> str:
    if change is None:
        return "-"
    if record.primary == "error_rate":
        return f"{change * 100:+.2f} pp"
    return f"{change * 100:+.1f}%"


def _outcome_cell(record: Record) -> str:
    cell: str = record.outcome or "-"
    if record.revert_pr is not None:
        cell += f", revert #{record.revert_pr}"
    elif (record.production or {}).get("revert") is True:
        cell += ", revert due"
    return cell


def show(entries: Iterable[Entry], as_json: bool = False) -> str:
    """`mutbot ledger`: a table of every candidate, or (JSON) the folded records."""
    records = fold(entries)
    if as_json:
        return json.dumps(
            [r.model_dump(mode="json", exclude_none=True) for r in records.values()], indent=2
        )
    if not records:
        return "The ledger is empty: no candidate has been evaluated yet."
    head = ("fingerprint", "title", "verdict", "PR", "outcome", "predicted", "production")
    rows = [head]
    for r in records.values():
        title = r.title or "-"
        rows.append(
            (
                r.fingerprint,
                title if len(title) <= 40 else title[:39] + "…",
                r.verdict or "-",
                f"#{r.pr_number}" if r.pr_number is not None else "-",
                _outcome_cell(r),
                f"{r.primary} {_percent(r, r.change)}" if r.change is not None else "-",
                _percent(r, realised(r)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def export_jsonl(entries: Iterable[Entry]) -> list[str]:
    """The fine-tuning dataset (schema in the module docstring), one JSON line per candidate."""
    lines = []
    for r in fold(entries).values():
        if r.verdict is None or r.diff is None:
            continue
        example = {
            "fingerprint": r.fingerprint,
            "context": {
                "title": r.title,
                "kind": r.kind,
                "category": r.category,
                "files": r.files or [],
                "rationale": r.rationale,
                "proposer": r.proposer,
                "base_commit": r.base_commit,
            },
            "completion": r.diff,
            "labels": {
                "verdict": r.verdict,
                "stage": r.stage,
                "reason": r.reason,
                "primary": r.primary,
                "predicted_change": r.change,
                "improvement": improvement(r),
                "outcome": outcome(r),
                "realised_change": realised(r),
                "production": r.production,
            },
        }
        lines.append(json.dumps(example, ensure_ascii=False))
    return lines
