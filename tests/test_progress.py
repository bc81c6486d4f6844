from __future__ import annotations

import io

from rich.console import Console

from mutbot.progress import ConsoleReporter, print_ranking
from testing.records import candidate, run


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    with ConsoleReporter(Console(file=out, force_terminal=False, width=200)) as reporter:
        reporter.note("run x: 2 candidates")
        reporter.stage("use-4-workers", "build")
        reporter.stage("use-4-workers", "rejected at build: build failed: [red]x")
    assert out.getvalue() == (
        "run x: 2 candidates\nuse-4-workers: build\n"
        "use-4-workers: rejected at build: build failed: [red]x\n"
    )


def test_live_table_on_a_terminal_ends_without_leftovers() -> None:
    out = io.StringIO()
    with ConsoleReporter(Console(file=out, force_terminal=True, width=120)) as reporter:
        reporter.stage("use-4-workers", "trial 1/3: baseline")
    assert reporter.stages == {"use-4-workers": "trial 1/3: baseline"}


def test_ranking_lists_proposed_first_then_rejected_with_stage() -> None:
    good = candidate("use-4-workers")
    bad = candidate(
        "bad", title="Bad idea", rejected_at=("tests", "tests failed (exit code 1): boom")
    )
    out = io.StringIO()
    print_ranking(run([bad, good], [good.slug]), Console(file=out, width=200))
    lines = [line for line in out.getvalue().splitlines() if "│" in line]
    assert "Use 4 workers" in lines[0] and "propose" in lines[0]
    assert "Bad idea" in lines[1] and "reject (tests)" in lines[1] and "boom" in lines[1]


def test_the_pareto_front_is_reported_when_there_are_several_objectives() -> None:
    good = candidate("use-4-workers")
    result = run([good], [good.slug])
    result = result.model_copy(
        update={
            "pareto": [good.slug],
            "objective": {**result.objective, "also": ["cost_per_mreq_usd"]},
        }
    )
    out = io.StringIO()
    print_ranking(result, Console(file=out, width=200))
    assert "Pareto front over latency_p95_ms, cost_per_mreq_usd: Use 4 workers" in out.getvalue()


HOSTILE = "[link=https://evil.example]click[/link] \x1b[31mred\x1b]8;;https://x\x07z \u202eevil"


def test_candidate_text_prints_as_text_in_tables_and_lines() -> None:
    """No rich markup (a `[link=…]` became a live terminal hyperlink) and no escape sequence
    (colours, hyperlinks, cursor moves) from a title, a reason or a note."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=400, color_system=None)
    hostile = candidate("x", title=HOSTILE, rejected_at=("policy", HOSTILE))
    print_ranking(run([hostile], []), console)
    with ConsoleReporter(Console(file=out, force_terminal=False, width=400)) as reporter:
        reporter.note(HOSTILE)
        reporter.stage("x", HOSTILE)
    text = out.getvalue()
    assert "[link=https://evil.example]click[/link]" in text
    assert "\x1b]8" not in text and "\x1b[31m" not in text and "\u202e" not in text
    assert "\\x1b[31mred\\x1b]8;;https://x\\x07z \\u202eevil" in text
