from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mutbot.cli import main
from mutbot.explain import explain, find
from mutbot.results import Noise
from testing.records import candidate, pairs, run


def test_explain_recomputes_the_recorded_verdict_step_by_step() -> None:
    good = candidate("use-4-workers")
    lines, same = explain(run([good], [good.slug]), good)
    assert same
    text = "\n".join(lines)
    assert "  pair  order                  baseline   candidate        d" in text
    assert "     1  baseline → candidate   100.0 ms     81.0 ms   +0.211" in text
    assert (
        "Hodges–Lehmann -19.0%, 99% CI -20.6%…-17.4%, exact one-sided Wilcoxon p = 9.8e-04" in text
    )
    assert "Holm across 1 confirmed candidate(s): p = 9.8e-04" in text
    assert "minimum effect 5.0% (judge.min_effect)" in text
    assert text.endswith("matches the recorded verdict")


def test_explain_notices_a_verdict_the_figures_do_not_support() -> None:
    good = candidate("use-4-workers")
    forged = good.model_copy(update={"pairs": candidate("x", factor=1.0).pairs})
    lines, same = explain(run([forged], []), forged)
    assert not same
    assert lines[-1] == "DIFFERS from the recorded verdict"


def test_explain_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = candidate("use-4-workers")
    blocked = candidate("b", title="Blocked", rejected_at=("policy", "app.py is protected"))
    results = tmp_path / "results.json"
    results.write_text(run([good, blocked], [good.slug]).model_dump_json())
    assert main(["explain", str(results), "Use 4 workers"]) == 0
    assert "matches the recorded verdict" in capsys.readouterr().out
    assert main(["explain", str(results), "b"]) == 0
    assert "rejected at stage policy before the judge" in capsys.readouterr().out
    assert main(["explain", str(results), "nope"]) == 3
    assert capsys.readouterr().err == (
        f"mutbot: error: {results}: no candidate 'nope'; one of: use-4-workers, b\n"
    )
    results.write_text("{}")
    assert main(["explain", str(results), "b"]) == 3
    assert "not a mutbot results.json: run_id: Field required" in capsys.readouterr().err


def test_explain_judges_memory_by_the_ceiling_the_run_had() -> None:
    good = candidate("use-4-workers")
    crowded = [
        p.model_copy(
            update={
                "candidate": p.candidate.model_copy(
                    update={"metrics": {**p.candidate.metrics, "memory_peak_mb": 240.0}}
                )
            }
        )
        for p in good.pairs
    ]
    forged = good.model_copy(update={"pairs": crowded})
    result = run([forged], [forged.slug])
    assert explain(result, forged)[1]  # a run from before the ceiling: none
    capped = result.model_copy(update={"objective": {**result.objective, "memory_ceiling": 0.8}})
    lines, same = explain(capped, forged)
    assert not same
    assert "vetoes: peak memory 240 MiB, above 80% of the 256 MiB limit (205 MiB)" in lines


def test_find_by_slug_title_or_fingerprint() -> None:
    good = candidate("use-4-workers")
    result = run([good], [good.slug])
    assert find(result, "use-4-workers") is find(result, "Use 4 workers") is good
    assert find(result, "0123456789ab") is good
    assert find(result, "missing") is None


# Hardening: a results.json that is not what a run wrote is a clean error (exit 3), never a bug


def results_with(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    good = candidate("use-4-workers")
    noise = Noise(metric="latency_p95_ms", pairs=pairs(1.0, n=4), spread=0.02)
    data = json.loads(run([good], [good.slug], noise=noise).model_dump_json())
    change(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def first_trial(data: dict[str, Any]) -> dict[str, Any]:
    trial: dict[str, Any] = data["candidates"][0]["pairs"][0]["baseline"]
    return trial


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["objective"].update(memory_ceiling=80),
            "cannot recompute: objective.memory_ceiling: expected a share below 1, got 80",
        ),
        (
            lambda d: (
                d["objective"].update(memory_ceiling=0.8) or d["limits"].update(memory="lots")
            ),
            "cannot recompute: limits.memory: expected a size such as 256m, 512MiB or 1g, got "
            "'lots'",
        ),
        (
            lambda d: d["objective"].update(guardrails=["error_rate"]),
            "cannot recompute: objective.guardrails: expected a mapping, got ['error_rate']",
        ),
        (
            lambda d: d["judge"].update(alpha="0.01"),
            "cannot recompute: judge.alpha: Input should be a valid number",
        ),
        (
            lambda d: d["objective"].pop("primary"),
            "cannot recompute: objective.primary: expected a metric name, got None",
        ),
        (
            lambda d: d["objective"].update(guardrails={"speed": 0.1}),
            "cannot recompute: objective.guardrails: unknown metric 'speed'",
        ),
        (
            lambda d: d["objective"]["guardrails"].update(error_rate=-1),
            "cannot recompute: objective.guardrails.error_rate: expected a limit of zero or more",
        ),
        (
            lambda d: first_trial(d)["metrics"].pop("latency_p95_ms"),
            "cannot recompute: candidate 'use-4-workers': pair 1 baseline: no latency_p95_ms",
        ),
        (
            lambda d: d["candidates"][0].update(pairs=d["candidates"][0]["pairs"][:2]),
            "cannot recompute: candidate 'use-4-workers': 2 pairs; a judged candidate has from 8 "
            "(alpha 0.01) to 200",
        ),
        (
            lambda d: d["noise"]["pairs"][0]["candidate"]["metrics"].update(latency_p95_ms=1e300),
            "cannot recompute: the A/A block: pair 1 candidate: 'latency_p95_ms' is 1e+300, "
            "expected 0 or a figure from 1e-6 to 1e9",
        ),
        (
            lambda d: first_trial(d)["metrics"].update(latency_p95_ms=1e50),
            "cannot recompute: candidate 'use-4-workers': pair 1 baseline: 'latency_p95_ms' is "
            "1e+50, expected 0 or a figure from 1e-6 to 1e9",
        ),
        (
            lambda d: first_trial(d)["metrics"].update(throughput_rps=1e-300),
            "cannot recompute: candidate 'use-4-workers': pair 1 baseline: 'throughput_rps' is "
            "1e-300, expected 0 or a figure from 1e-6 to 1e9",
        ),
    ],
    ids=[
        "memory-ceiling-not-a-share",
        "memory-limit-unreadable",
        "guardrails-a-list",
        "alpha-a-string",
        "no-primary",
        "unknown-guardrail",
        "negative-limit",
        "pair-without-the-primary",
        "too-few-pairs",
        "huge-noise-figure",
        "huge-figure",
        "tiny-figure",
    ],
)
def test_explain_refuses_results_it_cannot_recompute(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], object],
    problem: str,
) -> None:
    path = results_with(tmp_path, change)
    assert main(["explain", str(path), "use-4-workers"]) == 3
    assert capsys.readouterr().err == f"mutbot: error: {path}: {problem}\n"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"[" * 100_000, "not valid JSON at line 1, column 202: recursion limit exceeded"),
        (
            b'{"seed": ' + b"1" * 5000 + b"}",
            "not valid JSON at line 1, column 4311: number out of range",
        ),
        (b'{"seed": 1e400}', "a number beyond \u00b11.8e308, which no double holds"),
        (b'{"run_id": "\xff"}', "not valid JSON at line 1, column 13: invalid unicode code point"),
    ],
    ids=["nested", "5000-digits", "1e400", "not-utf8"],
)
def test_explain_refuses_hostile_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, problem: str
) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(data)
    assert main(["explain", str(path), "x"]) == 3
    assert capsys.readouterr().err == f"mutbot: error: {path}: {problem}\n"


def test_explain_reads_figures_that_could_not_be_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # results.json writes them as NaN (docs/results.md); only Infinity is never a figure
    path = results_with(tmp_path, lambda d: first_trial(d)["metrics"].update(throughput_rps=0.5))
    path.write_text(path.read_text().replace('"throughput_rps": 0.5,', '"throughput_rps": NaN,'))
    assert main(["explain", str(path), "use-4-workers"]) in (0, 1)
    assert "recomputed: " in capsys.readouterr().out
    path.write_text(path.read_text().replace("NaN", "Infinity"))
    assert main(["explain", str(path), "use-4-workers"]) == 3
    assert "a number beyond ±1.8e308, which no double holds" in capsys.readouterr().err


def test_a_figure_that_could_not_be_measured_survives_results_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """NaN (a metric with no samples) is written as NaN, not null, so the file reads back."""
    good = candidate("use-4-workers")
    first = good.pairs[0]
    trial = first.candidate.model_copy(
        update={"metrics": {**first.candidate.metrics, "cpu_ms_per_request": float("nan")}}
    )
    pairs_ = [first.model_copy(update={"candidate": trial}), *good.pairs[1:]]
    odd = good.model_copy(update={"pairs": pairs_})
    results = tmp_path / "results.json"
    results.write_text(run([odd], [odd.slug]).model_dump_json())
    assert '"cpu_ms_per_request":NaN' in results.read_text()
    assert main(["explain", str(results), "use-4-workers"]) == 0
    assert "matches the recorded verdict" in capsys.readouterr().out
