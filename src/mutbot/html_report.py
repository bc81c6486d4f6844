"""`mutbot report` (pure): one self-contained HTML page of a run, to open in a browser: the run's
header, the ranking, every candidate's figures, its charts and its trials. Everything in it is
inline (styles, the charts as SVG) and nothing is fetched or run: no script, no external URL,
and a Content-Security-Policy that would block one all the same. Every text from results.json
(titles, rationales, diffs, reasons) is untrusted: the template escapes it (autoescape)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from mutbot import __version__
from mutbot.estimates import Estimate, forest, left_out, ordered, primary_of
from mutbot.figures_text import load_text
from mutbot.forest_text import change_text
from mutbot.metrics import METRICS
from mutbot.report import fmt, headline, score_rows
from mutbot.results import CandidateResult, Pair, RunResult

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("mutbot", "templates"),
    autoescape=True,  # every text from results.json is untrusted
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
VERDICTS = {
    "propose": "proposed",
    "needs-review": "needs review",
    "inconclusive": "inconclusive",
    "reject": "rejected",
}


class Unreadable(ValueError):
    """A results.json that parses but cannot be shown (edited by hand, or not mutbot's)."""


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Card:
    """One candidate's part of the page."""

    anchor: str
    c: CandidateResult
    verdict: str
    result: str
    estimate: tuple[str, str, str]  # change, interval, where it was measured
    figures: Table | None
    chart: Markup | None
    confirmation: Table | None
    screening: Table | None


def check(run: RunResult) -> None:
    """Raise Unreadable when the page could not be drawn from `run`."""
    if primary_of(run) is None:
        raise Unreadable(f"objective.primary: not a metric mutbot knows: {run.objective!r}"[:200])
    for cand in run.candidates:
        unknown = [name for name in cand.comparisons if name not in METRICS]
        if unknown:
            raise Unreadable(f"candidate {cand.slug[:80]!r}: unknown metric {unknown[0][:80]!r}")


def render_page(run: RunResult, charts: dict[str, str], notes: list[str]) -> str:
    """The page; `charts`: inline SVG by picture name (plots.pictures), `notes`: what could
    not be drawn."""
    check(run)
    numbers = forest(run)
    assert numbers is not None  # check() made sure
    estimates = {row.slug: row for row in numbers.rows}
    cards = [
        _card(
            i,
            cand,
            run,
            _estimate_cells(estimates[cand.slug], numbers.metric),
            charts,
            f"{numbers.level:.0%}",
        )
        for i, cand in enumerate(ordered(run), start=1)
    ]
    judge = [(key, _plain_value(value)) for key, value in run.judge.items()]
    template = _ENV.get_template("report.html.j2")
    return template.render(
        run=run,
        version=__version__,
        primary=numbers.label,
        level=f"{numbers.level:.0%}",
        load=load_text(run),
        judge=judge,
        objective=[(key, _plain_value(value)) for key, value in run.objective.items()],
        cards=cards,
        estimates=Markup(charts["estimates"]) if "estimates" in charts else None,
        noise=_trials(run.noise.pairs) if run.noise else None,
        notes=notes,
        counts={
            **{v: sum(1 for c in run.candidates if c.verdict == v) for v in VERDICTS},
            "reject": sum(1 for c in run.candidates if c.verdict == "reject" and c.final),
            "left": sum(1 for c in run.candidates if left_out(c)),
        },
        verdicts=VERDICTS,
    )


def _card(
    index: int,
    cand: CandidateResult,
    run: RunResult,
    estimate: tuple[str, str, str],
    charts: dict[str, str],
    level: str,
) -> Card:
    primary = str(run.objective["primary"])
    if cand.verdict == "propose" and primary in cand.comparisons:
        result = headline(cand, run)
    else:
        result = f"{cand.stage}: {cand.reason}" if cand.stage else cand.reason
    rows = score_rows(cand, run) if cand.comparisons else []
    chart = charts.get(f"pairs-{cand.slug}")
    return Card(
        anchor=f"c{index}",
        c=cand,
        verdict="left out" if left_out(cand) else VERDICTS.get(cand.verdict, cand.verdict),
        result=result or "no reason recorded",
        estimate=estimate,
        figures=Table(
            ["metric", "baseline", "candidate", "change", f"{level} interval", "p (better)"],
            [list(r) for r in rows],
        )
        if rows
        else None,
        chart=Markup(chart) if chart else None,
        confirmation=_trials(cand.pairs),
        screening=_trials(cand.screening),
    )


def _estimate_cells(row: Estimate, metric: str) -> tuple[str, str, str]:
    """The change, its interval and where it was measured, or "not measured"."""
    if row.source is None:
        return "", "", "not measured"
    if math.isnan(row.low) or math.isnan(row.high):
        ends = "too few pairs for one" if row.note else "no interval"
    else:
        ends = f"{change_text(row.low, metric)} … {change_text(row.high, metric)}"
    return change_text(row.change, metric), ends, f"{row.source}, {row.pairs} pairs"


def _trials(pairs: list[Pair]) -> Table | None:
    """One row per trial, in the order they ran: every metric every trial has."""
    if not pairs:
        return None
    trials = [t for p in pairs for t in (p.baseline, p.candidate)]
    names = [n for n in METRICS if all(n in t.metrics for t in trials)]
    head = ["pair", "order", "side", *(METRICS[n].label for n in names), "healthy after", "notes"]
    rows = []
    for pair in pairs:
        for side in pair.order:
            trial = pair.baseline if side == "baseline" else pair.candidate
            notes = [*pair.remeasured, *([trial.started_busy] if trial.started_busy else [])]
            rows.append(
                [
                    str(pair.index + 1),
                    " → ".join(pair.order),
                    side,
                    *(fmt(n, trial.metrics[n]) for n in names),
                    f"{trial.healthy_seconds:.2f} s",
                    "; ".join(notes),
                ]
            )
    return Table(head, rows)


def _plain_value(value: object) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)
