"""The records a run produces, written as results.json (schema: docs/results.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mutbot.proposers.base import Opportunity, Usage

Side = Literal["baseline", "candidate"]
Verdict = Literal["propose", "needs-review", "inconclusive", "reject"]
# a rejection at these stages decided nothing about the candidate: it is measured again later
UNDECIDED_STAGES = frozenset({"screen", "interrupted"})


def is_final(verdict: str, stage: str | None) -> bool:
    """Whether the ledger keeps a verdict for good: measured failures and confident answers are
    final; "inconclusive" and a candidate screening left out (or a cut run) are not."""
    return verdict != "inconclusive" and not (verdict == "reject" and stage in UNDECIDED_STAGES)


class _Record(BaseModel):
    # a figure that could not be measured is NaN in results.json too (pydantic writes null)
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class StageRecord(_Record):
    name: str
    ok: bool
    seconds: float
    detail: str = ""


class Trial(_Record):
    side: Side
    started_at: float
    healthy_seconds: float
    metrics: dict[str, float]
    loadgen_cpu_fraction: float
    errors: dict[str, int]
    raw: str  # path of the per-request file, relative to the run folder
    # how long it waited for a calm machine before it started, and, when it started anyway on
    # a busy one, what was busy ("started anyway: 63% CPU busy after 15 s")
    calm_wait: float = 0.0
    started_busy: str | None = None
    # where its seconds went (start, healthy, warmup, window, teardown, ...: trial.trial_timings)
    timings: dict[str, float] = Field(default_factory=dict)


class Pair(_Record):
    index: int
    order: tuple[Side, Side]
    baseline: Trial
    candidate: Trial
    # why earlier measurements of this pair were set aside (a transient, a busy machine)
    remeasured: list[str] = Field(default_factory=list)


class Comparison(_Record):
    """One metric, candidate against its paired baseline trials."""

    metric: str
    pairs: int
    baseline: float  # median of the baseline trials
    candidate: float  # median of the candidate trials
    change: float  # Hodges–Lehmann estimate of the relative change (error rate: absolute)
    ci_low: float  # two-sided (1 - alpha) confidence interval of `change`
    ci_high: float
    p_value: float  # one-sided exact Wilcoxon signed-rank: the candidate is better
    pairs_better: int


class Gate(_Record):
    name: str
    value: float
    limit: float
    ok: bool


class Finding(_Record):
    rule: str
    points: float
    where: str
    why: str


class GuardrailCheck(_Record):
    """One guardrail on the confirmation block: convicted (a regression beyond the limit shown
    at alpha), cleared (its one-sided upper bound inside the limit) or undecided."""

    metric: str
    limit: float  # allowed regression (fraction; absolute for the error rate)
    status: Literal["convicted", "cleared", "undecided"]
    estimate: float  # the regression's Hodges–Lehmann estimate (+ = worse)
    # its one-sided upper bound at the clearing level (+ = worse); None: too few pairs for one
    worst: float | None
    p_convict: float  # one-sided exact Wilcoxon: the regression is beyond the limit
    p_clear: float  # one-sided exact Wilcoxon: the regression is within the limit
    text: str


class Judgement(_Record):
    """How the verdict was reached, with every number needed to recompute it."""

    primary: str
    alpha: float
    p_value: float
    p_adjusted: float  # Holm across the candidates confirmed in this run
    confidence: float  # 1 - p_adjusted
    min_effect: float  # the improvement the CI's lower bound had to clear, as a fraction
    min_effect_source: str
    vetoes: list[str]  # what convicted it (a guardrail, the memory ceiling)
    risk: float
    risk_findings: list[Finding]
    complexity: float
    complexity_findings: list[Finding]
    gates: list[Gate]
    guardrails: list[GuardrailCheck] = Field(default_factory=list)
    noise_floor: float | None = None  # the smallest effect this run's noise lets it resolve
    settle: str | None = None  # an undecided verdict: what would settle it


class InvalidTrial(_Record):
    pair: int
    side: Side
    reason: str


class Noise(_Record):
    """A/A pairs, the baseline against itself, spread through the run: how far identical pairs
    disagree here."""

    metric: str
    pairs: list[Pair]
    spread: float  # robust sd (1.4826 x MAD) of the per-pair log ratio of `metric`
    sd: float | None = None  # its plain standard deviation, which one bad pair inflates
    placed: list[str] = Field(default_factory=list)  # when each pair was measured


class Build(_Record):
    image_size_mb: float | None
    build_seconds: float  # this run's build, with the engine's cache (build_seconds: cold ones)
    image_compressed_mb: float | None = None  # measured when an objective names the image


class SettingChange(_Record):
    """One setting a candidate changes, as the technology packs read both sides."""

    key: str  # pack.setting, e.g. "gunicorn.workers"
    safety: str  # tune | prove | never
    before: bool | int | float | str | None  # in effect (its default when not written)
    after: bool | int | float | str | None  # None: no pack sees it on that side
    written: tuple[bool, bool]  # written in the files before, after
    where: str | None  # path:line where it is written (or was)
    reaches: str  # build | command | environment | resources | none


Value = int | float | bool | str | None  # a setting's value


class Contribution(_Record):
    """What one setting of a reduced winner is worth: the change measured when it alone went
    back to the baseline's value (paired against the configuration that still had it)."""

    key: str
    before: Value  # the baseline's value
    after: Value  # the winner's
    cost: float | None  # the primary's change when removed, its own direction; None: not measured
    pairs: list[Pair]  # the configuration without it (candidate) against the one with it
    kept: bool
    note: str = ""


class Selection(_Record):
    """How the candidate was chosen before its confirmation block: the winner's curse made
    visible (the best of many screened estimates is biased toward luck)."""

    tried: int  # configurations screened in the run, this one included
    screen_pairs: int
    screening_change: float | None  # the primary's change in its screening block
    rank: int | None = None  # by the screening estimate, 1 = best
    reduced_from: str | None = None  # the slug of the configuration it was reduced from
    contributions: list[Contribution] = Field(default_factory=list)


class SearchDimension(_Record):
    key: str
    kind: str  # int | float | choice
    current: Value
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Value] = Field(default_factory=list)
    why: str = ""


class SearchStep(_Record):
    """One configuration the closed loop considered, in order."""

    index: int
    source: Literal["seed", "model"]
    title: str
    slug: str | None  # the candidate measured for it; None: nothing was measured
    params: dict[str, Value] | None  # None: a seed outside the space
    status: Literal["screened", "failed", "known", "repeat", "skipped"]
    d: float | None  # screening estimate as a log ratio, + = better (failed: the penalty)
    change: float | None = None  # the same as the primary's own relative change
    best: float | None = None  # best d among the screened so far
    seconds: float = 0.0  # since the search started
    note: str = ""


class SearchRecord(_Record):
    sampler: str
    trials: int  # the budget in configurations
    budget_seconds: float | None
    seconds: float
    stopped: str  # why the loop ended
    space: list[SearchDimension]
    steps: list[SearchStep]
    warm: int  # configurations from the ledger's history the model started from
    notes: list[str] = Field(default_factory=list)

    @property
    def screened(self) -> int:
        return sum(1 for s in self.steps if s.status == "screened")


class CandidateResult(_Record):
    slug: str
    title: str
    kind: str
    rationale: str
    risk: float | None
    fingerprint: str
    diff: str
    files: list[str]
    verdict: Verdict
    stage: str | None  # the stage that rejected it
    reason: str
    stages: list[StageRecord]
    final: bool = True  # false: undecided, measured again in a later run (is_final)
    build: Build | None
    screening: list[Pair]  # the screening block (empty when every candidate was confirmed)
    pairs: list[Pair]  # the confirmation block: the only pairs the verdict rests on
    comparisons: dict[str, Comparison]  # from the confirmation block
    judgement: Judgement | None
    invalid_trials: list[InvalidTrial]
    branch: str | None = None
    category: str | None = None  # the opportunity category it addresses, as its proposer said
    # the sandbox inputs its change reaches (build | command | environment | resources; none:
    # a file the sandbox never reads) and the settings it changes; empty before the policy's
    # guard ran, and in results written before mutbot knew them
    reaches: list[str] = Field(default_factory=list)
    settings: list[SettingChange] = Field(default_factory=list)
    # the limits its own trials ran with, when its change set the measured service's CPU or
    # memory limit: cpus, memory (as the config writes sizes) and cost_month_usd at them;
    # empty: the run's limits, as the baseline's
    limits: dict[str, str | float] = Field(default_factory=dict)
    selection: Selection | None = None  # how screening chose it; None: it was not screened


class ProposalRecord(_Record):
    """Where the candidates came from: the proposer, what it saw and what it cost."""

    proposer: str  # the one that produced the candidates (file:PATH names the file)
    requested: str  # the one asked first; differs when it failed and search took over
    failure: str | None  # why the requested proposer failed, when it did
    notes: list[str]
    usage: Usage | None  # LLM requests, tokens and dollars
    seconds: float
    baseline_source: str | None  # which baseline figures the proposer saw, if any
    opportunities: list[Opportunity]
    candidates: int


class BaselineResult(_Record):
    stages: list[StageRecord]
    build: Build | None
    summary: dict[str, float]  # median over every baseline trial of the run


class RunResult(_Record):
    version: Literal[1] = 1
    run_id: str
    started_at: str
    finished_at: str
    project: str
    output_dir: str
    base_commit: str
    backend: str
    guarantees: str
    seed: int  # orders the two trials inside each pair
    limits: dict[str, str | float]
    load: dict[str, int | float | str]
    calibration: dict[str, float | bool] | None = None  # the capacity ramp, if any
    objective: dict[str, object]
    cost_of_limits_month_usd: float
    judge: dict[str, object]
    noise: Noise | None
    baseline: BaselineResult
    candidates: list[CandidateResult]
    ranking: list[str]  # slugs of proposed candidates, best first
    pareto: list[str]  # slugs on the Pareto front of the objectives (when there are several)
    proposal: ProposalRecord | None = None
    interrupted: bool = False
    settled: list[str] = Field(default_factory=list)  # the disk after the builds, each time
    search: SearchRecord | None = None  # the closed-loop search, when it ran
