"""The model behind the closed-loop search: an Optuna study driven by ask and tell.

Optuna keeps the history and proposes the next configuration from every result told so far:
TPE by default (multivariate, so settings that pay off only together are modelled together),
or random sampling as a control (Optuna's Gaussian-process sampler needs PyTorch, which mutbot
does not install). Seeded, so a run is
deterministic for its seed. Values are the screening estimate of the primary as d (the log
ratio, + = better); a configuration that failed gets FAILED, so the model learns to avoid
its region instead of forgetting it."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Literal

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from mutbot.packs.model import Value
from mutbot.tune.space import Dimension, Space

FAILED = -2.0  # d of a configuration that failed (about 7× worse than the baseline)
Sampler = Literal["tpe", "random"]

optuna.logging.set_verbosity(logging.WARNING)  # a run prints its own lines, not Optuna's


def distribution(dim: Dimension) -> BaseDistribution:
    if dim.kind == "choice":
        return CategoricalDistribution(_choices(dim.choices))
    if dim.kind == "int":
        return IntDistribution(int(dim.low), int(dim.high), log=dim.log)
    return FloatDistribution(dim.low, dim.high, log=dim.log)


def _choices(values: tuple[Value, ...]) -> tuple[CategoricalChoiceType, ...]:
    return tuple(values)


class Model:
    """One study over one space; `ask` gives a full configuration, `tell` its values: one d per
    objective (the primary, then objective.also), every one + = better. With several, TPE
    models them jointly (Optuna's multi-objective TPE) and the loop ranks by the Pareto front."""

    def __init__(
        self, space: Space, seed: int, sampler: Sampler, startup: int, objectives: int = 1
    ) -> None:
        self.space = space
        self.objectives = objectives
        self.distributions = {d.key: distribution(d) for d in space.dims}
        self.study = optuna.create_study(
            directions=["maximize"] * objectives, sampler=_sampler(sampler, seed, startup)
        )
        self.told = 0

    def failed(self) -> list[float]:
        return [FAILED] * self.objectives

    def ask(self) -> tuple[optuna.trial.Trial, dict[str, Value]]:
        trial = self.study.ask(self.distributions)
        return trial, {k: _plain(v) for k, v in trial.params.items()}

    def tell(self, trial: optuna.trial.Trial, values: list[float]) -> None:
        self.study.tell(trial, values)
        self.told += 1

    def add(self, params: Mapping[str, Value], values: list[float]) -> None:
        """A configuration measured elsewhere (a seed, the ledger's history)."""
        self.study.add_trial(
            optuna.trial.create_trial(
                params=dict(params), distributions=self.distributions, values=values
            )
        )
        self.told += 1


def _plain(value: object) -> Value:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    raise TypeError(f"unexpected parameter value {value!r}")


def _sampler(name: Sampler, seed: int, startup: int) -> optuna.samplers.BaseSampler:
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():  # `multivariate` and `group` are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, n_startup_trials=startup
        )
