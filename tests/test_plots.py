"""The pictures drawn with matplotlib (src/mutbot/plots.py) and written by `mutbot run`: the
same numbers as the text chart, whatever a title says, and never the end of a run."""

from __future__ import annotations

import math
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from matplotlib import image
from matplotlib.lines import Line2D

from mutbot.estimates import forest
from mutbot.packs.model import Value
from mutbot.plots import pictures, png, svg, write_pictures
from mutbot.results import RunResult
from mutbot.run.execute import write_outputs
from testing.records import candidate, run
from testing.scripted_run import gunicorn_project, scripted_run

HOSTILE = "$\\frac{ --> <script>alert(1)</script> ``` 漢字 \u202e"


def mixed_run() -> RunResult:
    best = candidate("best", title=HOSTILE, factor=0.5)
    second = candidate("second", title="Keep-alive on", factor=0.8)
    flat = candidate("flat", title="No effect", factor=0.99)
    blocked = candidate("blocked", title="Edit CI", rejected_at=("policy", "never pushed"))
    return run([flat, blocked, second, best], ["best", "second"])


def test_one_forest_plot_and_a_pairs_chart_per_confirmed_candidate() -> None:
    drawn = pictures(mixed_run())
    assert [p.name for p in drawn] == ["estimates", "pairs-best", "pairs-second", "pairs-flat"]
    for picture in drawn:
        root = ET.fromstring(svg(picture.figure))  # well-formed, whatever the titles say
        assert root.tag.endswith("svg")
        assert b"<script" not in ET.tostring(root)


def test_the_forest_plot_draws_the_estimates_numbers() -> None:
    result = mixed_run()
    numbers = forest(result)
    assert numbers is not None
    figure = pictures(result)[0].figure
    points = [
        line.get_xydata()[0]
        for line in figure.axes[0].get_lines()
        if isinstance(line, Line2D) and line.get_marker() == "o" and len(line.get_xdata()) == 1
    ]
    measured = [(r.change, y) for y, r in enumerate(numbers.rows) if r.source is not None]
    assert [(float(x), float(y)) for x, y in points] == measured


def test_the_pairs_chart_draws_each_pair() -> None:
    result = mixed_run()
    figure = next(p for p in pictures(result) if p.name == "pairs-second").figure
    bars = [patch.get_height() for patch in figure.axes[0].patches]
    second = next(c for c in result.candidates if c.slug == "second")
    expected = [p.baseline.metrics["latency_p95_ms"] for p in second.pairs]
    expected += [p.candidate.metrics["latency_p95_ms"] for p in second.pairs]
    assert bars == expected


def test_a_png_is_a_picture(tmp_path: Path) -> None:
    path = tmp_path / "estimates.png"
    path.write_bytes(png(pictures(mixed_run())[0].figure))
    pixels = np.asarray(image.imread(path), dtype=float)
    assert pixels.shape[1] == 990 and pixels[..., :3].std() > 0.05


def test_no_pictures_without_figures() -> None:
    failed = candidate("x", rejected_at=("build", "failed"))
    assert pictures(run([failed], [])) == []
    cand = candidate("nan", factor=0.7)
    first = cand.pairs[0]
    empty = first.candidate.model_copy(update={"metrics": {"latency_p95_ms": math.nan}})
    holed = [first.model_copy(update={"candidate": empty}), *cand.pairs[1:]]
    broken = cand.model_copy(update={"pairs": holed})
    assert [p.name for p in pictures(run([broken], []))] == ["estimates"]  # no NaN bar
    unknown = run([cand], []).model_copy(update={"objective": {"primary": "joy"}})
    assert pictures(unknown) == []


def test_the_run_writes_them_next_to_results_json(tmp_path: Path) -> None:
    assert write_outputs(mixed_run(), tmp_path) == []
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [
            "results.json",
            "pr-best.md",
            "pr-second.md",
            *(f"{stem}.{ext}" for stem in ("estimates", "pairs-best", "pairs-second",
                                           "pairs-flat") for ext in ("svg", "png")),
        ]
    )  # fmt: skip


def test_a_picture_that_cannot_be_written_is_a_note_not_a_failure(tmp_path: Path) -> None:
    (tmp_path / "estimates.svg").mkdir()  # in the way
    problems = write_outputs(mixed_run(), tmp_path)
    assert len(problems) == 1 and problems[0].startswith("estimates: not drawn: ")
    assert (tmp_path / "results.json").is_file() and (tmp_path / "pairs-best.svg").is_file()
    written, notes = write_pictures(mixed_run(), tmp_path / "missing")
    assert written == [] and len(notes) == 4


def faster_with_workers(cfg: dict[str, Value], rng: random.Random) -> dict[str, float]:
    workers = cfg.get("gunicorn.workers", 1)
    assert isinstance(workers, int)
    latency = 100.0 / min(workers, 4) * math.exp(rng.gauss(0, 0.02))
    return {"latency_p95_ms": latency, "throughput_rps": 100.0, "error_rate": 0.0}


def test_a_run_leaves_the_pictures_beside_results_json(tmp_path: Path) -> None:
    project = gunicorn_project(tmp_path / "repo")
    result, _, _ = scripted_run(
        project, faster_with_workers, ("gunicorn.workers",), tmp_path / "out", proposer="search"
    )
    confirmed = [c.slug for c in result.candidates if c.pairs]
    assert confirmed
    for stem in ["estimates", *(f"pairs-{slug}" for slug in confirmed)]:
        for ext in ("svg", "png"):
            assert (tmp_path / "out" / f"{stem}.{ext}").stat().st_size > 1000
