"""The search space (pure): which settings the closed-loop search varies, over which values,
and the candidate a configuration of them makes.

The technology packs define it. A setting is searched when a pack's fix or exploratory move
touches it, or when it is the partner a searched setting `interacts` with (workers and
threads); it must be a `tune` setting the pack can write. Its domain is the pack's, narrowed to
what a run can try: whole numbers from their low end to 16 times the current value (at least
32), on a log scale when that spans a factor of 8 or more; switches both ways; enums only the
values a pack proposed (a worker class whose package is installed). A setting that multiplies
processes (`interacts` names memory) is capped by the memory the baseline was measured to use
per process: more would pass the sandbox's memory ceiling before it is ever built."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from mutbot.packs.model import Move, Seen, Value, make_move
from mutbot.packs.survey import Survey

SPAN = 16  # whole numbers: up to this many times the current value ...
FLOOR = 32  # ... and at least this high
Kind = Literal["int", "float", "choice"]


@dataclass(frozen=True)
class Dimension:
    seen: Seen
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Value, ...] = ()
    why: str = ""  # how the domain was chosen, for the PR and results.json

    @property
    def key(self) -> str:
        return self.seen.key

    @property
    def current(self) -> Value:
        return self.seen.value

    def holds(self, value: Value) -> bool:
        if self.kind == "choice":
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return self.low <= value <= self.high and (self.kind == "float" or value == int(value))


@dataclass(frozen=True)
class Memory:
    """What the baseline used and may use: the sandbox's limit and the ceiling's share."""

    peak_mb: float
    limit_mb: float
    ceiling: float  # share of the limit a candidate's peak may reach


@dataclass(frozen=True)
class Space:
    dims: tuple[Dimension, ...]
    notes: tuple[str, ...] = ()

    def current(self) -> dict[str, Value]:
        return {d.key: d.current for d in self.dims}

    def changed(self, params: Mapping[str, Value]) -> dict[str, Value]:
        """The settings `params` set to something else than the baseline's value."""
        return {
            d.key: params[d.key] for d in self.dims if params.get(d.key, d.current) != d.current
        }

    def moves(self, params: Mapping[str, Value]) -> tuple[Move, ...] | None:
        """The moves that write `params`; None when one of them cannot be written."""
        out = []
        for dim in self.dims:
            value = params.get(dim.key, dim.current)
            if value == dim.current:
                continue
            move = make_move(dim.seen, value, "chosen by the closed-loop search")
            if move is None:
                return None
            out.append(move)
        return tuple(out)

    def params_of(self, changed: Mapping[str, Value]) -> dict[str, Value] | None:
        """A configuration from the settings a candidate changed (the guard's reading of its
        diff); None when it changes a setting outside the space or a value outside a domain."""
        keys = {d.key: d for d in self.dims}
        if any(k not in keys or not keys[k].holds(v) for k, v in changed.items()):
            return None
        return {d.key: changed.get(d.key, d.current) for d in self.dims}


def build(survey: Survey, memory: Memory | None, keep: Iterable[str] = ()) -> Space:
    """The space the survey's packs define; `keep`: setting keys no candidate may change."""
    kept = set(keep)
    moves = [m for f in survey.findings for m in f.fix] + list(survey.explore)
    proposed: dict[str, list[Value]] = {}
    for move in moves:
        proposed.setdefault(move.seen.key, []).append(move.value)
    by_key = {s.key: s for s in survey.seen}
    wanted = dict.fromkeys(k for k in proposed if k in by_key)
    for key in list(wanted):
        seen = by_key[key]
        for name in seen.setting.interacts:
            partner = f"{seen.pack}.{name}"
            if partner in by_key:
                wanted.setdefault(partner)
    dims, notes = [], []
    for key in wanted:
        seen = by_key[key]
        if {key, seen.setting.name} & kept or seen.setter is None or seen.setting.safety != "tune":
            continue
        dim = _dimension(seen, proposed.get(key, []), memory)
        if dim is None:
            notes.append(f"not searched: {key} ({seen.setting.type} without a domain)")
        else:
            dims.append(dim)
    return Space(tuple(dims), tuple(notes))


def _dimension(seen: Seen, proposed: list[Value], memory: Memory | None) -> Dimension | None:
    setting, value = seen.setting, seen.value
    if setting.type == "bool" and isinstance(value, bool):
        return Dimension(seen, "choice", choices=(value, not value), why="on or off")
    if setting.choices or setting.type in ("enum", "str"):
        options = tuple(dict.fromkeys([value, *proposed]))
        if len(options) < 2:
            return None
        return Dimension(seen, "choice", choices=options, why="the values the packs proposed")
    if setting.type == "int" and isinstance(value, int) and not isinstance(value, bool):
        return _whole(seen, value, [v for v in proposed if isinstance(v, int)], memory)
    if setting.type == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        if setting.low is None or setting.high is None:
            return None
        return Dimension(seen, "float", setting.low, setting.high, why="the pack's domain")
    return None


def _whole(seen: Seen, value: int, proposed: list[int], memory: Memory | None) -> Dimension:
    setting = seen.setting
    if setting.low is not None:
        low, source = int(setting.low), "the pack's domain"
    else:  # no domain: a count of one or more stays one or more (0 threads would not start)
        low, source = (1, "from 1") if value >= 1 else (min(value, 0), "from 0")
    reach = max(value * SPAN, FLOOR)
    high = min(int(setting.high), reach) if setting.high is not None else reach
    why = f"{low}..{high}: {source} up to {SPAN}× the current value (at least {FLOOR})"
    if memory is not None and "memory" in setting.interacts and value >= 1:
        per = memory.peak_mb / value
        fits = math.floor(memory.ceiling * memory.limit_mb / per) if per > 0 else high
        if fits < high:
            high = max(low, value, fits)
            why = (
                f"{low}..{high}: {per:.0f} MiB measured per {setting.name} (the baseline's "
                f"peak over {value}); more would pass {memory.ceiling:.0%} of "
                f"{memory.limit_mb:.0f} MiB"
            )
    wide = max([high, value, *proposed]), min([low, value, *proposed])
    if wide != (high, low):  # a value a pack proposed lies outside: the range takes it in
        why += f"; widened to {wide[1]}..{wide[0]} for the values the packs proposed"
    high, low = wide
    log = low >= 1 and high / low >= 8
    return Dimension(seen, "int", low, high, log, why=why)
