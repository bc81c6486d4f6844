"""The records a run produces, written as results.json (schema: docs/results.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Side = Literal["baseline", "candidate"]
Verdict = Literal["propose", "reject"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


class Pair(_Record):
    index: int
    order: tuple[Side, Side]
    baseline: Trial
    candidate: Trial


class Comparison(_Record):
    metric: str
    baseline: float
    candidate: float
    change: float  # fraction; positive means better, whatever the metric's direction
    pairs_better: int
    pairs: int


class Build(_Record):
    image_size_mb: float | None
    build_seconds: float


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
    build: Build | None
    pairs: list[Pair]
    comparisons: dict[str, Comparison]
    branch: str | None = None


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
    objective: dict[str, object]
    cost_of_limits_month_usd: float
    baseline: BaselineResult
    candidates: list[CandidateResult]
    ranking: list[str]  # slugs of proposed candidates, best first
    interrupted: bool = False
