"""The numbers behind the pictures (src/mutbot/estimates.py) and the run summary's text forest
plot (src/mutbot/forest_text.py): every candidate's estimate and interval in the ranking's
order, confirmed and screening told apart, and one fenced block whatever the titles say."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from mutbot.estimates import Estimate, Forest, extent, forest, pair_points
from mutbot.forest_text import PLOT, TITLE, column, forest_block, plain
from mutbot.github.summary import step_summary
from mutbot.results import CandidateResult
from testing.records import candidate, run

GFM = MarkdownIt("commonmark").enable("table")
PLOT_START = TITLE + 2 + 10 + 26  # title, gap, estimate column, change column


def screened_only(slug: str, title: str, factor: float) -> CandidateResult:
    """Left out after its screening block: no confirmation pairs, no comparisons."""
    measured = candidate(slug, title=title, factor=factor)
    return measured.model_copy(
        update={
            "screening": measured.pairs[:4],
            "pairs": [],
            "comparisons": {},
            "judgement": None,
            "verdict": "reject",
            "stage": "screen",
            "reason": "left out by screening",
        }
    )


def rows_of(block: str) -> list[str]:
    lines = block.splitlines()
    return lines[5 : lines.index("", 3)]


def test_every_candidate_in_the_ranking_order_confirmed_and_screening_told_apart() -> None:
    best = candidate("best", title="Use 4 workers", factor=0.5)
    second = candidate("second", title="Keep-alive on", factor=0.8)
    early = screened_only("early", "Threads 1 → 4", 0.9)
    blocked = candidate("blocked", title="Edit CI", rejected_at=("policy", "never pushed"))
    result = run([blocked, early, second, best], ["best", "second"])
    numbers = forest(result)
    assert numbers is not None
    assert [r.slug for r in numbers.rows] == ["best", "second", "blocked", "early"]
    assert [r.source for r in numbers.rows] == ["confirmed", "confirmed", None, "screening"]
    confirmed = best.comparisons["latency_p95_ms"]
    assert (numbers.rows[0].change, numbers.rows[0].low, numbers.rows[0].high) == (
        confirmed.change,
        confirmed.ci_low,
        confirmed.ci_high,
    )
    assert numbers.rows[3].pairs == 4 and numbers.rows[3].change < 0
    assert numbers.band == -0.05 and numbers.level == 0.99

    block = forest_block(numbers)
    assert block is not None
    rows = rows_of(block)
    assert [r[:TITLE].rstrip() for r in rows] == [
        "Use 4 workers",
        "Keep-alive on",
        "Edit CI",
        "Threads 1 -> 4",
    ]
    assert rows[0][TITLE + 2 :].startswith("confirmed -50.0% (")
    assert rows[2][TITLE + 2 :] == "-         not measured: policy: never pushed"
    assert rows[3][TITLE + 2 :].startswith("screening ")
    assert "#" in rows[0][PLOT_START:] and "o" in rows[3][PLOT_START:]
    lo, hi = extent(numbers)
    zero = PLOT_START + column(0.0, lo, hi)
    assert rows[0][zero] == "|" and rows[0][zero - 1] == "."  # the minimum-effect band
    estimate = PLOT_START + column(numbers.rows[0].change, lo, hi)
    assert rows[0][estimate] == "#"
    assert block.endswith("is not proposed\n```")


def test_one_candidate_and_nothing_measured() -> None:
    only = candidate("only", title="Only one", factor=0.7)
    block = forest_block(forest(run([only], ["only"])))  # type: ignore[arg-type]
    assert block is not None and len(rows_of(block)) == 1
    failed = candidate("x", rejected_at=("build", "failed"))
    numbers = forest(run([failed], []))
    assert numbers is not None and forest_block(numbers) is None


def test_a_figure_that_could_not_be_measured_is_no_estimate() -> None:
    cand = candidate("nan", factor=0.7)
    holed = cand.model_copy(update={"comparisons": {}, "pairs": []})
    numbers = forest(run([holed], []))
    assert numbers is not None and numbers.rows[0].source is None
    nan = cand.comparisons["latency_p95_ms"].model_copy(
        update={"change": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    )
    broken = cand.model_copy(update={"comparisons": {"latency_p95_ms": nan}})
    numbers = forest(run([broken], []))
    assert numbers is not None and numbers.rows[0].source is None
    assert forest_block(numbers) is None


def test_huge_and_unbounded_intervals_are_cut_and_say_so() -> None:
    rows = [
        Estimate("a", "Wide", "reject", "screening", -0.1, -math.inf, math.inf, 2, ""),
        Estimate("b", "Huge", "reject", "confirmed", 0.05, -0.5, 1e9, 6, ""),
        Estimate("c", "Tight", "propose", "confirmed", -0.3, -0.32, -0.28, 6, ""),
        Estimate("d", "No interval", "reject", "screening", 0.01, math.nan, math.nan, 1, ""),
    ]
    numbers = Forest("latency_p95_ms", "p95 latency", "lower", 0.99, -0.05, rows)
    block = forest_block(numbers)
    assert block is not None
    plotted = [r[PLOT_START:] for r in rows_of(block)]
    assert plotted[0].startswith("<") and plotted[0].endswith(">")
    assert "(-inf..+inf)" in rows_of(block)[0]
    assert plotted[1].endswith(">") and plotted[1].count("[") == 1
    assert "(-50.0%..+1e+11%)" in rows_of(block)[1]
    assert plotted[2].count("[") == 1 and plotted[2].count("]") == 1
    assert "(no interval)" in rows_of(block)[3] and plotted[3].count("o") == 1
    lo, hi = extent(numbers)
    assert -0.55 < lo < -0.5 and 0.4 < hi < 0.45  # one span beyond the estimates at most


def test_plain_titles_are_narrow_backtick_free_and_cut() -> None:
    assert plain("threads 1 → 4", 26) == "threads 1 -> 4"
    assert plain("```\nrm -rf /\n```", 26) == "''' rm -rf / '''"
    assert plain("a\u202eevil\u200b漢字b", 26) == "aevilb"  # bidi override, zero width, wide
    assert plain("x" * 40, 10) == "xxxxxxx..."
    assert plain("", 5) == ""


def test_the_summary_chart_survives_a_gfm_renderer() -> None:
    hostile = candidate("h", title="```\n</details> <img src=x onerror=alert(1)> ~~~", factor=0.5)
    other = candidate("o", title="`` two ``", factor=0.8)
    summary = step_summary(run([other, hostile], ["h", "o"]), [], decision_reason="test")
    tokens = GFM.parse(summary)
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and fences[0].info == "text"
    assert fences[0].content == summary.split("```text\n")[1].split("```")[0]
    assert fences[0].content.endswith("is not proposed\n")  # it reached its own end
    assert "\n''' </details> <img src=x o...  confirmed" in fences[0].content
    html = GFM.render(summary)
    assert "<img" not in html.replace("&lt;img", "")
    assert summary.index("### Candidates") < summary.index("### Estimates")


TITLES = st.text(
    alphabet=st.sampled_from([*"ab `~<>|#@[]()\n\r\t", "\u200b", "\u202e", "漢", "é", "→"]),
    max_size=40,
)
ENDS = st.one_of(st.floats(-0.99, 5.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(TITLES, st.floats(-0.99, 5.0) | st.just(math.nan), ENDS, ENDS, st.booleans()),
        min_size=1,
        max_size=6,
    ),
    st.one_of(st.none(), st.floats(-0.5, -0.001)),
)
def test_any_estimates_give_one_aligned_fence(
    specs: list[tuple[str, float, float, float, bool]], band: float | None
) -> None:
    rows = [
        Estimate(
            f"s{i}",
            title,
            "reject",
            None if math.isnan(change) else ("confirmed" if confirmed else "screening"),
            change,
            *sorted((low, high)),
            6,
            "why",
        )
        for i, (title, change, low, high, confirmed) in enumerate(specs)
    ]
    block = forest_block(Forest("latency_p95_ms", "p95 latency", "lower", 0.99, band, rows))
    if all(r.source is None for r in rows):
        assert block is None
        return
    assert block is not None
    fences = [t for t in GFM.parse(block) if t.type == "fence"]
    assert len(fences) == 1 and fences[0].content + "```" == block.split("\n", 1)[1]
    lines = rows_of(block)
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert line[TITLE : TITLE + 2] == "  " and len(line) <= PLOT_START + PLOT
        if row.source is not None:
            assert line[PLOT_START:].count("#" if row.source == "confirmed" else "o") >= 1


def test_pair_points_are_the_confirmation_pairs() -> None:
    cand = candidate("p", factor=0.8)
    points = pair_points(cand, "latency_p95_ms")
    assert [p.number for p in points] == list(range(1, 11))
    assert points[0].baseline == 100.0 and math.isnan(pair_points(cand, "nope")[0].candidate)
