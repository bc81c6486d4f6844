"""Property tests for every parser of untrusted input: whatever the input, it loads (or
decides) or is refused with mutbot's own error, in bounded time; never another exception.

Inputs come from two sources: hypothesis' own strategies (any text, any JSON value, any bytes)
and the structure-aware generators of testing/hostile_inputs.py, one input per seed that
hypothesis draws (valid seeds with wrong types, huge numbers, NaN, deep nesting, aliases,
damaged text); a failure names the seed that made its input.
benchmarks/fuzz.py runs the same targets 10,000 times each.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutbot.github.body import read_marker
from mutbot.github.events import CommandError, decide, parse_command
from mutbot.ledger.model import parse
from mutbot.ledger.views import show
from testing.fuzz_targets import (
    EVENTS,
    WORDS,
    Target,
    all_targets,
    check_command,
    check_decision,
)

LIMIT = 2.0  # seconds for one input: anything slower is a hang
FEW = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SOME = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
SEEDS = st.integers(min_value=0, max_value=2**64)  # one pseudo-random structured input each

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | st.text(max_size=40)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Target]:
    return {t.name: t for t in all_targets(tmp_path_factory.mktemp("targets"))}


def bounded(target: Target, item: Any) -> str:
    started = time.perf_counter()
    outcome = target.run(item)  # raises on anything but a clean refusal
    assert time.perf_counter() - started < LIMIT
    assert outcome in ("accepted", "rejected")
    return outcome


def hostile(target: Target, seed: int) -> str:
    return bounded(target, target.generate(random.Random(seed)))


# .mutbot.yml


@FEW
@given(seed=SEEDS)
def test_config_loader_on_mutated_configs(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["config loader"], seed)


@FEW
@given(
    section=st.sampled_from(["sandbox", "load", "judge", "objective", "production", "propose"]),
    values=st.dictionaries(st.text(max_size=20), JSON, max_size=4),
)
def test_config_loader_on_any_values(
    targets: dict[str, Target], section: str, values: dict[str, Any]
) -> None:
    tree = {"version": 1, "targets": ["a"], "load": {"locustfile": "l.py"}, section: values}
    try:
        text = yaml.safe_dump(tree)
    except yaml.YAMLError:
        return
    bounded(targets["config loader"], text.encode("utf-8", "surrogatepass"))


# candidates files


@SOME
@given(seed=SEEDS)
def test_candidates_loader_on_mutated_files(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["candidates loader"], seed)


@SOME
@given(data=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_candidates_loader_on_any_bytes(targets: dict[str, Target], data: bytes) -> None:
    bounded(targets["candidates loader"], ("c.json", data))


# webhook events and the /mutate grammar


@SOME
@given(seed=SEEDS)
def test_event_classifier_on_mutated_payloads(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["event classifier"], seed)


@SOME
@given(event=st.sampled_from(EVENTS) | st.text(max_size=20), data=JSON)
def test_event_classifier_on_any_json(event: str, data: Any) -> None:
    check_decision(decide(event, data))


@SOME
@given(
    body=st.text(max_size=300)
    | st.lists(st.sampled_from(WORDS) | st.text(max_size=20), max_size=30).map(
        lambda words: "/mutate " + " ".join(words)
    )
)
def test_mutate_grammar_on_any_text(body: str) -> None:
    try:
        command = parse_command(body)
    except CommandError as exc:
        assert "\n" not in str(exc)
        return
    check_command(command)


@SOME
@given(seed=SEEDS)
def test_mutate_grammar_on_generated_commands(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["/mutate grammar"], seed)


# the ledger


@SOME
@given(seed=SEEDS)
def test_ledger_reader_on_mutated_lines(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["ledger reader"], seed)


@SOME
@given(lines=st.lists(st.binary(max_size=80) | JSON.map(lambda v: json.dumps(v).encode())))
def test_ledger_reader_on_any_lines(lines: list[bytes]) -> None:
    parsed = parse(b"\n".join(lines) + b"\n")
    show(parsed.entries)


# pull request markers


@SOME
@given(seed=SEEDS)
def test_marker_reader_on_mutated_markers(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["PR marker reader"], seed)


@SOME
@given(before=st.text(max_size=50), inner=st.text(max_size=200), after=st.text(max_size=20))
def test_marker_reader_on_any_text(before: str, inner: str, after: str) -> None:
    found = read_marker(f"{before}<!-- mutbot: {{{inner}}} -->{after}")
    assert found is None or isinstance(found, dict)


# results.json for `mutbot explain`


@FEW
@given(seed=SEEDS)
def test_explain_on_mutated_results(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["explain input"], seed)


@FEW
@given(data=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_explain_on_any_bytes(targets: dict[str, Target], data: bytes) -> None:
    bounded(targets["explain input"], (data, "use-4-workers"))


# globs


@SOME
@given(seed=SEEDS)
def test_globs_match_in_bounded_time(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["globs matching"], seed)


def test_the_targets_cover_every_parser(targets: dict[str, Target]) -> None:
    assert sorted(targets) == sorted(
        [
            "config loader",
            "candidates loader",
            "event classifier",
            "/mutate grammar",
            "ledger reader",
            "PR marker reader",
            "explain input",
            "globs matching",
            "diff reader (policy)",
        ]
    )


# the diff policy's strict reader (git's own reading: tests/test_policy_property.py)


@SOME
@given(seed=SEEDS)
def test_diff_reader_on_hostile_diffs(targets: dict[str, Target], seed: int) -> None:
    hostile(targets["diff reader (policy)"], seed)


@SOME
@given(text=st.text(max_size=300))
def test_diff_reader_on_any_text(text: str) -> None:
    from testing.fuzz_diffs import check

    assert check(text) in ("accepted", "rejected")
