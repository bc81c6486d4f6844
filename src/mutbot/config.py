"""The .mutbot.yml file: a typed tree, validated with pydantic, every error naming file and key."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mutbot import untrusted
from mutbot.config_base import Duration, Glob, Kept, LongDuration, Percent, Section
from mutbot.config_errors import format_errors
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError
from mutbot.metrics import METRICS, OBJECTIVES
from mutbot.units import shown

CONFIG_LOCATIONS = (".mutbot.yml", ".github/mutbot.yml")
MAX_FILE = 64 * 1024  # bytes of .mutbot.yml: PyYAML reads ~100 KB/s at worst
MAX_LIST = 256  # globs in targets, protected, propose.keep


class Tests(Section):
    command: str | None = None
    timeout: Duration = 120.0


class Load(Section):
    """Neither users nor arrival_rate: calibrated (docs/config.md#load, mutbot.calibrate).
    Seconds left unwritten (null) are sized by request counts instead."""

    locustfile: str
    users: int | None = Field(None, ge=1, le=10_000)  # closed loop of this many users
    spawn_rate: float = Field(20.0, gt=0, le=10_000)
    duration: Duration | None = None  # null: at least 5 s and until min_requests
    warmup: Duration | None = None  # null: at least 1 s and until warmup_requests
    arrival_rate: float | None = Field(None, gt=0)  # requests/s: open-loop load; None: closed
    warmup_requests: int | None = Field(None, ge=0, le=1_000_000)  # null: 200 (0 with warmup)
    min_requests: int | None = Field(None, ge=0, le=10_000_000)  # null: from objective.primary
    max_duration: Duration = 20.0  # a window never runs longer (nor shorter than duration)
    fraction: Percent = 0.5  # calibrated: open-loop rate as a share of the measured capacity

    @field_validator("duration", "max_duration")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("expected a duration above zero")
        return value

    @field_validator("fraction")
    @classmethod
    def _share(cls, value: float) -> float:
        if value <= 0:  # parse_fraction already refuses 1 and more: saturation
            raise ValueError("expected a share of the capacity above 0, e.g. 0.5 or 50%")
        return value


# How much worse than the baseline a candidate may get on each metric (a fraction; the error
# rate in absolute terms: 0.001 = +0.1 percentage points), whatever its primary gain: the
# metrics that cost money or users' time. Memory is judged by the headroom left under the
# limit instead (Objective.memory_ceiling): more workers always use more memory.
DEFAULT_GUARDRAILS: dict[str, float] = {
    "error_rate": 0.001,
    "throughput_rps": 0.10,
    "latency_p50_ms": 0.10,
    "latency_p95_ms": 0.10,
    "latency_p99_ms": 0.10,
    "cpu_ms_per_request": 0.10,
    "cost_per_mreq_usd": 0.10,
}


class Objective(Section):
    primary: str = "latency_p95_ms"
    also: list[str] = Field(default_factory=list)  # further objectives, for the Pareto front
    guardrails: dict[str, float | None] = Field(default_factory=dict)
    # the share of sandbox.memory a candidate's peak memory may reach; null: no ceiling
    memory_ceiling: Percent | None = 0.8

    @field_validator("memory_ceiling")
    @classmethod
    def _some_headroom(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("expected a share of the memory limit above 0 (0.8 or 80%), or null")
        return value

    @field_validator("primary")
    @classmethod
    def _known_objective(cls, value: str) -> str:
        if value not in OBJECTIVES:
            raise ValueError(f"expected one of {', '.join(OBJECTIVES)}, got {shown(value)}")
        return value

    @field_validator("also")
    @classmethod
    def _known_objectives(cls, value: list[str]) -> list[str]:
        for name in value:
            cls._known_objective(name)
        return value

    @field_validator("guardrails")
    @classmethod
    def _known_metrics(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        unknown = sorted(set(value) - set(METRICS))
        if unknown:
            raise ValueError(
                f"unknown metric {shown(unknown[0])}; expected one of {', '.join(METRICS)}"
            )
        if any(v is not None and v < 0 for v in value.values()):
            raise ValueError("expected limits of zero or more (or null to drop a default)")
        return value

    def limits(self) -> dict[str, float]:
        """The defaults, overridden by the file (null drops one); never the primary itself."""
        merged = {**DEFAULT_GUARDRAILS, **self.guardrails}
        return {k: v for k, v in merged.items() if v is not None and k != self.primary}

    def wanted(self) -> set[str]:
        """The metrics the config names: primary, also and its own guardrails. Some cost time
        to measure (build_seconds: a cold build before every trial), so only these are."""
        named = {k for k, v in self.guardrails.items() if v is not None}
        return {self.primary, *self.also, *named}


class Gates(Section):
    confidence: float = Field(0.85, ge=0, le=1)
    risk: float = Field(5.0, ge=0, le=10.01)
    complexity: float = Field(8.0, ge=0, le=10.01)


class Judge(Section):
    alpha: float = Field(0.01, gt=0, lt=0.5)
    min_effect: Percent = 0.05
    pairs: int = Field(10, ge=1, le=200)
    screen_pairs: int = Field(4, ge=1, le=200)
    confirm_top: int = Field(3, ge=1, le=50)
    aa_pairs: int = Field(4, ge=0, le=200)
    max_reruns: int = Field(2, ge=0, le=20)
    # a guardrail is cleared when its regression's one-sided bound at this level is inside the
    # limit; it convicts only at `alpha`. In between: undecided, and the verdict inconclusive.
    guardrail_alpha: float = Field(0.10, gt=0, lt=0.5)
    gates: Gates = Field(default_factory=Gates)

    @model_validator(mode="after")
    def _alpha_reachable(self) -> Judge:
        # The exact test cannot give p below 1/2^n; the CI's lower bound needs alpha/2 and Holm
        # multiplies the smallest p by the number of candidates confirmed.
        # (logarithms of quotients: 2 / 5e-324 would overflow to inf)
        needed = max(1, math.log2(self.confirm_top)) - math.log2(self.alpha)
        if self.pairs < math.ceil(needed - 1e-9):
            raise ValueError(
                f"with {self.pairs} pairs the exact test can never reach alpha {self.alpha:g} "
                f"(smallest p = 1/2^{self.pairs}; the confidence interval needs alpha/2 and "
                f"{self.confirm_top} confirmed candidates multiply p by up to "
                f"{self.confirm_top}); use pairs: {math.ceil(needed - 1e-9)} or more"
            )
        return self


class Cost(Section):
    vcpu_hour_usd: float = Field(0.04048, ge=0)
    gb_hour_usd: float = Field(0.004445, ge=0)


class Policy(Section):
    max_changed_lines: int = Field(200, ge=1)
    max_files: int = Field(10, ge=1)
    allowed_kinds: list[Literal["incremental", "radical"]] = Field(
        default_factory=lambda: list[Literal["incremental", "radical"]](["incremental", "radical"]),
        min_length=1,
    )
    max_prs_per_week: int | None = Field(None, ge=0)  # pull requests opened, rolling 7 days
    quiet_hours: str | None = None  # "22:00-06:00" (UTC): no pull request is opened then
    reviewers: list[str] = Field(default_factory=list)  # requested on every mutbot PR
    codeowners: bool = True  # also request the CODEOWNERS of the changed files
    dashboard: bool = True  # keep one issue up to date with what mutbot has open and refused

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(
            r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value
        ):
            raise ValueError(f"expected HH:MM-HH:MM in UTC, e.g. 22:00-06:00, got {shown(value)}")
        return value


class Production(Section):
    """Where merged mutations are watched: a Prometheus HTTP API and a PromQL query per metric."""

    prometheus: str  # base URL, e.g. http://prometheus:9090
    queries: dict[str, str] = Field(min_length=1)  # metric name (see METRICS) -> PromQL
    window: LongDuration = 86_400.0  # compared before and after the merge, each this long
    step: LongDuration = 300.0  # resolution of the query_range samples
    settle: LongDuration = 0.0  # skipped right after the merge (rollout time)
    error_rate_limit: Percent = 0.05  # an error rate above this after the merge: revert
    min_realised: Percent = 0.5  # realised / predicted improvement below this: revert
    timeout: Duration = 30.0
    # how long after a merge "no data" (Prometheus down, too few samples) is retried before it
    # is recorded as final
    watch_for: LongDuration = 7 * 86_400.0

    @field_validator("queries")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(METRICS))
        if unknown:
            raise ValueError(
                f"unknown metric {shown(unknown[0])}; expected one of {', '.join(METRICS)}"
            )
        return value


class Propose(Section):
    count: int = Field(8, ge=1, le=50)  # candidates per run
    radical: Percent = 0.25  # share of them that may be radical (several changes, a redesign)
    prompts: str | None = None  # folder of prompt overrides, relative to the project
    # Settings no proposer may change, as FILE:KEY (e.g. "config/server.ini:server.timeout_ms"):
    # values that describe the environment or a contract rather than a tuning choice.
    keep: list[Kept] = Field(default_factory=list, max_length=MAX_LIST)


class Search(Section):
    """The closed-loop search (`--proposer tune`, docs/search.md): how many configurations it
    may screen, for how long, and with which model."""

    trials: int = Field(20, ge=1, le=500)  # configurations screened, the seeds included
    budget: LongDuration | None = None  # wall time of the search phase (e.g. 20m); null: none
    sampler: Literal["tpe", "random"] = "tpe"  # Optuna's TPE; random: a control
    reduce: bool = True  # drop each setting of a winner whose removal costs nothing measured


class Llm(Section):
    """The Anthropic proposer. Prices are per million tokens; set your contract's."""

    model: str = "claude-sonnet-5-5"
    max_usd: float = Field(1.0, gt=0)  # per run; no request starts that could pass it
    max_tokens: int = Field(16_000, ge=256, le=128_000)  # output tokens per request
    input_usd_per_mtok: float = Field(3.0, ge=0)
    output_usd_per_mtok: float = Field(15.0, ge=0)
    timeout: Duration = 300.0  # per request
    max_retries: int = Field(4, ge=0, le=10)  # 429, 5xx and overloaded, with backoff
    repair_rounds: int = Field(1, ge=0, le=3)  # send a failing candidate's error back


class Config(Section):
    version: Literal[1]
    targets: list[Glob] = Field(min_length=1, max_length=MAX_LIST)
    protected: list[Glob] = Field(default_factory=lambda: [".github/**"], max_length=MAX_LIST)
    sandbox: Sandbox = Field(default_factory=Sandbox)
    tests: Tests = Field(default_factory=Tests)
    load: Load
    objective: Objective = Field(default_factory=Objective)
    cost: Cost = Field(default_factory=Cost)
    policy: Policy = Field(default_factory=Policy)
    judge: Judge = Field(default_factory=Judge)
    propose: Propose = Field(default_factory=Propose)
    search: Search = Field(default_factory=Search)
    llm: Llm = Field(default_factory=Llm)
    production: Production | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # YAML's true would pass as 1
            raise ValueError(f"expected 1 (the only config version), got {shown(value)}")
        return value


def find_config(project: Path) -> Path:
    for name in CONFIG_LOCATIONS:
        if (project / name).is_file():
            return project / name
    raise ConfigError(
        f"{project}: no config file; create .mutbot.yml (see docs/config.md) or .github/mutbot.yml"
    )


def load_config(path: Path) -> Config:
    try:
        text = untrusted.read(path, MAX_FILE).decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from exc
    except ValueError as exc:  # too large
        raise ConfigError(f"{path}: {exc}; a config file is a few kilobytes") from exc
    try:
        data = untrusted.load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = (getattr(exc, "problem", None) or str(exc).split("\n")[0])[:200]
        where = [] if isinstance(exc, untrusted.YamlRefused) else ["not valid YAML"]
        if mark:
            where.append(f"at line {mark.line + 1}, column {mark.column + 1}")
        head = " ".join(where)
        raise ConfigError(f"{path}: {head}: {problem}" if head else f"{path}: {problem}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (version, targets, load, ...)")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(path, exc, Config)) from exc


def overridden(config: Config, source: str, changes: dict[str, dict[str, object]]) -> Config:
    """The config with `changes` (section -> key -> value) applied and validated again, as if
    the file said so: `--count 999` is refused like `propose.count: 999` would be."""
    data = config.model_dump()
    for section, values in changes.items():
        data[section] = {**data[section], **values}
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(Path(source), exc, Config)) from exc


def check_paths(config: Config, project: Path, path: Path) -> None:
    """Every file or folder the config names resolves inside the project (symlinks followed):
    a build context of `..` or a locustfile linked to /etc would read outside the checkout."""
    root = project.resolve()
    named = {
        "sandbox.dockerfile": config.sandbox.dockerfile,
        "sandbox.context": config.sandbox.context,
        "load.locustfile": config.load.locustfile,
        "propose.prompts": config.propose.prompts,
    }
    problems = []
    for key, value in named.items():
        if value is None:
            continue
        try:
            where = (root / value).resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
            problems.append(f"{path}: {key}: cannot resolve the path {shown(value)}")
            continue
        if not where.is_relative_to(root):
            problems.append(
                f"{path}: {key}: must stay inside the project folder {root}, "
                f"got {shown(value)} (resolves to {shown(str(where))})"
            )
    if problems:
        raise ConfigError("\n".join(problems))
