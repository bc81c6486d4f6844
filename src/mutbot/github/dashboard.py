"""The dashboard issue (pure): one issue mutbot keeps up to date every run, showing what it has
open, waiting and refused, with boxes a maintainer ticks to act. Rendering it, and reading which
boxes an edit newly ticked, are here; finding, creating and editing the issue is
`mutbot.github.board`.

The issue is found by its label and the hidden MARKER in its body, never by its title. Each box
carries what it does in a hidden comment, `<!-- mutbot-tick: ACTION TARGET -->`: `rebench N`
(measure open pull request #N again), `measure FINGERPRINT` (measure a candidate that needs
review again), `forget FINGERPRINT` (take back a refusal: a closed or ignored pull request) or
`forget setting:HASH` (take back `/mutate ignore setting NAME`; HASH is `setting_id(NAME)`). Every
box is rendered unticked: the update after acting unticks it.

Every word from the ledger or a pull request (titles, reasons, setting names, figures read from
a body's marker) is data: defused like pull request text, table cells escaped.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from mutbot.github.body import read_marker
from mutbot.github.types import PullInfo, Tick
from mutbot.ledger.model import Entry
from mutbot.ledger.views import FORGETTABLE, Record, fold, ignored_settings, outcome
from mutbot.metrics import METRICS
from mutbot.report import defuse, one_line

MARKER = "<!-- mutbot-dashboard -->"
LABEL = "mutbot:dashboard"
LABEL_LOOK = ("0e8a16", "mutbot: the dashboard issue it keeps up to date")
TITLE = "mutbot dashboard"
RECENT = 10  # rejections and refusals shown
MAX_TICKS = 20  # boxes acted on per edit: more is no person's click
_TICK = re.compile(
    r"^[ \t]*[-*+] \[([ xX])\] <!-- mutbot-tick: (rebench|measure|forget) ([0-9a-z:]{1,40}) -->",
    re.MULTILINE,
)
_TARGETS = {
    "rebench": re.compile(r"[1-9]\d{0,9}"),
    "measure": re.compile(r"[0-9a-f]{12}"),
    "forget": re.compile(r"[0-9a-f]{12}|setting:[0-9a-f]{12}"),
}
_ACTIONS: dict[str, Literal["rebench", "measure", "forget"]] = {
    "rebench": "rebench",
    "measure": "measure",
    "forget": "forget",
}
_WORDS = 120  # characters of a title or a reason


def setting_id(name: str) -> str:
    """A setting's name as a box target: only hex digits ever sit inside the hidden comment."""
    return hashlib.sha256(name.encode()).hexdigest()[:12]


def is_dashboard(body: str | None) -> bool:
    return isinstance(body, str) and MARKER in body


def boxes(body: str) -> dict[tuple[str, str], bool]:
    """Every well-formed box of a dashboard body: (action, target) → ticked."""
    found: dict[tuple[str, str], bool] = {}
    for match in _TICK.finditer(body):
        mark, action, target = match.groups()
        if _TARGETS[action].fullmatch(target):
            key = (action, target)
            found[key] = found.get(key, False) or mark != " "
    return found


def newly_ticked(before: str, after: str) -> tuple[Tick, ...]:
    """The boxes ticked in `after` that were not ticked in `before`, in the order shown, each
    once; at most MAX_TICKS."""
    was = boxes(before)
    out: list[Tick] = []
    for (action, target), ticked in boxes(after).items():
        if ticked and not was.get((action, target), False):
            out.append(Tick(_ACTIONS[action], target))
    return tuple(out[:MAX_TICKS])


@dataclass(frozen=True)
class Totals:
    candidates: int
    verdicts: dict[str, int]
    outcomes: dict[str, int]


def totals(records: Iterable[Record]) -> Totals:
    verdicts: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    count = 0
    for record in records:
        if record.verdict is None:
            continue
        count += 1
        verdicts[record.verdict] = verdicts.get(record.verdict, 0) + 1
        said = outcome(record)
        if said is not None:
            outcomes[said] = outcomes.get(said, 0) + 1
    return Totals(count, verdicts, outcomes)


def render(entries: Sequence[Entry], pulls: Sequence[PullInfo]) -> str:
    """The dashboard's body from the ledger and mutbot's open pull requests."""
    records = fold(entries)
    parts = [
        MARKER,
        "## mutbot dashboard",
        "",
        "What mutbot has open, waiting and refused, from its ledger (the `mutbot/ledger` branch). "
        "mutbot rewrites this issue after every run. Tick a box to act: a run starts (for people "
        "with write access) and the box is unticked once it is done.",
        "",
        "### Open pull requests",
        "",
        *(_open_line(p) for p in pulls),
        *(["Nothing open."] if not pulls else []),
        "",
        "### Need review",
        "",
        *_review_lines(records.values()),
        "",
        "### Recent rejections",
        "",
        *_rejections(records.values()),
        "",
        "### Refused",
        "",
        *_refusals(records.values(), entries),
        "",
        "### Merged, under production watch",
        "",
        *_watched(records.values()),
        "",
        "### Totals",
        "",
        _totals_line(totals(records.values())),
        "",
    ]
    return "\n".join(parts)


def _words(text: str | None, limit: int = _WORDS) -> str:
    text = one_line(text or "")
    return defuse(text if len(text) <= limit else text[: limit - 1] + "…")


def _cell(text: str | None) -> str:
    return _words(text).replace("\\", "\\\\").replace("|", "\\|")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _open_line(pull: PullInfo) -> str:
    data = read_marker(pull.body) or {}
    metric = data.get("metric") if data.get("metric") in METRICS else None
    change, low, high = (_number(data.get(k)) for k in ("change", "ci_low", "ci_high"))
    figures = ""
    if metric is not None and change is not None:
        figures = f" — {METRICS[metric].label} {change:+.1%}"
        if METRICS[metric].exact:  # the image: one figure a side, nothing sampled
            figures += " (exact)"
        elif low is not None and high is not None:
            figures += f" (CI {low:+.1%}…{high:+.1%})"
    base = data.get("base_commit")
    if isinstance(base, str) and re.fullmatch(r"[0-9a-f]{7,40}", base):
        figures += f", measured on {base[:7]}"
    title = _words(pull.title.removeprefix("mutbot: "))
    return f"- [ ] <!-- mutbot-tick: rebench {pull.number} --> #{pull.number} {title}{figures}"


def _review_lines(records: Iterable[Record]) -> list[str]:
    lines = [
        f"- [ ] <!-- mutbot-tick: measure {r.fingerprint} --> {_words(r.title)}: "
        f"{_words(r.reason, 300)}"
        for r in records
        if r.verdict == "needs-review" and r.outcome is None
    ]
    return lines or ["None."]


def _rejections(records: Iterable[Record]) -> list[str]:
    rejected = [r for r in records if r.verdict == "reject"]
    rejected.sort(key=lambda r: r.last_at, reverse=True)
    if not rejected:
        return ["None."]
    rows = ["| candidate | stage | reason | when |", "| --- | --- | --- | --- |"]
    for r in rejected[:RECENT]:
        rows.append(
            f"| {_cell(r.title)} | {_cell(r.stage or '-')} | {_cell(r.reason)} | "
            f"{_cell(r.last_at[:10])} |"
        )
    if len(rejected) > RECENT:
        rows.append(f"\n{len(rejected) - RECENT} older rejections: `mutbot ledger` lists them.")
    return rows


def _refusals(records: Iterable[Record], entries: Sequence[Entry]) -> list[str]:
    refused = [r for r in records if r.outcome in FORGETTABLE]
    refused.sort(key=lambda r: r.last_at, reverse=True)
    lines = []
    for r in refused[:RECENT]:
        how = "closed unmerged" if r.outcome == "closed" else "ignored (`/mutate ignore`)"
        where = f" #{r.pr_number}" if r.pr_number is not None else ""
        lines.append(
            f"- [ ] <!-- mutbot-tick: forget {r.fingerprint} --> {_words(r.title)}: "
            f"{how}{where}; tick to forget it"
        )
    for name in ignored_settings(entries):
        lines.append(
            f"- [ ] <!-- mutbot-tick: forget setting:{setting_id(name)} --> setting "
            f"{_words(name)}: never changed (`/mutate ignore setting`); tick to forget it"
        )
    return lines or ["None."]


def _watched(records: Iterable[Record]) -> list[str]:
    merged = [r for r in records if r.outcome == "merged" or outcome(r) == "reverted"]
    if not merged:
        return ["None."]
    rows = ["| pull request | merged | production |", "| --- | --- | --- |"]
    for r in merged[-RECENT:]:
        production = r.production or {}
        status = production.get("status") if isinstance(production.get("status"), str) else None
        if outcome(r) == "reverted":
            status = "reverted" + (f" (#{r.revert_pr})" if r.revert_pr is not None else "")
        where = f"#{r.pr_number} " if r.pr_number is not None else ""
        rows.append(
            f"| {where}{_cell(r.title)} | {_cell((r.merged_at or '-')[:10])} | "
            f"{_cell(status or 'watching')} |"
        )
    return rows


def _totals_line(t: Totals) -> str:
    v, o = t.verdicts, t.outcomes
    return (
        f"{t.candidates} candidates evaluated: {v.get('propose', 0)} proposed, "
        f"{v.get('needs-review', 0)} need review, {v.get('inconclusive', 0)} inconclusive, "
        f"{v.get('reject', 0)} rejected. Pull requests: {o.get('merged', 0)} merged, "
        f"{o.get('open', 0)} open, {o.get('closed', 0)} closed unmerged, "
        f"{o.get('ignored', 0)} ignored, {o.get('superseded', 0)} superseded, "
        f"{o.get('reverted', 0)} reverted."
    )
