"""The closed loop of a run (`--proposer tune`): screen the seeds, then ask the model for the
next configuration, build, test and screen it, tell the model, until the budget is spent; the
best few (reduced to the settings that matter) go on to the run's fresh confirmation block.

Screening only ranks and steers: no verdict rests on it. The confirmation block that follows
never took part in choosing, so the winner's curse of the search cannot reach the verdict."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from mutbot.candidates import slugify
from mutbot.errors import StageFailure
from mutbot.judge import Settings, compare, screen
from mutbot.metric_math import to_change, to_d
from mutbot.noise import NoiseSchedule
from mutbot.packs.guard import check
from mutbot.packs.model import Value
from mutbot.proposers.base import HistoryEntry
from mutbot.proposers.learning import apply_diff
from mutbot.results import SearchDimension, SearchRecord, SearchStep
from mutbot.run.context import Context
from mutbot.run.evaluate import own, selection, settings
from mutbot.run.measure import block
from mutbot.run.stages import prepare
from mutbot.run.subject import Subject, recorded
from mutbot.stats import pareto_front
from mutbot.tune import candidate as candidates
from mutbot.tune.minimal import reduce
from mutbot.tune.space import Space
from mutbot.tune.study import FAILED, Model

ASKS = 5  # the model may ask this many times the budget (repeats cost nothing but a bound)


@dataclass
class Loop:
    ctx: Context
    baseline: Subject
    space: Space
    files: dict[str, str]
    noise: NoiseSchedule
    subjects: list[Subject]  # every subject of the run: the loop appends the ones it builds
    rules: Settings = field(init=False)
    model: Model = field(init=False)
    steps: list[SearchStep] = field(default_factory=list)
    measured: dict[str, list[float]] = field(default_factory=dict)  # fingerprint -> d's
    known: dict[str, list[float]] = field(default_factory=dict)  # same base, from the ledger
    scores: dict[str, list[float]] = field(default_factory=dict)  # slug -> d per objective
    started: float = field(default_factory=time.monotonic)
    warm: int = 0

    def __post_init__(self) -> None:
        search = self.ctx.config.search
        self.rules = settings(self.ctx.config)
        startup = max(4, min(10, search.trials // 3))
        self.objectives = [self.ctx.config.objective.primary, *self.ctx.config.objective.also]
        self.model = Model(self.space, self.ctx.seed, search.sampler, startup, len(self.objectives))

    # -- the seeds and the history ------------------------------------------------------------

    def warm_start(self, history: tuple[HistoryEntry, ...], base: str) -> None:
        """Configurations the ledger measured: told to the model; on this very commit they are
        not measured again. The ledger holds the primary's effect only: a search over several
        objectives starts without it."""
        if len(self.objectives) > 1:
            return
        told: set[tuple[tuple[str, Value], ...]] = set()
        for entry in history:
            if entry.d is None or not math.isfinite(entry.d):
                continue
            if entry.base_commit == base:
                self.known[entry.fingerprint] = [entry.d]
            params = self._params_of_diff(entry.diff)
            if params is None:
                continue
            key = tuple(sorted(params.items()))
            if key not in told:
                told.add(key)
                self.model.add(params, [entry.d])
                self.warm += 1

    def _params_of_diff(self, diff: str) -> dict[str, Value] | None:
        new = apply_diff(diff, self.files) if diff else None
        view = self.ctx.view
        if new is None or view is None:
            return None
        guarded = check(view, {p: self.files[p] for p in new}, new)
        if guarded.problem or not guarded.changed:
            return None
        return self.space.params_of({c.key: c.after for c in guarded.changed})

    def params_of(self, subject: Subject) -> dict[str, Value] | None:
        """The configuration a prepared subject is, as the guard read its diff."""
        if subject.guarded is None or not subject.guarded.changed:
            return None
        return self.space.params_of({c.key: c.after for c in subject.guarded.changed})

    def seed(self, subject: Subject) -> None:
        assert subject.candidate is not None
        known = self.known.get(subject.candidate.fingerprint)
        if known is not None and not subject.failure:  # the model has it from the ledger
            estimate = to_change(self.objectives[0], known[0])
            subject.leave_out(
                "screen", f"measured on this commit in an earlier run: screening {estimate:+.1%}"
            )
            note = "measured on this commit before"
            self._step(
                "seed",
                subject.candidate.title,
                None,
                self.params_of(subject),
                known[0],
                "known",
                note,
            )
            return
        d = self._screen(subject)
        params = self.params_of(subject)
        values = d if d is not None else self.model.failed()
        if params is not None:
            self.model.add(params, values)
        self.measured[subject.candidate.fingerprint] = values
        self._step("seed", subject.candidate.title, subject, params, _first(d))

    # -- the loop -----------------------------------------------------------------------------

    def budget_left(self) -> str | None:
        """None while there is budget; else why the loop stops."""
        search = self.ctx.config.search
        screened = sum(1 for s in self.steps if s.status in ("screened", "failed"))
        if screened >= search.trials:
            return f"the budget of {search.trials} configurations is spent"
        if search.budget is not None and time.monotonic() - self.started >= search.budget:
            return f"the time budget of {search.budget:g} s is spent"
        return None

    def run(self) -> str:
        asks = ASKS * self.ctx.config.search.trials
        for _ in range(asks):
            stop = self.budget_left()
            if stop:
                return stop
            if not self.space.dims:
                return "nothing to search: the packs define no setting it may vary"
            self.next()
        return f"the model asked {asks} times, mostly for configurations already measured"

    def next(self) -> None:
        trial, params = self.model.ask()
        rationale = (
            f"Proposed by the closed-loop search ({self.ctx.config.search.sampler.upper()}, "
            f"configuration {len(self.steps) + 1}) from {self.model.told} measured so far."
        )
        built = candidates.build(
            self.space, params, self.files, self.ctx.view, self.ctx.rules, rationale
        )
        if isinstance(built, str):
            same = not self.space.changed(params)  # the baseline: d = 0 by definition
            self.model.tell(trial, [0.0] * len(self.objectives) if same else self.model.failed())
            status = "skipped"
            self._step("model", built, None, params, None, status, built)
            return
        fingerprint = built.fingerprint
        if fingerprint in self.measured or fingerprint in self.known:
            repeat = fingerprint in self.measured
            d = self.measured[fingerprint] if repeat else self.known[fingerprint]
            self.model.tell(trial, d)
            first = d[0]
            note = "measured earlier in this run" if repeat else "measured on this commit before"
            status = "repeat" if repeat else "known"
            self._step("model", built.title, None, params, first, status, note)
            return
        taken = {s.slug for s in self.subjects} | {"baseline", "a-a-noise"}
        subject = Subject(slugify(built.title, taken), built)
        self.subjects.append(subject)
        prepare(self.ctx, subject)
        screened = self._screen(subject)
        values = screened if screened is not None else self.model.failed()
        self.measured[fingerprint] = values
        self.model.tell(trial, values)
        self._step("model", built.title, subject, params, _first(screened))

    def _screen(self, subject: Subject) -> list[float] | None:
        """The screening estimate of every objective as d (+ = better); None: it failed."""
        if subject.failure:
            return None
        found: list[list[float]] = []
        with recorded(subject, "screen", self.ctx.reporter):
            pairs = self.ctx.config.judge.screen_pairs
            subject.screened_with(
                block(
                    self.ctx,
                    self.baseline,
                    subject,
                    pairs,
                    "screen",
                    self.noise.rng,
                    self.noise.tick,
                )
            )
            try:
                primary = screen(subject.screening, own(self.rules, subject))[0]
            except ValueError as exc:
                raise StageFailure("screen", str(exc)) from None
            found.append([primary, *(self._also(subject, m) for m in self.objectives[1:])])
        if not found:
            return None
        self.scores[subject.slug] = found[0]
        return found[0]

    def _also(self, subject: Subject, metric: str) -> float:
        """A further objective's screening estimate as d; unmeasurable counts as failed."""
        change = compare(subject.screening, metric, self.rules.alpha).change
        d = to_d(metric, change) if not math.isnan(change) else FAILED
        return max(FAILED, d)

    def _step(
        self,
        source: str,
        title: str,
        subject: Subject | None,
        params: dict[str, Value] | None,
        d: float | None,
        status: str | None = None,
        note: str = "",
    ) -> None:
        if status is None:
            status = "screened" if d is not None else "failed"
            failure = subject.failure if subject else None
            note = failure.reason if failure else note
        scored = [s.d for s in self.steps if s.status == "screened" and s.d is not None]
        if status == "screened" and d is not None:
            scored.append(d)
        primary = self.ctx.config.objective.primary
        self.steps.append(
            SearchStep.model_validate(
                {
                    "index": len(self.steps) + 1,
                    "source": source,
                    "title": title,
                    "slug": subject.slug if subject else None,
                    "params": params,
                    "status": status,
                    "d": d,
                    "change": to_change(primary, d) if d is not None else None,
                    "best": max(scored) if scored else None,
                    "seconds": round(time.monotonic() - self.started, 1),
                    "note": note[:300],
                }
            )
        )
        if subject is not None:
            shown = f"{to_change(primary, d):+.1%}" if d is not None else "failed"
            self.ctx.reporter.stage(subject.slug, f"search {len(self.steps)}: {shown}")

    # -- the end ------------------------------------------------------------------------------

    def chosen(self) -> list[Subject]:
        """The best few by their screening estimate; every other screened subject is left out
        with that reason (undecided: the ledger lets a later run measure it again)."""
        top = self.ctx.config.judge.confirm_top
        alive = [s for s in self.subjects if not s.failure and s.slug in self.scores]
        front = set(pareto_front({s.slug: self.scores[s.slug] for s in alive}))
        # several objectives: the Pareto front first, each part by the primary
        ranked = sorted(alive, key=lambda s: (s.slug not in front, -self.scores[s.slug][0]))
        for rank, subject in enumerate(ranked, 1):
            subject.selection = selection(subject, len(alive), rank, self.rules)
        primary = self.ctx.config.objective.primary
        for subject in ranked[top:]:
            estimate = to_change(primary, self.scores[subject.slug][0])
            subject.leave_out(
                "screen",
                f"screening estimate {estimate:+.1%}, not among the {top} best of "
                f"{len(alive)} screened configurations",
            )
        return ranked[:top]

    def record(self, stopped: str) -> SearchRecord:
        search = self.ctx.config.search
        return SearchRecord(
            sampler=search.sampler,
            trials=search.trials,
            budget_seconds=search.budget,
            seconds=round(time.monotonic() - self.started, 1),
            stopped=stopped,
            space=[
                SearchDimension(
                    key=d.key,
                    kind=d.kind,
                    current=d.current,
                    low=d.low if d.kind != "choice" else None,
                    high=d.high if d.kind != "choice" else None,
                    log=d.log,
                    choices=list(d.choices),
                    why=d.why,
                )
                for d in self.space.dims
            ],
            steps=self.steps,
            warm=self.warm,
            notes=list(self.space.notes),
        )


def _first(values: list[float] | None) -> float | None:
    return values[0] if values else None


def closed_loop(
    ctx: Context,
    baseline: Subject,
    subjects: list[Subject],
    noise: NoiseSchedule,
    space: Space,
    files: dict[str, str],
) -> tuple[list[Subject], SearchRecord]:
    """Screens the prepared seeds in `subjects`, searches, reduces the best; appends every
    subject it builds to `subjects` and returns the ones to confirm, with the search's record."""
    config = ctx.config
    judge = config.judge
    expected = judge.screen_pairs * config.search.trials + judge.pairs * judge.confirm_top
    noise.plan(expected)
    if not noise.pairs:
        noise.measure("before the first candidate pair")
    loop = Loop(ctx, baseline, space, files, noise, subjects)
    loop.warm_start(ctx.options.history, ctx.workspace.base)
    for subject in list(subjects):
        if loop.budget_left():
            if not subject.failure:
                subject.leave_out(
                    "screen", "not screened: the search's budget was spent on earlier seeds"
                )
            continue
        loop.seed(subject)
    stopped = loop.run()
    ctx.reporter.note(f"search: stopped, {stopped}")
    chosen = loop.chosen()
    if config.search.reduce:
        chosen = [reduce(loop, subject) for subject in chosen]
    return chosen, loop.record(stopped)
