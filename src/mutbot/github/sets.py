"""One pull request per conflict set (pure): proposed candidates that change the same setting or
lines git cannot merge apart are alternatives (mutbot.conflicts). Each set gets one pull request,
its holder, which lists the others; mutbot never has two open pull requests that change the
same thing.

The holder is the set's member that already has an open pull request (it is updated), or else
the best-ranked member (it is opened). A set that conflicts with an open mutbot pull request
outside this run waits for it: the next run measures it again once that one is merged or closed.
Closing is how maintainers say no, and the ledger learns from it; mutbot closes a pull request
only when a merge superseded it (mutbot.github.superseded) or a maintainer asked
(`/mutate ignore`), and records which, so neither reads as a no."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mutbot.conflicts import conflict, footprint_of, from_data, sets_of, shared
from mutbot.github.body import read_marker
from mutbot.github.types import PullInfo
from mutbot.results import CandidateResult


@dataclass(frozen=True)
class Group:
    holder: CandidateResult  # its pull request is opened or updated, listing the others
    alternatives: list[tuple[CandidateResult, str]]  # best first, each with what it shares
    waits_for: tuple[int, str] | None = None  # an open pull request outside this run, and why


def groups(
    ranked: Sequence[CandidateResult],
    pulls: Sequence[PullInfo],
    branch: Callable[[CandidateResult], str],
) -> list[Group]:
    """`ranked`: the proposed candidates, best first; `pulls`: mutbot's open pull requests."""
    open_heads = {p.head for p in pulls}
    ours = {branch(c) for c in ranked}
    outside = [
        (p.number, found)
        for p in pulls
        if p.head not in ours
        and (found := from_data((read_marker(p.body) or {}).get("touches"))) is not None
    ]
    out = []
    for members in sets_of(ranked):
        holder = next((m for m in members if branch(m) in open_heads), members[0])
        alternatives = [(m, _why(m, holder, members, ranked)) for m in members if m is not holder]
        waits = None
        if branch(holder) not in open_heads:
            waits = next(
                (
                    (number, why)
                    for number, found in outside
                    for m in members
                    if (why := conflict(footprint_of(m), found)) is not None
                ),
                None,
            )
        out.append(Group(holder, alternatives, waits))
    return out


def _why(
    member: CandidateResult,
    holder: CandidateResult,
    members: list[CandidateResult],
    ranked: Sequence[CandidateResult],
) -> str:
    why = shared(member, holder, members)
    if ranked.index(member) < ranked.index(holder):
        why += (
            "; it measured better than this one, but this pull request was open first: close "
            "this one and the next run opens it"
        )
    return why
