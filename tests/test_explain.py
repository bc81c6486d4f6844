from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.cli import main
from mutbot.explain import explain, find
from testing.records import candidate, run


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
    assert "not a mutbot results.json: Field required" in capsys.readouterr().err


def test_find_by_slug_title_or_fingerprint() -> None:
    good = candidate("use-4-workers")
    result = run([good], [good.slug])
    assert find(result, "use-4-workers") is find(result, "Use 4 workers") is good
    assert find(result, "0123456789ab") is good
    assert find(result, "missing") is None
