from __future__ import annotations

import math

import numpy as np
import pytest

from mutbot.stats import (
    holm,
    p_better,
    paired_test,
    pareto_front,
    smallest_p,
    walsh_averages,
)


def test_exact_p_and_the_smallest_reachable_p() -> None:
    assert paired_test([0.1, 0.2, 0.3, 0.15, 0.25, 0.05, 0.12, 0.22], 0.01).p_value == 1 / 256
    assert smallest_p(8) == 1 / 256
    assert paired_test([-0.1, -0.2, -0.3], 0.01).p_value == 1.0


def test_hodges_lehmann_is_the_median_of_walsh_averages() -> None:
    d = [0.1, 0.4, 0.2]
    assert list(walsh_averages(d)) == pytest.approx([0.1, 0.15, 0.2, 0.25, 0.3, 0.4])
    assert paired_test(d, 0.05).estimate == pytest.approx(0.225)


def test_confidence_bounds_are_the_textbook_walsh_order_statistics() -> None:
    # n = 10, two-sided 99%: the 4th smallest and 4th largest Walsh averages (critical T = 3)
    d = np.random.default_rng(5).normal(0.3, 0.3, 10)
    walsh = walsh_averages(d)
    test = paired_test(d, 0.01)
    assert (test.low, test.high) == (walsh[3], walsh[-4])
    # n = 8: only the extremes; n = 7: alpha is out of reach, so the interval is unbounded
    d8 = d[:8]
    assert (paired_test(d8, 0.01).low, paired_test(d8, 0.01).high) == (
        walsh_averages(d8)[0],
        walsh_averages(d8)[-1],
    )
    assert paired_test(d[:7], 0.01).low == -math.inf


def test_no_effect_is_called_better_at_most_at_the_claimed_rate() -> None:
    rng = np.random.default_rng(2026)
    runs = 3000
    calls = sum(p_better(rng.normal(0, 0.3, 10)) <= 0.01 for _ in range(runs))
    assert calls / runs <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / runs)


def test_the_interval_covers_the_true_shift_at_least_at_its_level() -> None:
    rng = np.random.default_rng(7)
    runs = 300
    covered = 0
    for _ in range(runs):
        test = paired_test(rng.normal(0.2, 0.3, 10) + rng.standard_t(4, 10) * 0.05, 0.05)
        covered += test.low <= 0.2 <= test.high
    assert covered / runs >= 0.95 - 3 * math.sqrt(0.05 * 0.95 / runs)


def test_rejects_empty_or_non_finite_input() -> None:
    with pytest.raises(ValueError):
        paired_test([], 0.01)
    with pytest.raises(ValueError):
        paired_test([0.1, math.inf], 0.01)


def test_holm() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([]) == []
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_pareto_front() -> None:
    points = {"a": [1.0, 2.0], "b": [2.0, 1.0], "c": [0.5, 0.5], "d": [1.0, 2.0]}
    assert pareto_front(points) == ["a", "b", "d"]
    assert pareto_front({}) == []
