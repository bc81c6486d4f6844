"""Every candidate's estimate with its interval as a text forest plot (pure), for the run
summary. Mermaid draws no error bars, and a picture of intervals must show them; a fenced
`text` block renders the same everywhere, in monospace, and nothing in it is markup. The only
way out of a fence is a closing fence, so titles lose their backticks; they are also reduced to
narrow characters (one column each) and cut, so the columns line up."""

from __future__ import annotations

import math
import unicodedata

from mutbot.estimates import Estimate, Forest, extent
from mutbot.metric_math import ABSOLUTE
from mutbot.metrics import METRICS

TITLE = 30  # columns of a title
PLOT = 41  # columns of the plot
_ASCII = {"→": "->", "←": "<-", "…": "...", "−": "-", "–": "-", "—": "-", "×": "x", "≤": "<="}
_NARROW = frozenset({"Na", "N", "H"})
_MARKS = {"confirmed": "#", "screening": "o"}


def forest_block(forest: Forest) -> str | None:
    """A fenced text block, or None when no candidate has an estimate to draw."""
    drawn = [r for r in forest.rows if r.source is not None]
    if not drawn:
        return None
    lo, hi = extent(forest)
    absolute = forest.metric in ABSOLUTE
    ticks = _ticks(lo, hi)
    pad = " " * (TITLE + 2 + 10 + 26)
    lines = [
        "```text",
        f"{forest.label}: change against the baseline, {forest.level:.0%} intervals "
        f"({forest.better} is better)",
        "",
        pad + _tick_labels(ticks, lo, hi, absolute),
        f"{'candidate'.ljust(TITLE)}  {'estimate':<10}{'change (interval)':<26}"
        + _axis(ticks, lo, hi),
    ]
    for row in forest.rows:
        lines.append(_row(row, forest, lo, hi))
    lines += ["", *_legend(forest)]
    lines.append("```")
    return "\n".join(lines)


def plain(text: str, width: int) -> str:
    """`text` in at most `width` narrow characters: no backtick (no closing fence), no control
    or zero-width character, no wide one; cut with "..." when longer."""
    text = unicodedata.normalize("NFKC", text)
    for wide, narrow in _ASCII.items():
        text = text.replace(wide, narrow)
    kept = []
    for ch in text.replace("`", "'"):
        category = unicodedata.category(ch)
        if ch.isspace() or category[0] == "Z":
            kept.append(" ")
        elif category[0] not in "CM" and unicodedata.east_asian_width(ch) in _NARROW:
            kept.append(ch)
    flat = " ".join("".join(kept).split())
    return flat if len(flat) <= width else flat[: width - 3].rstrip() + "..."


def column(x: float, lo: float, hi: float) -> int:
    """The plot column of a value (the edge for one beyond [lo, hi])."""
    place = (x - lo) / (hi - lo) * (PLOT - 1)
    return min(PLOT - 1, max(0, round(place))) if math.isfinite(place) else 0


def _row(row: Estimate, forest: Forest, lo: float, hi: float) -> str:
    title = plain(row.title or row.slug, TITLE).ljust(TITLE)
    if row.source is None:
        return f"{title}  {'-':<10}" + plain(f"not measured: {row.note}", 26 + PLOT)
    text = f"{change_text(row.change, forest.metric)} ({_interval(row, forest.metric)})"
    return f"{title}  {row.source:<10}{text[:25]:<26}" + _plot(row, forest, lo, hi)


def _plot(row: Estimate, forest: Forest, lo: float, hi: float) -> str:
    cells = [" "] * PLOT
    zero = column(0.0, lo, hi)
    if forest.band is not None:
        edge = column(forest.band, lo, hi)
        for c in range(min(zero, edge), max(zero, edge) + 1):
            cells[c] = "."
    if not math.isnan(row.low) and not math.isnan(row.high):
        left = column(max(row.low, lo), lo, hi)
        right = column(min(row.high, hi), lo, hi)
        for c in range(left, right + 1):
            cells[c] = "-"
        cells[zero] = "|"
        cells[left] = "<" if row.low < lo else "["
        cells[right] = ">" if row.high > hi else "]"
    else:
        cells[zero] = "|"
    cells[column(row.change, lo, hi)] = _MARKS[row.source or "confirmed"]
    return "".join(cells).rstrip()


def _legend(forest: Forest) -> list[str]:
    level = f"{forest.level:.0%}"
    lines = [
        "# confirmed estimate   o screening estimate (a first look, not confirmed)",
        f"[---] its {level} interval   < > it goes on beyond the axis   | no change",
    ]
    if forest.band is not None:
        effect = change_text(abs(forest.band), forest.metric).lstrip("+")
        lines.append(f"... a gain smaller than the minimum effect ({effect}) is not proposed")
    return lines


def change_text(value: float, metric: str) -> str:
    """-39.0%, +0.10pp, +1e+11%: the text chart's and the pictures' labels."""
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    value += 0.0  # no "-0.0%"
    unit = "pp" if metric in ABSOLUTE else "%"
    if abs(value) >= 10:  # beyond ±1000%: short, so the columns still line up
        return f"{value * 100:+.2g}{unit}"
    return f"{value * 100:+.2f}pp" if metric in ABSOLUTE else f"{value:+.1%}"


def _interval(row: Estimate, metric: str) -> str:
    if math.isnan(row.low) or math.isnan(row.high):
        return "no interval"
    if METRICS[metric].exact:
        return "exact"
    return f"{change_text(row.low, metric)}..{change_text(row.high, metric)}"


def _ticks(lo: float, hi: float) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten) across [lo, hi], zero among them."""
    raw = (hi - lo) / 6
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw)
    first = math.ceil(lo / step)
    return [k * step for k in range(first, math.floor(hi / step) + 1)]


def _tick_text(value: float, absolute: bool) -> str:
    if abs(value) < 1e-12:
        return "0pp" if absolute else "0%"
    if absolute:
        return f"{value * 100:+.3g}pp"
    return f"{value * 100:+.3g}%"


def _tick_labels(ticks: list[float], lo: float, hi: float, absolute: bool) -> str:
    """Each tick's value centred over its column, unless it would touch the one before."""
    line = ""
    for tick in ticks:
        text = _tick_text(tick, absolute)
        start = max(0, column(tick, lo, hi) - len(text) // 2)
        if start > len(line) or not line:
            line = line.ljust(start) + text
    return line


def _axis(ticks: list[float], lo: float, hi: float) -> str:
    cells = ["-"] * PLOT
    for tick in ticks:
        cells[column(tick, lo, hi)] = "+"
    return "".join(cells)
