"""The judging path of a run on scripted trials (no Docker): A/A pairs spread through the run, a
noise floor one bad minute cannot poison, transients measured again, guardrails judged by
statistics, and "inconclusive" that the ledger lets be measured again."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from mutbot.calm import Calm, NoQuiet, Settled
from mutbot.judge import Outcome
from mutbot.ledger.model import evaluated
from mutbot.ledger.views import MAX_UNDECIDED, history
from mutbot.proposers.base import Deduper
from mutbot.results import Noise, Pair
from mutbot.run.evaluate import evaluate, schedule
from testing import scripted
from testing.records import candidate, run


def judged(
    tmp_path: Path,
    response: scripted.Response,
    slugs: list[str],
    judge: dict[str, object] | None = None,
    objective: dict[str, object] | None = None,
) -> tuple[Noise | None, dict[str, Outcome], scripted.ScriptedTrials]:
    trials = scripted.ScriptedTrials(response)
    ctx = scripted.context(trials, scripted.config(judge, objective), tmp_path)
    base = scripted.baseline()
    subjects = [scripted.subject(s) for s in slugs]
    noise, decisions = evaluate(ctx, base, subjects, schedule(ctx, base, random.Random(1)))
    return noise, decisions, trials


def bad_first_minute(index: int, _name: str) -> float:
    """Right after the builds: the second side of the first pair (the first A/A pair) 2.5x
    slower, as the issue saw it."""
    return 2.5 if index == 1 else 1.0


def test_a_transient_in_the_first_pairs_does_not_set_the_minimum_effect(tmp_path: Path) -> None:
    response = scripted.noisy({"fast": {"latency_p95_ms": 0.83}}, disturb=bad_first_minute)
    noise, decisions, trials = judged(tmp_path, response, ["fast"])
    assert noise is not None and len(noise.pairs) == 4
    # the A/A pairs are spread through the run, not one block at its start
    aa = [i for i, name in enumerate(trials.names) if name.startswith("a-a-noise/")]
    assert aa[0] == 0 and aa[-1] > len(trials.names) - 4 and aa[2] - aa[1] > 4
    assert noise.placed[0] == "before the first candidate pair"
    assert noise.sd is not None and noise.sd > 0.3  # the plain sd: poisoned by the first pair
    assert noise.spread < 0.1  # the robust one is not
    outcome = decisions["fast"]
    assert outcome.verdict == "propose", outcome.reason
    assert outcome.judgement is not None
    assert outcome.judgement.min_effect_source == "judge.min_effect"


def test_the_old_rule_would_have_thrown_the_winner_away(tmp_path: Path) -> None:
    """Twice the plain sd of a block poisoned by one bad pair is far above a real gain."""
    response = scripted.noisy({"fast": {"latency_p95_ms": 0.83}}, disturb=bad_first_minute)
    noise, _, _ = judged(tmp_path, response, ["fast"])
    assert noise is not None and noise.sd is not None
    assert 2 * noise.sd > 0.19  # the old floor: more than the candidate's 17% gain


def test_a_transient_during_confirmation_is_measured_again(tmp_path: Path) -> None:
    def spike(_index: int, name: str) -> float:
        return 3.0 if name == "fast/confirm-5-baseline" else 1.0  # the first measurement only

    response = scripted.noisy({"fast": {"latency_p95_ms": 0.83}}, disturb=spike)
    _, decisions, trials = judged(tmp_path, response, ["fast"])
    assert "fast/confirm-5-retry1-baseline" in trials.names
    outcome = decisions["fast"]
    assert outcome.verdict == "propose", outcome.reason
    assert outcome.judgement is not None
    # the pair kept is the second measurement, and it says why the first was set aside
    kept = [p for p in _pairs(tmp_path, response) if p.remeasured]
    assert len(kept) == 1 and kept[0].index == 4
    (why,) = kept[0].remeasured
    assert why.startswith("measurement 1 set aside: a baseline trial's p95 latency")
    assert why.endswith("a transient")


def test_a_transient_that_persists_is_kept_and_said(tmp_path: Path) -> None:
    def stuck(_index: int, name: str) -> float:
        return 3.0 if name.startswith("fast/confirm-5-") and "baseline" in name else 1.0

    response = scripted.noisy({"fast": {"latency_p95_ms": 0.83}}, disturb=stuck)
    kept = [p for p in _pairs(tmp_path, response) if p.remeasured]
    assert len(kept) == 1 and len(kept[0].remeasured) == 3  # max_reruns 2: three measurements
    assert kept[0].remeasured[-1].startswith("kept after 3 measurements, still off")


def _pairs(tmp_path: Path, response: scripted.Response) -> list[Pair]:
    trials = scripted.ScriptedTrials(response)
    ctx = scripted.context(trials, scripted.config(), tmp_path)
    base, fast = scripted.baseline(), scripted.subject("fast")
    evaluate(ctx, base, [fast], schedule(ctx, base, random.Random(1)))
    return fast.pairs


def test_a_real_guardrail_regression_is_convicted(tmp_path: Path) -> None:
    response = scripted.noisy(
        {"greedy": {"latency_p95_ms": 0.7, "throughput_rps": 0.75, "cost_per_mreq_usd": 1.0}}
    )
    _, decisions, _ = judged(tmp_path, response, ["greedy"])
    outcome = decisions["greedy"]
    assert (outcome.verdict, outcome.stage, outcome.final) == ("reject", "guardrail", True)
    assert outcome.reason.startswith("throughput worse by +")
    assert outcome.judgement is not None
    statuses = {c.metric: c.status for c in outcome.judgement.guardrails}
    assert statuses["throughput_rps"] == "convicted"
    assert statuses["latency_p99_ms"] == "cleared"


def test_pure_noise_on_a_guardrail_convicts_nothing(tmp_path: Path) -> None:
    response = scripted.noisy({"fast": {"latency_p95_ms": 0.8}}, sigma=0.02)
    _, decisions, _ = judged(tmp_path, response, ["fast"])
    outcome = decisions["fast"]
    assert outcome.verdict == "propose", outcome.reason
    assert outcome.judgement is not None
    assert {c.status for c in outcome.judgement.guardrails} == {"cleared"}


def test_a_guardrail_it_can_neither_clear_nor_convict_is_inconclusive(tmp_path: Path) -> None:
    response = scripted.noisy({"fast": {"latency_p95_ms": 0.8}}, sigma=0.02)

    def wild_p99(ref: str, name: str, index: int) -> dict[str, float]:
        metrics = response(ref, name, index)
        rng = random.Random(index)
        metrics["latency_p99_ms"] *= 2.0 ** rng.uniform(-1, 1)  # a p99 from a few samples
        return metrics

    _, decisions, _ = judged(tmp_path, wild_p99, ["fast"])
    outcome = decisions["fast"]
    assert (outcome.verdict, outcome.final) == ("inconclusive", False), outcome.reason
    assert "guardrail undecided: p99 latency" in outcome.reason
    assert outcome.judgement is not None and outcome.judgement.settle
    assert "To settle it: " in outcome.reason


def test_too_noisy_to_decide_is_inconclusive_and_says_what_would_settle_it(
    tmp_path: Path,
) -> None:
    response = scripted.noisy({"maybe": {"latency_p95_ms": 0.92}}, sigma=0.25, seed=3)
    _, decisions, _ = judged(tmp_path, response, ["maybe"])
    outcome = decisions["maybe"]
    assert outcome.verdict == "inconclusive", outcome.reason
    assert outcome.stage == "decide" and not outcome.final
    assert outcome.judgement is not None and outcome.judgement.settle is not None
    assert "rerun" in outcome.judgement.settle


def test_an_identical_copy_is_a_confident_no_on_a_quiet_machine(tmp_path: Path) -> None:
    response = scripted.noisy({}, sigma=0.01)
    _, decisions, _ = judged(tmp_path, response, ["same"])
    outcome = decisions["same"]
    assert (outcome.verdict, outcome.stage, outcome.final) == ("reject", "decide", True)
    assert outcome.reason.startswith("not better by the minimum effect")


def test_screening_ranks_and_never_vetoes_on_a_point_estimate(tmp_path: Path) -> None:
    """Four candidates, two confirmation slots: the noisy memory-hungry one is not vetoed in
    screening; the two best by estimate are confirmed; the others are left undecided."""
    response = scripted.noisy(
        {
            "best": {"latency_p95_ms": 0.7},
            "good": {"latency_p95_ms": 0.8, "memory_peak_mb": 1.9},
            "meh": {"latency_p95_ms": 0.97},
            "worse": {"latency_p95_ms": 1.1},
        }
    )
    _, decisions, _ = judged(tmp_path, response, ["best", "good", "meh", "worse"])
    assert decisions["best"].verdict == "propose"
    assert decisions["good"].verdict == "propose"  # 190 MiB: far inside the limit
    for slug in ("meh", "worse"):
        assert (decisions[slug].stage, decisions[slug].final) == ("screen", False)
        assert "not among the 2 best to confirm" in decisions[slug].reason


def test_the_ledger_lets_an_inconclusive_candidate_be_tried_again() -> None:
    undecided = candidate("maybe").model_copy(
        update={"verdict": "inconclusive", "stage": "decide", "final": False}
    )
    entries = evaluated(run([undecided], []))
    assert entries[0].final is False
    found = history(entries)
    assert not found[0].final
    assert undecided.fingerprint not in Deduper.from_history(found).seen  # measured again
    # ... but not forever: after MAX_UNDECIDED undecided runs its verdict stands
    many = entries * MAX_UNDECIDED
    assert history(many)[0].final
    assert undecided.fingerprint in Deduper.from_history(history(many)).seen


def test_a_final_rejection_stays_final() -> None:
    rejected = candidate("no").model_copy(
        update={"verdict": "reject", "stage": "guardrail", "final": True}
    )
    found = history(evaluated(run([rejected], [])))
    assert found[0].final
    assert rejected.fingerprint in Deduper.from_history(found).seen


@pytest.mark.parametrize("aa_pairs", [0, 1, 6])
def test_every_a_a_pair_asked_for_is_measured(tmp_path: Path, aa_pairs: int) -> None:
    response = scripted.noisy({"fast": {"latency_p95_ms": 0.8}})
    noise, _, trials = judged(tmp_path, response, ["fast"], judge={"aa_pairs": aa_pairs})
    assert len(noise.pairs if noise else []) == aa_pairs
    assert sum(n.startswith("a-a-noise/") for n in trials.names) == 2 * aa_pairs


class BusyAtFirst:
    """A machine busy before the first two trials (say, a teardown), then calm."""

    def __init__(self) -> None:
        self.waits = 0

    def settle(self) -> Settled:
        return NoQuiet().settle()

    def wait(self) -> Calm:
        self.waits += 1
        if self.waits <= 2:
            return Calm(False, 15.0, 30, None, "started anyway: 63% CPU busy after 15 s")
        return Calm(True, 0.3, 1, None, "calm")


def test_every_trial_waits_for_a_calm_machine_and_records_it(tmp_path: Path) -> None:
    trials = scripted.ScriptedTrials(scripted.noisy({"fast": {"latency_p95_ms": 0.8}}))
    quiet = BusyAtFirst()
    ctx = replace(scripted.context(trials, scripted.config(), tmp_path), quiet=quiet)
    base, fast = scripted.baseline(), scripted.subject("fast")
    noise, _ = evaluate(ctx, base, [fast], schedule(ctx, base, random.Random(1)))
    assert quiet.waits == len(trials.names)  # once before every trial
    assert noise is not None
    first = noise.pairs[0]
    busy = [t.started_busy for t in (first.baseline, first.candidate)]
    assert busy == ["started anyway: 63% CPU busy after 15 s"] * 2
    assert all(t.started_busy is None and t.calm_wait == 0.3 for t in (fast.pairs[0].baseline,))
