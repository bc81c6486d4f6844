"""Pull request titles and bodies, and branch commit messages, for GitHub (pure), on top of
`mutbot.report.render_pr`.

The body is `render_pr`'s text plus a hidden marker the feedback loop reads back:
`<!-- mutbot: {json} -->`, always the last line. Its JSON can never close the HTML comment:
`<`, `>` and `&` are written as `\\u003c`, `\\u003e`, `\\u0026` and every `--` as
`\\u002d\\u002d` (JSON string escapes, so `json.loads` gives the original text back).

Repository and model text (title, rationale, category, reasons, risk findings, file names, and
every other field the template shows) is defused by `mutbot.report.defuse`: HTML escaped,
@mentions and `#123` / `GH-123` / `owner/repo#123` references broken with a zero-width space,
`/mutate` defused the same way, link and image syntax (`[x](url)`, `![](src)`) broken, and
links neutralised by **defanging**: `http://x` becomes `hxxp://x`, `https://x` becomes
`hxxps://x`, `www.x` becomes `www[.]x`, a protocol-relative `//x` gets a zero-width space
(still readable, never a live link). The title, plain text on GitHub, gets the same without
HTML escaping.

GitHub refuses bodies above 65,536 characters. A body too long loses, in this order: rows of
the per-trial table (with a note "N rows omitted; see results.json"), then diff lines (with a
note "Diff cut ...; see branch ..."), and as a last resort its end; the marker always stays.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from mutbot import __version__, untrusted
from mutbot.alternatives_text import alternative_lines
from mutbot.conflicts import footprint, to_data
from mutbot.report import defuse, one_line, render_pr, trial_rows
from mutbot.results import CandidateResult, RunResult

MAX_BODY = 65_536
MAX_TITLE = 256
TITLE_PREFIX = "mutbot: "
MARKER_VERSION = 1
_MARKER_START = "<!-- mutbot: "
_FIELD_LIMIT = 256  # strings in the marker: it must stay small whatever the candidate says
_LAST_RESORT = "\n\n*Body cut to GitHub's size limit; see results.json.*\n"


def title(candidate: CandidateResult) -> str:
    """One line, at most 256 characters. Titles are plain text on GitHub (no HTML, no link
    syntax), so mentions, references and links are broken, nothing is escaped."""
    text = defuse(one_line(candidate.title) or candidate.slug, markdown=False)
    text = TITLE_PREFIX + text
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def commit_message(candidate: CandidateResult, run: RunResult) -> str:
    """The commit on a candidate's branch. GitHub shows commit messages as plain text with live
    mentions and references, and merging one that says "fixes #12" closes issue 12: the
    candidate's words are defused like a title."""
    subject = defuse(one_line(candidate.title) or candidate.slug, markdown=False)
    reason = defuse(one_line(candidate.reason), markdown=False)
    return (
        f"{subject}\n\n{reason}.\n\n"
        f"Measured by mutbot run {run.run_id} on {run.base_commit[:12]}.\n"
        f"mutbot-fingerprint: {candidate.fingerprint}\n"
    )


def pr_body(
    candidate: CandidateResult,
    run: RunResult,
    *,
    branch: str,
    reproduce: str,
    alternatives: Sequence[tuple[CandidateResult, str]] = (),
) -> str:
    """`alternatives`: the candidates this one stands for, each with what it shares with it."""
    tail = "\n" + marker(candidate, run, branch) + "\n"
    listed = alternative_lines(alternatives, run)
    budget = MAX_BODY - len(tail)

    def render(rows: int | None, diff_chars: int | None) -> str:
        return render_pr(
            candidate,
            run,
            reproduce=reproduce,
            branch=branch,
            max_trial_rows=rows,
            max_diff_chars=diff_chars,
            alternatives=listed,
        )

    text = render(None, None)
    if len(text) > budget:
        text = _shrink(render, len(trial_rows(candidate)), len(candidate.diff), budget)
    if len(text) > budget:
        text = text[: budget - len(_LAST_RESORT)] + _LAST_RESORT
    return text + tail


def _shrink(
    render: Callable[[int | None, int | None], str], rows: int, diff_chars: int, budget: int
) -> str:
    """The most per-trial rows that fit (binary search); with none, the longest diff that fits."""
    low, high = 0, rows
    while low < high:
        middle = (low + high + 1) // 2
        if len(render(middle, None)) <= budget:
            low = middle
        else:
            high = middle - 1
    text = render(low, None)
    # the rendered length grows one for one with the diff: a few passes converge
    for _ in range(5):
        if len(text) <= budget or diff_chars == 0:
            break
        diff_chars = max(0, diff_chars - (len(text) - budget) - 64)
        text = render(0, diff_chars)
    return text


def marker_data(candidate: CandidateResult, run: RunResult, branch: str) -> dict[str, Any]:
    primary = str(run.objective["primary"])
    comp = candidate.comparisons.get(primary)
    judgement = candidate.judgement
    data: dict[str, Any] = {
        "marker": MARKER_VERSION,
        "version": __version__,
        "run_id": run.run_id,
        "base_commit": run.base_commit,
        "slug": candidate.slug,
        "fingerprint": candidate.fingerprint,
        "kind": candidate.kind,
        "category": candidate.category,
        "metric": primary,
        "baseline": comp.baseline if comp else None,
        "candidate": comp.candidate if comp else None,
        "change": comp.change if comp else None,
        "ci_low": comp.ci_low if comp else None,
        "ci_high": comp.ci_high if comp else None,
        "pairs": comp.pairs if comp else 0,
        "p_adjusted": judgement.p_adjusted if judgement else None,
        "branch": branch,
        # what it changes, so a later run can tell which open pull requests it conflicts with
        "touches": to_data(footprint(candidate.diff, (s.key for s in candidate.settings))),
    }
    return {key: _plain(value) for key, value in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN is not JSON
    if isinstance(value, str):
        return value[:_FIELD_LIMIT]
    return value


def marker(candidate: CandidateResult, run: RunResult, branch: str) -> str:
    text = json.dumps(marker_data(candidate, run, branch), sort_keys=True, ensure_ascii=True)
    # outside strings JSON has no `<`, `>`, `&` or `--`, so these only ever touch string text
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    text = text.replace("--", "\\u002d\\u002d")
    return f"<!-- mutbot: {text} -->"


def read_marker(body: str | None) -> dict[str, Any] | None:
    """The last marker in a body, or None when there is none or it does not parse. Bodies are
    anyone's text: found with `rfind` (a regex scan from every `<!-- mutbot: ` is quadratic)
    and parsed without recursion."""
    if not isinstance(body, str):
        return None
    start = body.rfind(_MARKER_START)
    if start < 0:
        return None
    end = body.find(" -->", start)
    text = body[start + len(_MARKER_START) : end] if end >= 0 else ""
    if not (text.startswith("{") and text.endswith("}")) or "\n" in text:
        return None
    try:
        data = untrusted.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


_FINGERPRINT = re.compile(r"[0-9a-f]{12}")


def marker_fingerprint(body: str | None) -> str | None:
    """The candidate a mutbot pull request's marker names; None when it names none validly."""
    found = (read_marker(body) or {}).get("fingerprint")
    return found if isinstance(found, str) and _FINGERPRINT.fullmatch(found) else None
