"""Hostile text for the sanitiser tests: fragments that would ping, reference, link, load an
image, inject HTML or close an issue on GitHub, a hypothesis strategy that mixes them, a run
whose candidate says them in every field it controls, and the invariants defused text must
meet (`live` lists what still acts)."""

from __future__ import annotations

import re
from functools import cache

from hypothesis import strategies as st

from mutbot.results import CandidateResult, Finding, InvalidTrial, ProposalRecord, RunResult
from testing.records import candidate, run

FRAGMENTS = (
    "@org", "@org/team", "@a-b", "a@b.example", "mailto:x@evil.example", "#1", "#12", "GH-7",
    "gh-7", "owner/repo#1", "fixes #1", "Closes owner/repo#2", "resolves GH-3",
    "[x](//evil.example)", "![](//evil.example/p.png)", "[x](https://evil.example)",
    "[x](evil.example)", "[x][ref]", "[ref]: //evil.example", "<https://evil.example>",
    "<//evil.example>", "<img src=x onerror=alert(1)>", "<!-- x -->", "<details>",
    "https://evil.example", "HTTP://evil.example", "ftp://evil.example", "www.evil.example",
    "_www.evil.example", "_https://evil.example", "1https://evil.example", "//evil.example",
    "javascript:alert(1)", "```", "~~~", "\n```\n", "\n    ~~~\n", "\r```\r", "/mutate",
    "/mutate revert", "&#64;org", "&lt;b&gt;", "&", "<", ">", "[", "]", "(", ")", ":", "/", "//",
    "#", "@", "h", "ttps://", "www", ".", "GH", "-", "1", "x", " ", "\n", "\r", "\t", "\\", "`",
    "|", "\u200b", "\u2028",
)  # fmt: skip

hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="ab@#/:[]()<>.-1 \n", max_size=6)),
    max_size=12,
).map("".join)

# what GitHub would act on; each is checked where it applies (see `live`)
_ALWAYS = {
    "mention": re.compile(r"@\w"),
    "reference": re.compile(r"#\d|GH-\d", re.IGNORECASE),
    "link": re.compile(r"(https?|ftp)://|www\.[\w-]", re.IGNORECASE),  # www. + a domain
    "protocol-relative": re.compile(r"(?<!:)//"),
    "command": re.compile(r"/mutate"),
}
_MARKDOWN = {
    "html": re.compile(r"[<>]"),
    "entity": re.compile(r"&(?!amp;|lt;|gt;)"),
    "link syntax": re.compile(r"\][(\[:]"),
    "fence": re.compile(r"(?:^|\r)[ \t]*(```|~~~)", re.MULTILINE),
}


def live(text: str, *, markdown: bool = True) -> list[str]:
    """What in `text` still acts on GitHub, by kind (empty: all inert)."""
    checks = {**_ALWAYS, **(_MARKDOWN if markdown else {})}
    return [f"{kind}: {m.group(0)!r}" for kind, rx in checks.items() for m in rx.finditer(text)]


_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


def outside_fences(markdown: str) -> str:
    """The text outside fenced code blocks (CommonMark: the closing fence uses the opening's
    character, at least as many times), where GitHub would act on what it reads."""
    kept, opener = [], ""
    for line in re.split(r"(?<=\n)|(?<=\r)(?!\n)", markdown):  # CommonMark's line ends only
        found = _FENCE.match(line)
        if opener:
            closing = found and found[1][0] == opener[0] and len(found[1]) >= len(opener)
            if closing and not line.strip().strip(opener[0]):
                opener = ""
            continue
        if found:
            opener = found[1]
            continue
        kept.append(line)
    return "".join(kept)


@cache
def _judged() -> CandidateResult:
    return candidate("h", factor=0.5)


def hostile_candidate(
    title: str, rationale: str, category: str, kind: str, reason: str, where: str, file: str
) -> tuple[CandidateResult, RunResult]:
    """A proposed candidate, and its run, carrying hostile text in every field it controls:
    `reason` also stands for the reasons that quote a candidate (a verdict, an invalid trial,
    a risk or complexity finding's why), `file` for file names (in the diff and the proposer's
    `file:PATH`)."""
    name = re.sub(r"\s", "_", file) or "f"  # a diff header cannot hold whitespace unquoted
    diff = f"diff --git a/{name} b/{name}\n--- a/{name}\n+++ b/{name}\n@@ -1 +1 @@\n-a\n+b\n"
    base = _judged().model_copy(update={"title": title, "rationale": rationale})
    assert base.judgement is not None
    finding = Finding(rule="r", points=1.0, where=where, why=reason)
    judgement = base.judgement.model_copy(
        update={"risk_findings": [finding], "complexity_findings": [finding]}
    )
    hostile = base.model_copy(
        update={
            "kind": kind,
            "category": category,
            "reason": reason,
            "diff": diff,
            "files": [name],
            "judgement": judgement,
            "invalid_trials": [InvalidTrial(pair=0, side="baseline", reason=reason)],
        }
    )
    proposal = ProposalRecord(
        proposer=f"file:{file}",
        requested="anthropic",
        failure=reason,
        notes=[reason],
        usage=None,
        seconds=1.0,
        baseline_source=None,
        opportunities=[],
        candidates=1,
    )
    return hostile, run([hostile], ["h"]).model_copy(update={"proposal": proposal})
