"""One line of the ledger: an event about one candidate, identified by its fingerprint.

A candidate's story is told by several events, each appended when it happens and never edited:
`evaluated` (the sandbox's verdict and figures), `policy` (a governance rule stopped or shaped it),
`pr-intent` (written *before* opening a pull request, so a crash between opening and recording
cannot lose the link), `pr-opened`, `outcome` (open / merged / closed / reverted, from the API),
`production` (the monitor's verdict) and `revert-opened`. A maintainer's commands add `ignored`
(`/mutate ignore`: the pull request closed, the change never proposed again), `superseded` (closed
by mutbot because a pull request of its conflict set was merged: not a refusal),
`setting-ignored` (`/mutate ignore setting NAME`: `setting` never changed again; its fingerprint
is the pull request's where it was asked) and `forgotten` (a refusal or an ignored setting taken
back from the dashboard). `mutbot.ledger.views.fold` turns them into the current state of each
candidate.

Each line is the entry as compact JSON with the unset fields left out. `production` holds the
monitor's figures; the views read three keys from it: `verdict` (str), `change` (the realised
change of the primary metric, the metric's own direction, like `change`) and `revert` (bool, true
when the monitor asked for a revert).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mutbot import untrusted
from mutbot.results import CandidateResult, Comparison, RunResult

VERSION: Literal[1] = 1
Event = Literal[
    "evaluated",
    "pr-intent",
    "pr-opened",
    "outcome",
    "production",
    "revert-opened",
    "policy",
    "ignored",
    "superseded",
    "setting-ignored",
    "forgotten",
]
# ignored: a maintainer's `/mutate ignore`; superseded: closed by mutbot after an alternative
# was merged (neither is a "closed", which the proposers learn from as a maintainer's no)
PrOutcome = Literal["open", "merged", "closed", "reverted", "ignored", "superseded"]
_HEAD = ("version", "at", "event", "fingerprint")  # first on every line, for a readable diff


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Fields(BaseModel):
    """What an event may say about a candidate; every field is optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str | None = None
    base_commit: str | None = None
    title: str | None = None
    kind: str | None = None  # incremental | radical
    category: str | None = None
    proposer: str | None = None
    rationale: str | None = None
    diff: str | None = None
    files: list[str] | None = None
    verdict: str | None = None  # propose | needs-review | inconclusive | reject
    stage: str | None = None  # the stage that rejected it
    final: bool | None = None  # false: undecided, measured again (absent in old lines: true)
    reason: str | None = None
    primary: str | None = None  # the metric the predicted effect is about
    change: float | None = None  # predicted by the sandbox, the metric's own direction
    screened: float | None = None  # the screening block's estimate of the same
    ci_low: float | None = None
    ci_high: float | None = None
    p_adjusted: float | None = None
    metrics: dict[str, dict[str, float]] | None = None  # metric -> baseline, candidate, change…
    branch: str | None = None
    pr_number: int | None = None
    pr_url: str | None = None
    outcome: PrOutcome | None = None
    merge_sha: str | None = None
    merged_at: str | None = None
    production: dict[str, Any] | None = None  # the monitor's verdict and figures
    revert_pr: int | None = None
    note: str | None = None
    setting: str | None = None  # setting-ignored / forgotten: the setting's name

    # NaN (a metric that could not be measured) is not JSON: store it as absent
    @field_validator("change", "screened", "ci_low", "ci_high", "p_adjusted")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        return value if value is None or math.isfinite(value) else None

    @field_validator("metrics")
    @classmethod
    def _finite_figures(
        cls, value: dict[str, dict[str, float]] | None
    ) -> dict[str, dict[str, float]] | None:
        if value is None:
            return None
        return {m: {k: v for k, v in fig.items() if math.isfinite(v)} for m, fig in value.items()}


class Entry(Fields):
    version: Literal[1] = VERSION
    at: str = Field(default_factory=now)  # ISO-8601, UTC
    event: Event
    fingerprint: str = Field(pattern=r"^[0-9a-f]{12}$")

    @field_validator("at")
    @classmethod
    def _aware(cls, value: str) -> str:
        if datetime.fromisoformat(value).utcoffset() is None:
            raise ValueError(f"expected an ISO-8601 time with a UTC offset, got {value!r}")
        return value

    def line(self) -> str:
        """The entry as one JSON line (no newline), the identifying keys first."""
        data = self.model_dump(mode="json", exclude_none=True)
        ordered = {k: data.pop(k) for k in _HEAD} | data
        return json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))


def dump(entries: Iterable[Entry]) -> bytes:
    return "".join(e.line() + "\n" for e in entries).encode()


@dataclass(frozen=True)
class Parsed:
    entries: list[Entry]
    damaged: int  # lines that are not a valid entry (e.g. a run killed mid-write)
    newer: int  # lines written by a newer mutbot (an unknown version), skipped


def parse(data: bytes) -> Parsed:
    """Every valid entry, in order. A last line without its newline was cut short: damaged."""
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: empty unless a writer died mid-line
    entries: list[Entry] = []
    damaged = 1 if tail.strip() else 0
    newer = 0
    for raw in lines:
        if not raw.strip():
            continue
        try:
            obj = untrusted.loads(raw)  # deep nesting, 10**400, NaN: damaged, never a crash
        except ValueError:
            damaged += 1
            continue
        version = obj.get("version") if isinstance(obj, dict) else None
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            newer += 1
            continue
        try:
            entries.append(Entry.model_validate(obj))
        except ValidationError:
            damaged += 1
    return Parsed(entries, damaged, newer)


def _figures(comp: Comparison) -> dict[str, float]:
    return {
        "baseline": comp.baseline,
        "candidate": comp.candidate,
        "change": comp.change,
        "ci_low": comp.ci_low,
        "ci_high": comp.ci_high,
        "p_value": comp.p_value,
    }


def _evaluated(run: RunResult, c: CandidateResult, proposer: str | None) -> Entry:
    primary = c.judgement.primary if c.judgement else str(run.objective.get("primary", ""))
    comp = c.comparisons.get(primary)
    metrics = {name: _figures(m) for name, m in c.comparisons.items()}
    return Entry(
        at=run.finished_at or now(),
        event="evaluated",
        fingerprint=c.fingerprint,
        run_id=run.run_id,
        base_commit=run.base_commit,
        title=c.title,
        kind=c.kind,
        category=c.category,
        proposer=proposer,
        rationale=c.rationale,
        diff=c.diff,
        files=list(c.files),
        verdict=c.verdict,
        stage=c.stage,
        final=c.final,
        reason=c.reason,
        primary=primary or None,
        change=comp.change if comp else None,
        screened=c.selection.screening_change if c.selection else None,
        ci_low=comp.ci_low if comp else None,
        ci_high=comp.ci_high if comp else None,
        p_adjusted=c.judgement.p_adjusted if c.judgement else None,
        metrics=metrics or None,
        branch=c.branch,
    )


def evaluated(run: RunResult) -> list[Entry]:
    """One `evaluated` entry per candidate of the run, whatever its verdict."""
    proposer = run.proposal.proposer if run.proposal else None
    return [_evaluated(run, c, proposer) for c in run.candidates]
