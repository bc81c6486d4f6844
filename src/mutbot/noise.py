"""A/A pairs spread through the run: the baseline against itself, measured one pair at a time
between the candidates' pairs (not one block at the start, which one bad minute can poison)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

from mutbot.judge import noise_spread
from mutbot.metric_math import deltas
from mutbot.noise_rules import plain_spread
from mutbot.results import Noise, Pair
from mutbot.run.context import Context
from mutbot.run.measure import pair
from mutbot.run.subject import Subject


@dataclass
class NoiseSchedule:
    """`total` A/A pairs: `measure` one now, `plan` spreads the rest evenly over the candidate
    pairs to come, `tick` runs before each candidate pair, `finish` measures what is left."""

    ctx: Context
    baseline: Subject
    rng: random.Random
    total: int
    pairs: list[Pair] = field(default_factory=list)
    placed: list[str] = field(default_factory=list)
    interval: float = math.inf  # candidate pairs between two A/A pairs
    since: int = 0  # candidate pairs since the last A/A pair
    seen: int = 0  # candidate pairs so far

    def __post_init__(self) -> None:
        self.twin = replace(self.baseline, slug="a-a-noise", stages=[], pairs=[], invalid=[])

    @property
    def left(self) -> int:
        return self.total - len(self.pairs)

    def measure(self, where: str) -> None:
        if self.left <= 0:
            return
        self.ctx.reporter.stage(self.twin.slug, f"A/A pair {len(self.pairs) + 1}/{self.total}")
        index = len(self.pairs)
        self.pairs.append(
            pair(self.ctx, self.baseline, self.twin, index, self.total, "aa", self.rng)
        )
        self.placed.append(where)
        self.since = 0

    def plan(self, expected: int) -> None:
        """`expected` candidate pairs to come: one A/A pair every expected / left of them, the
        last after the last candidate pair (finish)."""
        self.interval = expected / self.left if self.left > 0 and expected > 0 else math.inf

    def tick(self) -> None:
        if self.left > 0 and self.since >= self.interval:
            self.measure(f"after {self.seen} candidate pairs")
        self.since += 1
        self.seen += 1

    def finish(self) -> None:
        while self.left > 0:
            self.measure(f"after the last candidate pair ({self.seen})")

    def result(self) -> Noise | None:
        if not self.pairs:
            return None
        primary = self.ctx.config.objective.primary
        spread = noise_spread(self.pairs, primary)
        sd = plain_spread([float(x) for x in deltas(self.pairs, primary)])
        self.ctx.reporter.stage(
            self.twin.slug, f"robust spread of ln ratio {spread:.3f} (sd {sd:.3f})"
        )
        return Noise(
            metric=primary,
            pairs=self.pairs,
            spread=spread,
            sd=sd if math.isfinite(sd) else None,
            placed=self.placed,
        )
