"""The pictures drawn (edge: matplotlib with its Agg canvas, never a display): every
candidate's estimate with its interval (a forest plot) and, per confirmed candidate, its
confirmation pairs, baseline against candidate. The numbers come from `estimates`, as the run
summary's and the pull request's charts do. `mutbot run` writes them next to results.json;
`mutbot report` inlines them in its page."""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from mutbot.estimates import Forest, PairPoint, extent, forest, ordered, pair_points
from mutbot.forest_text import change_text, plain
from mutbot.metric_math import ABSOLUTE
from mutbot.metrics import METRICS, charted
from mutbot.results import CandidateResult, RunResult

_BASE, _CAND, _SCREEN, _BAND = "#8c8c8c", "#1f6fb4", "#d08a2c", "#e6e6e6"
TITLE_CHARS = 44


@dataclass(frozen=True)
class Picture:
    name: str  # file stem: "estimates" or "pairs-<slug>"
    caption: str
    figure: Figure


def pictures(run: RunResult) -> list[Picture]:
    """The forest plot, then one pairs chart per candidate with confirmation pairs."""
    numbers = forest(run)
    if numbers is None:
        return []
    drawn = []
    with _style():
        chart = forest_figure(numbers)
        if chart is not None:
            caption = f"Every candidate's {numbers.label} change with its interval"
            drawn.append(Picture("estimates", caption, chart))
        for cand in ordered(run):
            figure = pairs_figure(cand, charted(numbers.metric))
            if figure is not None:
                caption = f"{numbers.label} per confirmation pair: {plain(cand.title, 80)}"
                drawn.append(Picture(f"pairs-{cand.slug}", caption, figure))
    return drawn


def forest_figure(numbers: Forest) -> Figure | None:
    rows = numbers.rows
    if not any(r.source is not None for r in rows):
        return None
    lo, hi = extent(numbers)
    fig = Figure(figsize=(9.0, 1.6 + 0.42 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    if numbers.band is not None:
        ax.axvspan(min(0.0, numbers.band), max(0.0, numbers.band), color=_BAND, lw=0)
    ax.axvline(0.0, color="#444444", lw=1)
    for y, row in enumerate(rows):
        if row.source is None:
            note = plain(f"not measured: {row.note}", 70)
            ax.text(lo, y, "  " + note, va="center", fontsize=8, color="#777777")
            continue
        color = _CAND if row.source == "confirmed" else _SCREEN
        if not math.isnan(row.low) and not math.isnan(row.high):
            left, right = max(row.low, lo), min(row.high, hi)
            ax.plot([left, right], [y, y], color=color, lw=2, solid_capstyle="butt")
            for end, cut, marker in ((left, row.low < lo, "<"), (right, row.high > hi, ">")):
                ax.plot([end], [y], marker=marker if cut else "|", color=color, ms=9)
        face = color if row.source == "confirmed" else "white"
        ax.plot([row.change], [y], "o", color=color, mfc=face, mew=2, ms=8)
        ax.annotate(
            change_text(row.change, numbers.metric),
            (row.change, y),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color=color,
        )
    ax.set_xlim(lo, hi)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), [plain(r.title or r.slug, TITLE_CHARS) for r in rows])
    ax.xaxis.set_major_formatter(FuncFormatter(_percent(numbers.metric)))
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(
        f"{numbers.label}: change against the baseline ({numbers.better} is better); "
        f"{numbers.level:.0%} intervals"
    )
    ax.plot([], [], "o", color=_CAND, label="confirmed estimate")
    ax.plot([], [], "o", color=_SCREEN, mfc="white", mew=2, label="screening estimate")
    if numbers.band is not None:
        ax.fill_between([], [], color=_BAND, label="below the minimum effect")
    fig.legend(loc="outside upper center", ncols=3, frameon=False)  # laid out, never cut
    return fig


def pairs_figure(cand: CandidateResult, metric: str) -> Figure | None:
    points = pair_points(cand, metric)
    if len(points) < 2 or not all(math.isfinite(v) for p in points for v in _values(p)):
        return None
    info = METRICS[metric]
    fig = Figure(figsize=(9.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    xs = [p.number for p in points]
    ax.bar([x - 0.2 for x in xs], [p.baseline for p in points], 0.4, color=_BASE, label="baseline")
    ax.bar(
        [x + 0.2 for x in xs], [p.candidate for p in points], 0.4, color=_CAND, label="candidate"
    )
    ax.set_xticks(xs)
    ax.set_xlabel("confirmation pair")
    ax.set_ylabel(f"{info.label} ({info.unit})" if info.unit else info.label)
    ax.set_title(plain(cand.title or cand.slug, 90), loc="left", fontsize=10)
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    fig.legend(loc="outside upper right", ncols=2, frameon=False)
    return fig


def svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with _style():
        FigureCanvasAgg(figure)  # the canvas every save goes through: Agg, never a display
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with _style():
        FigureCanvasAgg(figure)
        figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_DROPPED = re.compile(r"<metadata>.*?</metadata>|<!--.*?-->|\sxmlns(?::\w+)?=\"[^\"]*\"", re.S)


def inline_svg(figure: Figure, prefix: str) -> str:
    """The SVG for an HTML page: no XML prolog, doctype, metadata or namespace URL, and its
    ids prefixed, so several pictures on one page never take each other's clip paths."""
    text = _DROPPED.sub("", _PROLOG.sub("", svg(figure), count=1))
    text = text.replace(' id="', f' id="{prefix}').replace('href="#', f'href="#{prefix}')
    return text.replace("url(#", f"url(#{prefix}")


def write_pictures(run: RunResult, folder: Path) -> tuple[list[Path], list[str]]:
    """Each picture as SVG and PNG in `folder`; what could not be drawn, as notes. A picture
    is never worth a run: any failure is noted and the rest is still drawn."""
    written: list[Path] = []
    try:
        drawn = pictures(run)
    except Exception as exc:  # any failure inside matplotlib: a note, never the run's end
        return written, [f"pictures: not drawn: {type(exc).__name__}: {exc}"[:300]]
    problems = []
    for picture in drawn:
        try:
            for path, data in (
                (folder / f"{picture.name}.svg", svg(picture.figure).encode()),
                (folder / f"{picture.name}.png", png(picture.figure)),
            ):
                path.write_bytes(data)
                written.append(path)
        except Exception as exc:  # as above
            problems.append(f"{picture.name}: not drawn: {type(exc).__name__}: {exc}"[:300])
    return written, problems


def inline_pictures(run: RunResult) -> tuple[dict[str, str], list[str]]:
    """Each picture as inline SVG by name, and what could not be drawn."""
    try:
        drawn = pictures(run)
    except Exception as exc:  # as in write_pictures
        return {}, [f"pictures: not drawn: {type(exc).__name__}: {exc}"[:300]]
    charts, problems = {}, []
    for number, picture in enumerate(drawn):
        try:
            charts[picture.name] = inline_svg(picture.figure, f"f{number}-")
        except Exception as exc:  # as above
            problems.append(f"{picture.name}: not drawn: {type(exc).__name__}: {exc}"[:300])
    return charts, problems


def _values(point: PairPoint) -> tuple[float, float]:
    return point.baseline, point.candidate


def _percent(metric: str) -> Callable[[float, int], str]:
    def text(value: float, _position: int) -> str:
        if abs(value) < 1e-12:
            return "0 pp" if metric in ABSOLUTE else "0%"
        if metric in ABSOLUTE:
            return f"{value * 100:+.3g} pp"
        return f"{value * 100:+.3g}%"

    return text


@contextmanager
def _style() -> Iterator[None]:
    # a glyph DejaVu lacks is drawn as a box, and says so in a warning nobody can act on
    # text stays text (a `$` in a title is no formula); glyphs as paths (no font to fetch);
    # ids from a fixed salt (the same run draws the same file)
    with (
        rc_context({"text.parse_math": False, "svg.fonttype": "path", "svg.hashsalt": "mutbot"}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
        yield
