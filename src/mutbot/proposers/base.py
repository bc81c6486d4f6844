"""What every proposer takes and gives back. A proposer turns the pipeline's source, the
opportunities the detectors found, the measured baseline and the history of earlier candidates
into candidates in the spine's format (`mutbot.candidates.Candidate`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mutbot.candidates import Candidate
from mutbot.config import Config
from mutbot.policy import DiffRules

if TYPE_CHECKING:  # the packs import this module's records
    from mutbot.packs.survey import Survey

# Opportunity categories, highest expected payoff first. Detectors name one of these; the search
# proposer tries them in this order and the Anthropic prompt lists them. (priority, what it means)
CATEGORIES: dict[str, tuple[int, str]] = {
    "single-worker": (90, "one worker, thread or process serves every request"),
    "cache-disabled": (80, "a cache exists but is switched off or sized zero"),
    "limits-unseen": (70, "a runtime sizes itself from the host, not the container's limits"),
    "verbose-logging": (60, "debug or per-request logging on the hot path"),
    "tiny-pool": (50, "a connection or worker pool too small for the load"),
    "requests-far-from-use": (40, "resource requests far from the measured use"),
    "heavy-base-image": (35, "a full base image where a slim one would do"),
    "cache-busting-copy": (30, "dependencies installed after copying the whole source"),
    "package-cache-in-layer": (25, "package manager caches left in an image layer"),
    "single-stage-build": (20, "build tools shipped in the runtime image (no multi-stage build)"),
    "no-resource-limits": (15, "a service or container without CPU and memory limits"),
    "missing-timeout": (10, "a server setting without a timeout"),
    "end-of-life-base-image": (8, "a base image past its end of life"),
    "unpinned-base-image": (5, "a base image without a version tag or digest"),
    "root-user": (5, "the container runs as root"),
}


class Opportunity(BaseModel):
    """A concrete place in a target file where a known improvement may be found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    path: str  # relative to the project, '/'-separated
    line: int = Field(ge=1)
    why: str  # one short sentence naming the evidence
    key: str | None = None  # the setting it is about, e.g. "server.threads", when there is one

    @property
    def priority(self) -> int:
        return CATEGORIES[self.category][0]


@dataclass(frozen=True)
class TargetFile:
    path: str  # relative to the project, '/'-separated
    text: str


class HistoryEntry(BaseModel):
    """An earlier candidate and what became of it (filled from the ledger by the feedback loop)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str
    title: str
    kind: Literal["incremental", "radical"]
    category: str | None = None
    diff: str = ""
    verdict: str  # propose | needs-review | inconclusive | reject
    reason: str = ""
    change: float | None = None  # measured change of the primary metric, + = better
    # open | merged | closed | reverted | ignored | superseded, once a PR exists
    outcome: str | None = None
    final: bool = True  # false: the judge could not decide; proposing it again is allowed
    # the measured log ratio of the primary, + = better: the confirmation's, else screening's
    d: float | None = None
    base_commit: str | None = None  # the commit it was measured on


@dataclass(frozen=True)
class Baseline:
    metrics: dict[str, float]  # medians of the baseline's trials
    source: str  # e.g. "measured in this run (6 trials)" or "run 20261122T…: results.json"


@dataclass(frozen=True)
class ProposalRequest:
    files: tuple[TargetFile, ...]
    opportunities: tuple[Opportunity, ...]
    baseline: Baseline | None
    config: Config  # objective, cost, sandbox limits, propose/llm settings
    rules: DiffRules  # what a candidate may touch: check every candidate against it
    history: tuple[HistoryEntry, ...] = ()
    count: int = 8
    radical_share: float = 0.25
    seed: int = 1
    survey: Survey | None = None  # what the technology packs see in the sandbox's service


class Usage(BaseModel):
    """What proposing cost: LLM requests, tokens and dollars at the configured prices."""

    model_config = ConfigDict(extra="forbid")

    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0


class Proposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proposer: str
    candidates: list[Candidate]
    notes: list[str] = Field(default_factory=list)  # what went wrong or was skipped, and why
    usage: Usage | None = None


class Proposer(Protocol):
    name: str
    needs_baseline: bool  # measure the baseline before proposing (file: no)

    def propose(self, request: ProposalRequest) -> Proposal: ...


REFUSED = ("closed", "reverted")  # outcomes that mean a maintainer said no
BARRED = (*REFUSED, "ignored")  # never proposed again (`/mutate ignore`: no, and not a failure)


@dataclass
class Deduper:
    """Keeps the first of candidates with the same fingerprint, and none already in history."""

    seen: set[str] = field(default_factory=set)

    @classmethod
    def from_history(cls, history: tuple[HistoryEntry, ...]) -> Deduper:
        """Nothing evaluated before comes back, except a candidate whose pull request is still
        open (measured again, its pull request gets fresh figures and a rebase) and one the
        judge could not decide (inconclusive, or screened out): it is measured again."""
        return cls({h.fingerprint for h in history if h.outcome != "open" and h.final})

    @classmethod
    def refused(cls, history: tuple[HistoryEntry, ...]) -> Deduper:
        """Only what a maintainer turned down (closed without merge, reverted or ignored)."""
        return cls({h.fingerprint for h in history if h.outcome in BARRED})

    def fresh(self, candidate: Candidate) -> bool:
        if candidate.fingerprint in self.seen:
            return False
        self.seen.add(candidate.fingerprint)
        return True
