"""Rendering (pure): the pull request a proposed candidate would open, and the ranking rows."""

from __future__ import annotations

import math
import re

import jinja2

from mutbot.metrics import METRICS
from mutbot.results import CandidateResult, Comparison, RunResult

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("mutbot", "templates"),
    autoescape=False,  # markdown, not HTML
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def fmt(metric: str, value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    unit = METRICS[metric].unit if metric in METRICS else ""
    if metric.startswith("latency"):
        return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"
    if metric == "error_rate":
        return f"{value:.2%}"
    if metric == "requests":
        return f"{value:.0f}"
    if metric.startswith("cost"):
        return f"${value:.2f}" if value >= 0.1 else f"${value:.4f}"
    if metric == "healthy_seconds":
        return f"{value:.2f} s"
    return f"{value:.3g} {unit}".strip()


def change(metric: str, value: float) -> str:
    """The metric's own direction (−39% = lower); the error rate in percentage points."""
    if math.isnan(value):
        return "n/a"
    value += 0.0  # no "-0.0%" for an unchanged metric
    if metric == "error_rate":
        return f"{value * 100:+.2f} pp"
    return f"{value:+.1%}"


def interval(metric: str, comp: Comparison) -> str:
    if math.isnan(comp.ci_low) and math.isnan(comp.ci_high):
        return "n/a"
    return f"{change(metric, comp.ci_low)}…{change(metric, comp.ci_high)}"


def p_text(p: float) -> str:
    return "n/a" if math.isnan(p) else (f"{p:.2g}" if p >= 0.001 else f"{p:.1e}")


def headline(candidate: CandidateResult, run: RunResult) -> str:
    """e.g. p95 latency 2.30 s → 1.40 s (−39%, 99% CI −45%…−31%, 10 paired trials, p = 0.001)"""
    primary = str(run.objective["primary"])
    comp = candidate.comparisons[primary]
    judgement = candidate.judgement
    p = judgement.p_adjusted if judgement else comp.p_value
    level = 1 - float(judgement.alpha if judgement else 0.01)
    return (
        f"{METRICS[primary].label} {fmt(primary, comp.baseline)} → "
        f"{fmt(primary, comp.candidate)} ({change(primary, comp.change)}, {level:.0%} CI "
        f"{interval(primary, comp)}, {comp.pairs} paired trials, p = {p_text(p)})"
    )


def fence(text: str) -> str:
    """A code fence longer than any backtick run inside the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def neutralise(text: str, limit: int = 4000) -> str:
    """Proposer text is data: no HTML, no @mentions that ping people, bounded length."""
    text = text.replace("<", "&lt;").replace(">", "&gt;").replace("@", "@\u200b")
    return text if len(text) <= limit else text[:limit] + " …(cut)"


def score_rows(candidate: CandidateResult, run: RunResult) -> list[tuple[str, ...]]:
    """Every metric with its interval, then the per-candidate build figures."""
    rows: list[tuple[str, ...]] = [
        (
            METRICS[name].label,
            fmt(name, comp.baseline),
            fmt(name, comp.candidate),
            change(name, comp.change),
            interval(name, comp),
            p_text(comp.p_value),
        )
        for name, comp in candidate.comparisons.items()
    ]
    base, cand = run.baseline.build, candidate.build
    if base and cand:
        if base.image_size_mb is not None and cand.image_size_mb is not None:
            rows.append(
                (
                    "image size",
                    f"{base.image_size_mb:.1f} MiB",
                    f"{cand.image_size_mb:.1f} MiB",
                    "",
                    "",
                    "",
                )
            )
        rows.append(
            ("build time", f"{base.build_seconds:.1f} s", f"{cand.build_seconds:.1f} s", "", "", "")
        )
    return rows


def render_pr(candidate: CandidateResult, run: RunResult) -> str:
    primary = str(run.objective["primary"])
    judgement = candidate.judgement
    alpha = float(run.judge.get("alpha", 0.01))  # type: ignore[arg-type]
    return _ENV.get_template("pr.md.j2").render(
        c=candidate,
        j=judgement,
        run=run,
        primary=primary,
        level=f"{1 - alpha:.0%}",
        confirmed=sum(1 for c in run.candidates if c.judgement is not None),
        p_adj=p_text(judgement.p_adjusted) if judgement else "n/a",
        headline=headline(candidate, run),
        rows=score_rows(candidate, run),
        metrics=METRICS,
        fmt=fmt,
        change=change,
        fence=fence(candidate.diff),
        title=neutralise(candidate.title, 200),
        rationale=neutralise(candidate.rationale or "(no rationale given)"),
        short_base=run.base_commit[:12],
    )


def ranking_rows(run: RunResult) -> list[tuple[str, str, str, str]]:
    """(rank, candidate, verdict, detail) for the terminal table: proposed first, best first."""
    rows = []
    by_slug = {c.slug: c for c in run.candidates}
    for rank, slug in enumerate(run.ranking, start=1):
        cand = by_slug[slug]
        rows.append((str(rank), cand.title, "propose", headline(cand, run)))
    for cand in run.candidates:
        if cand.verdict == "needs-review":
            rows.append(("?", cand.title, "needs review", cand.reason))
    for cand in run.candidates:
        if cand.verdict == "reject":
            rows.append(("-", cand.title, f"reject ({cand.stage})", cand.reason))
    return rows


def proposal_line(run: RunResult) -> str:
    """Who proposed, what the detectors found and what proposing cost, in one line."""
    record = run.proposal
    assert record is not None
    found = sorted({o.category for o in record.opportunities})
    text = (
        f"Proposed by {record.proposer}: {record.candidates} candidates; "
        f"{len(record.opportunities)} opportunities detected"
        + (f" ({', '.join(found)})" if found else "")
    )
    if record.failure:
        text += f"; {record.failure}"
    if record.usage:
        text += f"; LLM {record.usage.requests} requests, ${record.usage.usd:.4f}"
    return text
