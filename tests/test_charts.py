"""The Mermaid chart of a candidate's confirmation pairs (pure), and the PR body as a GFM
renderer reads it: the chart a fenced `mermaid` block, the tables tables, the collapsed
sections intact. (GitHub's own Markdown API is not reachable here; markdown-it-py's CommonMark
with GFM tables parses the same blocks.)"""

from __future__ import annotations

from markdown_it import MarkdownIt

from mutbot.charts import pairs_chart
from mutbot.report import render_pr
from testing.records import candidate, run


def test_the_chart_has_one_bar_and_one_point_per_pair() -> None:
    cand = candidate("use-4-workers")
    chart = pairs_chart(cand, run([cand], [cand.slug]))
    assert chart is not None
    lines = chart.splitlines()
    assert lines[0] == "```mermaid" and lines[1] == "xychart-beta" and lines[-1] == "```"
    assert (
        lines[2] == '    title "p95 latency per confirmation pair: bars baseline, line candidate"'
    )
    assert lines[3] == "    x-axis [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"
    assert lines[4] == '    y-axis "p95 latency (ms)" 0 --> 200'
    bars = lines[5].removeprefix("    bar [").removesuffix("]").split(", ")
    points = lines[6].removeprefix("    line [").removesuffix("]").split(", ")
    pairs = cand.pairs
    assert [float(b) for b in bars] == [
        round(p.baseline.metrics["latency_p95_ms"], 1) for p in pairs
    ]
    assert len(points) == 10 and all(float(x) < 100 for x in points)


def test_no_chart_without_pairs_or_with_a_missing_figure() -> None:
    rejected = candidate("x", rejected_at=("build", "failed"))
    assert pairs_chart(rejected, run([rejected], [])) is None
    cand = candidate("y")
    broken = cand.pairs[0].candidate.model_copy(update={"metrics": {}})
    holed = cand.model_copy(
        update={"pairs": [cand.pairs[0].model_copy(update={"candidate": broken}), *cand.pairs[1:]]}
    )
    assert pairs_chart(holed, run([holed], [])) is None


def test_the_pr_body_survives_a_gfm_renderer() -> None:
    cand = candidate("use-4-workers")
    body = render_pr(cand, run([cand], [cand.slug]))
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    fences = [t for t in tokens if t.type == "fence"]
    charts = [t for t in fences if t.info.strip() == "mermaid"]
    assert len(charts) == 1 and charts[0].content.startswith("xychart-beta\n")
    assert sum(1 for t in tokens if t.type == "table_open") >= 2  # the scores, the trials
    html = MarkdownIt("commonmark").enable("table").render(body)
    assert html.count("<details>") == html.count("</details>") >= 1
    assert '<pre><code class="language-mermaid">xychart-beta' in html
