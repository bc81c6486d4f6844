"""Rendering (pure): the pull request a proposed candidate would open, and the ranking rows."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from mutbot.charts import pairs_chart
from mutbot.figures_text import at_use_note, load_brief, load_text, table_label, table_order
from mutbot.guardrails import memory_peaks
from mutbot.metrics import METRICS, charted
from mutbot.results import CandidateResult, Comparison, RunResult
from mutbot.selection_text import chosen_lines, contribution_lines
from mutbot.units import parse_size


def _inert(value: object) -> object:
    """Every `{{ value }}` of the PR template: numbers and `Inert` text as they are, any other
    text defused, so a field added to the template later is safe by default."""
    return value if isinstance(value, Inert | int | float) else defuse(str(value))


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("mutbot", "templates"),
    autoescape=False,  # markdown, not HTML: `_inert` defuses instead
    finalize=_inert,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
MAX_FILES_LISTED = 50  # a body lists at most this many changed files; the stat counts all


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
    if metric in ("image_size_mb", "image_compressed_mb"):
        return f"{value:.1f} MiB"
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
    if metric in METRICS and METRICS[metric].exact:
        return "exact"  # the same image in every trial: nothing sampled
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
    if METRICS[primary].exact:  # built once a side: no interval, no p
        return (
            f"{METRICS[primary].label} {fmt(primary, comp.baseline)} → "
            f"{fmt(primary, comp.candidate)} ({change(primary, comp.change)}, exact: the same "
            f"image in all {comp.pairs} paired trials)"
        )
    return (
        f"{METRICS[primary].label} {fmt(primary, comp.baseline)} → "
        f"{fmt(primary, comp.candidate)} ({change(primary, comp.change)}, {level:.0%} CI "
        f"{interval(primary, comp)}, {comp.pairs} paired trials, p = {p_text(p)})"
    )


def fence(text: str) -> str:
    """A code fence longer than any backtick run inside the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


# No word boundaries: GitHub links `_https://x` and `_www.x` too; defanging more costs nothing
_LINK = re.compile(r"(h)tt(ps?)(?=://)|(f)t(p)(?=://)", re.IGNORECASE)
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_REFERENCE = re.compile(r"#(?=\d)|(GH)-(?=\d)", re.IGNORECASE)
_SLASHES = re.compile(r"(?<!:)/(?=/)")  # `//host`: protocol-relative; `x://` is dead already
_LINK_SYNTAX = re.compile(r"\](?=[(\[:])")  # [text](url), ![alt](src), [text][ref], [ref]: url
_FENCE_LINE = re.compile(r"((?:^|\r)[ \t]*)(```|~~~)", re.MULTILINE)  # a lone \r ends a line too
ZWSP = "\u200b"  # invisible, and breaks GitHub's autolinking of what follows


class Inert(str):
    """Text already made inert for GitHub (defused, fenced or a code span): rendering leaves it
    as it is, where any other text is defused."""


def defuse(text: str, *, markdown: bool = True) -> str:
    """The one sanitiser for text from a candidate (a model, a file, a user) or a repository on
    its way to GitHub: nothing in it may act there.

    Always: @mentions cannot ping (`@` + zero-width space), `#123`, `GH-123` and `owner/repo#123`
    are no references (so "fixes #123" closes nothing), links are dead (`https://x` becomes
    `hxxps://x`, `www.x` becomes `www[.]x`, a protocol-relative `//x` gets a zero-width space)
    and `/mutate` is no command. With `markdown` (bodies, comments, summaries): HTML is escaped
    (no tags, no `<https://x>` autolinks), link and image syntax is broken (`[x](url)`,
    `![](src)`, `[x][ref]`, `[ref]: url`) and no code fence can swallow the rest of the page.
    Without it (titles, commit messages: plain text on GitHub) `<`, `&` and brackets stay."""
    if markdown:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("@", "@" + ZWSP).replace("/mutate", "/" + ZWSP + "mutate")
    text = _LINK.sub(lambda m: f"{m[1]}xx{m[2]}" if m[1] else f"{m[3]}x{m[4]}", text)
    text = _WWW.sub(r"\1[.]", text)
    text = _SLASHES.sub("/" + ZWSP, text)
    text = _REFERENCE.sub(lambda m: f"{m[1]}{ZWSP}-" if m[1] else f"#{ZWSP}", text)
    if not markdown:
        return text
    text = _LINK_SYNTAX.sub("]" + ZWSP, text)
    return _FENCE_LINE.sub(lambda m: f"{m[1]}{ZWSP}{m[2]}", text)


def neutralise(text: str, limit: int = 4000) -> Inert:
    """Proposer text is data: defused (see `defuse`), bounded length. Cut before defusing, so
    the cut never splits what defusing wrote (an entity such as `&amp;`)."""
    shown = defuse(text[:limit])
    return Inert(shown if len(text) <= limit else shown + " …(cut)")


def one_line(text: str) -> str:
    return " ".join(text.split())


def memory_cost(candidate: CandidateResult, run: RunResult) -> str | None:
    """What the change costs in memory, against the limit: "peak 81 → 140 MiB (+59 MiB), 55% of
    the 256 MiB limit" (the highest peak of each side's trials), against its own limit for a
    candidate that ran with one; None when not measured."""
    base, cand = memory_peaks(candidate.pairs)
    if math.isnan(base) or math.isnan(cand):
        return None
    text = f"peak {base:.0f} → {cand:.0f} MiB ({cand - base:+.0f} MiB)"
    try:
        limit = parse_size(run.limits.get("memory")) / 1024**2
        own = _own_memory(candidate)
    except ValueError:
        return text
    if own is not None and own != limit:
        return (
            f"{text}, {cand / own:.0%} of its own {own:.0f} MiB limit (the baseline's "
            f"{base / limit:.0%} of {limit:.0f} MiB)"
        )
    return f"{text}, {cand / limit:.0%} of the {limit:.0f} MiB limit"


def _own_memory(candidate: CandidateResult) -> float | None:
    memory = candidate.limits.get("memory")
    return parse_size(memory) / 1024**2 if memory is not None else None


_RESOURCES = {"cpu_limit": "CPU limit", "memory_limit": "memory limit",
              "cpu_request": "CPU request", "memory_request": "memory request"}  # fmt: skip


def resources(candidate: CandidateResult, run: RunResult) -> str | None:
    """What the change does to the measured service's resources and what each side ran with:
    "memory limit 1Gi → 256Mi (k8s/api.yaml:31): the candidate ran with its own 1.0 vCPU,
    256m, the baseline with the configured 1.0 vCPU, 1g; peak 81 MiB, 32% of the new limit";
    None when it changes none."""
    kinds = [
        (kind, s)
        for s in candidate.settings
        if s.reaches == "resources" and (kind := _orchestration(s.key))
    ]
    if not kinds:
        return None
    text = "; ".join(
        f"{_RESOURCES.get(kind, 'resource bound')} {s.before or 'none'} → {s.after or 'none'}"
        + (f" ({s.where})" if s.where else "")
        for kind, s in kinds
    )
    configured = f"the configured {run.limits.get('cpus')} vCPU, {run.limits.get('memory')}"
    if not candidate.limits:
        why = (
            "the new limits are the configured ones"
            if any(kind.endswith("_limit") for kind, _ in kinds)
            else "requests and other resource bounds do not change the sandbox"
        )
        return f"{text}: {why}, so both sides ran with {configured}"
    text += (
        f": the candidate ran with its own {candidate.limits.get('cpus')} vCPU, "
        f"{candidate.limits.get('memory')}, the baseline with {configured}"
    )
    _, peak = memory_peaks(candidate.pairs)
    try:
        own = _own_memory(candidate)
    except ValueError:
        own = None
    if own and not math.isnan(peak):
        text += f"; peak {peak:.0f} MiB, {peak / own:.0%} of the new limit"
    return text


def _orchestration(key: str) -> str | None:
    """The kind of an orchestration setting ("memory_limit"), None for another pack's."""
    pack, _, rest = key.partition(".")
    return rest.partition("@")[0] if pack == "orchestration" and rest else None


def limits_cost(candidate: CandidateResult, run: RunResult) -> str:
    """What the limits cost a month: the same on both sides, or the candidate's own."""
    configured = (
        f"at the configured limits ({run.limits.get('cpus')} vCPU, {run.limits.get('memory')}) "
        f"{fmt('cost_month_usd', run.cost_of_limits_month_usd)} a month"
    )
    own = candidate.limits.get("cost_month_usd")
    if not isinstance(own, float):
        return f"{configured} on both sides"
    base = run.cost_of_limits_month_usd
    ratio = f" ({change('cost_month_usd', own / base - 1)})" if base > 0 else ""
    return (
        f"the baseline {configured}, the candidate at its own ({candidate.limits.get('cpus')} "
        f"vCPU, {candidate.limits.get('memory')}) {fmt('cost_month_usd', own)}{ratio}"
    )


def memory_ceiling(run: RunResult) -> str | None:
    """The memory guardrail: "80%" of the limit, or None (off, or a run from before it)."""
    share = run.objective.get("memory_ceiling")
    return f"{share:.0%}" if isinstance(share, float) else None


def score_rows(candidate: CandidateResult, run: RunResult) -> list[tuple[str, ...]]:
    """Every metric with its interval (per-request figures first under a closed loop), then the
    per-candidate build figures."""
    order = table_order(list(candidate.comparisons), run)
    rows: list[tuple[str, ...]] = [
        (
            table_label(name, run),
            fmt(name, comp.baseline),
            fmt(name, comp.candidate),
            change(name, comp.change),
            interval(name, comp),
            "" if METRICS[name].exact else p_text(comp.p_value),
        )
        for name, comp in ((n, candidate.comparisons[n]) for n in order)
    ]
    base, cand = run.baseline.build, candidate.build
    if base and cand:
        sized = "image_size_mb" in candidate.comparisons  # a row above already
        if base.image_size_mb is not None and cand.image_size_mb is not None and not sized:
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
            (
                "build time (this run, cache allowed)",
                f"{base.build_seconds:.1f} s",
                f"{cand.build_seconds:.1f} s",
                "",
                "",
                "",
            )
        )
    return rows


@dataclass(frozen=True)
class FileStat:
    path: str
    added: int
    removed: int


def diff_stat(diff: str) -> list[FileStat]:
    """Lines added and removed per file, like `git diff --stat`."""
    try:
        stats = [FileStat(f.path, f.added, f.removed) for f in PatchSet(diff)]
    except UnidiffParseError:
        stats = []
    if stats or not diff.strip():
        return stats
    # not a diff unidiff reads: count the lines anyway rather than claim nothing changed
    lines = diff.splitlines()
    plus = sum(1 for x in lines if x.startswith("+") and not x.startswith("+++"))
    minus = sum(1 for x in lines if x.startswith("-") and not x.startswith("---"))
    return [FileStat("(unparsed diff)", plus, minus)]


def stat_line(stats: list[FileStat]) -> str:
    """e.g. "2 files changed, +5 −3 lines"."""
    files = f"{len(stats)} file{'s' if len(stats) != 1 else ''} changed"
    return f"{files}, +{sum(f.added for f in stats)} −{sum(f.removed for f in stats)} lines"


def code_span(text: str) -> Inert:
    """Inline code cannot carry a backtick or a newline; inside it nothing links or pings, and
    mentions and references are defused all the same (invisibly: entities would show)."""
    return Inert("`" + defuse(one_line(text.replace("`", "'")), markdown=False) + "`")


def trial_rows(candidate: CandidateResult) -> list[tuple[str, ...]]:
    """The per-trial table of the confirmation block: one row per trial, in run order."""
    names = [name for name in METRICS if name in candidate.comparisons]
    rows = []
    for pair in candidate.pairs:
        for side in pair.order:
            trial = pair.baseline if side == "baseline" else pair.candidate
            values = (fmt(name, trial.metrics.get(name)) for name in names)
            rows.append((str(pair.index + 1), " → ".join(pair.order), side, *values))
    return rows


def render_pr(
    candidate: CandidateResult,
    run: RunResult,
    *,
    reproduce: str | None = None,
    branch: str | None = None,
    max_trial_rows: int | None = None,
    max_diff_chars: int | None = None,
    alternatives: Sequence[str] = (),
) -> str:
    """The pull request body. `reproduce` is the exact command to measure again (otherwise a
    generic one); the two limits shrink the per-trial table and the diff, each with a note;
    `alternatives`: the changes this one stands for (alternatives_text)."""
    primary = str(run.objective["primary"])
    judgement = candidate.judgement
    alpha = float(run.judge.get("alpha", 0.01))  # type: ignore[arg-type]
    rows = trial_rows(candidate)
    shown_rows = rows if max_trial_rows is None else rows[:max_trial_rows]
    diff = candidate.diff.rstrip()
    shown_diff = diff if max_diff_chars is None else _cut_lines(diff, max_diff_chars)
    stats = diff_stat(candidate.diff)
    template = _ENV.get_template("pr.md.j2")  # its `{{ }}` defuse all but `Inert` text
    return template.render(
        c=candidate,
        j=judgement,
        run=run,
        primary=primary,
        level=f"{1 - alpha:.0%}",
        confirmed=sum(1 for c in run.candidates if c.judgement is not None),
        p_adj=p_text(judgement.p_adjusted) if judgement else "n/a",
        exact=(
            f"The {METRICS[primary].label} is exact, the same image in every trial of a side: "
            f"no test is needed, and the chart shows the {METRICS[charted(primary)].label} that "
            "guards it."
        )
        if METRICS[primary].exact
        else "",
        headline=headline(candidate, run),
        rows=score_rows(candidate, run),
        metrics=METRICS,
        fmt=fmt,
        change=change,
        fence=Inert(fence(shown_diff)),
        diff=Inert(shown_diff),  # inside its fence
        diff_lines=(len(shown_diff.splitlines()), len(diff.splitlines())),
        stat=stat_line(stats),
        files=[(code_span(f.path), f.added, f.removed) for f in stats[:MAX_FILES_LISTED]],
        more_files=max(0, len(stats) - MAX_FILES_LISTED),
        title=neutralise(one_line(candidate.title), 200),
        rationale=neutralise(candidate.rationale or "(no rationale given)"),
        short_base=run.base_commit[:12],
        reproduce=Inert(reproduce) if reproduce else None,  # inside its fence
        reproduce_fence=Inert(fence(reproduce or "")),
        branch=code_span(branch) if branch else None,
        trial_rows=shown_rows,
        omitted_rows=len(rows) - len(shown_rows),
        memory=memory_cost(candidate, run),
        ceiling=memory_ceiling(run),
        resources=resources(candidate, run),
        cost=limits_cost(candidate, run),
        remeasured=[(p.index + 1, why) for p in candidate.pairs for why in p.remeasured],
        load=load_text(run),
        load_brief=load_brief(run),
        at_use=at_use_note(candidate, run),
        chart=Inert(pairs_chart(candidate, run) or ""),  # numbers and mutbot's labels only
        clear_level=f"{1 - float(run.judge.get('guardrail_alpha', 0.1)):.0%}",  # type: ignore[arg-type]
        chosen=chosen_lines(candidate, run),
        contributions=contribution_lines(candidate),
        alternatives=list(alternatives),
    )


def _cut_lines(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a line end."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind("\n")] if "\n" in cut else ""
