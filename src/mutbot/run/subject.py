"""One side of the run's comparisons while the run goes on — the baseline or a candidate — as
a state machine, frozen into a result at the end.

    proposed → policy → applied → built → tested → (screened) → confirmed → judged
                 any of them ──────────────────────────────────────→ rejected

The baseline starts past `policy` (it has no diff); screening is skipped when every candidate
fits the confirmation block; a reduced winner is screened by its duel against the winner. A
stage can only move a subject forward; a failure, or being left out, ends it as `rejected`
with the reason. Each transition is one method, so what a subject went through is decided
here, not wherever a field happens to be written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from mutbot.backends.base import Artifact, Limits
from mutbot.candidates import Candidate, slugify
from mutbot.config import Cost
from mutbot.cost import monthly_cost
from mutbot.errors import StageFailure
from mutbot.judge import compare_all
from mutbot.packs.guard import Guarded
from mutbot.policy import DiffSummary
from mutbot.results import (
    Build,
    CandidateResult,
    Comparison,
    InvalidTrial,
    Judgement,
    Pair,
    Selection,
    SettingChange,
    StageRecord,
    Verdict,
)
from mutbot.risk import Assessment
from mutbot.run.context import Reporter
from mutbot.units import format_size

State = Literal[
    "proposed",
    "policy",
    "applied",
    "built",
    "tested",
    "screened",
    "confirmed",
    "judged",
    "rejected",
]
ORDER: tuple[State, ...] = get_args(State)[:-1]  # "rejected" ends any of them
# the state each stage leaves a subject in when it passes
AFTER: dict[str, State] = {
    "policy": "policy",
    "apply": "applied",
    "build": "built",
    "tests": "tested",
    "screen": "screened",
    "reduce": "screened",
    "confirm": "confirmed",
}
# what a transition may skip: the baseline has no policy; screening only when needed
SKIPPABLE = frozenset({"policy", "screened"})


class Transition(AssertionError):
    """A stage out of order: a bug in the spine, never a user's input."""


@dataclass
class Subject:
    slug: str
    candidate: Candidate | None
    state: State = "proposed"
    stages: list[StageRecord] = field(default_factory=list)
    failure: StageFailure | None = None
    summary: DiffSummary | None = None
    project_dir: Path | None = None
    artifact: Artifact | None = None
    screening: list[Pair] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    compared: dict[str, Comparison] | None = None  # the confirmation block's, computed once
    invalid: list[InvalidTrial] = field(default_factory=list)
    risk: Assessment | None = None
    complexity: Assessment | None = None
    guarded: Guarded | None = None  # what the packs say the change touches and reaches
    limits: Limits | None = None  # its own, from the measured service's; None: the config's
    selection: Selection | None = None  # how screening chose it (the winner's curse, shown)

    def advance(self, to: State) -> None:
        if self.state == "rejected":
            raise Transition(f"{self.slug}: rejected, cannot become {to}")
        now, then = ORDER.index(self.state), ORDER.index(to)
        skipped = set(ORDER[now + 1 : then])
        if then <= now or not skipped <= SKIPPABLE or ("policy" in skipped and self.candidate):
            raise Transition(f"{self.slug}: {self.state} cannot become {to}")
        self.state = to

    def fail(self, failure: StageFailure, seconds: float = 0.0) -> None:
        """A stage failed: recorded with its reason; the subject is out of the run."""
        self.failure = failure
        self.stages.append(
            StageRecord(name=failure.stage, ok=False, seconds=seconds, detail=failure.reason)
        )
        self.state = "rejected"

    def leave_out(self, stage: str, reason: str) -> None:
        """Not carried further (screening or the search chose others, a reduction replaced
        it): decided nothing about it, and says why."""
        self.failure = StageFailure(stage, reason)
        self.state = "rejected"

    def screened_with(self, pairs: list[Pair], selection: Selection | None = None) -> None:
        self.screening = pairs
        if selection is not None:
            self.selection = selection

    def confirmed_with(self, pairs: list[Pair], alpha: float) -> None:
        self.pairs = pairs
        self.compared = compare_all(pairs, alpha)

    def judged(self) -> None:
        self.advance("judged")


def baseline() -> Subject:
    """The unchanged project: it has no diff, so no policy stage."""
    return Subject("baseline", None, state="policy")


@contextmanager
def recorded(subject: Subject, stage: str, reporter: Reporter) -> Iterator[None]:
    """Time a stage and record it; a StageFailure marks the subject rejected, never escapes."""
    reporter.stage(subject.slug, stage)
    started = time.monotonic()
    try:
        yield
    except StageFailure as failure:
        subject.fail(failure, time.monotonic() - started)
        reporter.stage(subject.slug, f"rejected at {failure.stage}: {failure.reason}")
    else:
        subject.stages.append(StageRecord(name=stage, ok=True, seconds=time.monotonic() - started))
        if stage in AFTER and subject.state != AFTER[stage]:
            subject.advance(AFTER[stage])


def make_subjects(candidates: list[Candidate]) -> list[Subject]:
    taken = {"baseline", "a-a-noise"}
    return [Subject(slugify(c.title, taken), c) for c in candidates]


def freeze(
    subject: Subject,
    decision: tuple[Verdict, str | None, str, bool],
    judgement: Judgement | None,
    alpha: float,
    branch: str | None,
    prices: Cost | None = None,
) -> CandidateResult:
    """`prices`: to say what the candidate's own limits cost a month, when it has them."""
    candidate = subject.candidate
    assert candidate is not None
    artifact = subject.artifact
    verdict, stage, reason, final = decision
    guarded = subject.guarded
    return CandidateResult(
        slug=subject.slug,
        title=candidate.title,
        kind=candidate.kind,
        rationale=candidate.rationale,
        risk=candidate.risk,
        category=candidate.category,
        fingerprint=candidate.fingerprint,
        diff=candidate.diff,
        files=list(subject.summary.files) if subject.summary else [],
        verdict=verdict,
        stage=stage,
        reason=reason,
        final=final,
        stages=subject.stages,
        build=build_record(artifact) if artifact else None,
        screening=subject.screening,
        pairs=subject.pairs,
        comparisons=subject.compared or compare_all(subject.pairs, alpha),
        judgement=judgement,
        invalid_trials=subject.invalid,
        branch=branch,
        reaches=list(guarded.reaches) if guarded else [],
        settings=[
            SettingChange(
                key=c.key,
                safety=c.safety,
                before=c.before,
                after=c.after,
                written=c.written,
                where=str(c.site) if c.site else None,
                reaches=c.reaches,
            )
            for c in (guarded.changed if guarded else ())
        ],
        limits=_limits(subject.limits, prices),
        selection=subject.selection,
    )


def build_record(artifact: Artifact) -> Build:
    return Build(
        image_size_mb=artifact.image_size_mb,
        build_seconds=artifact.build_seconds,
        image_compressed_mb=artifact.image_compressed_mb,
    )


def _limits(limits: Limits | None, prices: Cost | None) -> dict[str, str | float]:
    if limits is None:
        return {}
    out: dict[str, str | float] = {"cpus": limits.cpus, "memory": format_size(limits.memory)}
    if prices is not None:
        out["cost_month_usd"] = monthly_cost(limits.cpus, limits.memory, prices)
    return out
