"""The offline `search` proposer (pure, no API key): the technology packs' fixes and
exploratory moves, deterministic for a seed.

Order: the packs' findings with a fix, by opportunity priority (one candidate per fix), then
the radical bundles (every fix at once, and a bolder one), then the packs' exploratory moves;
the seed shuffles only exploratory moves of the same pack.

The history reorders and prunes (see `mutbot.proposers.learning`): values that failed before
are never set again, bundles and exploratory moves follow the bandit's category scores, and
the fixes of a category the history disproved come last."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from typing import Literal

from mutbot.candidates import Candidate
from mutbot.errors import StageFailure
from mutbot.globs import matches
from mutbot.metrics import METRICS
from mutbot.packs.model import Finding, Move
from mutbot.packs.survey import Survey
from mutbot.packs.written import Unwritable, written
from mutbot.policy import check_diff
from mutbot.proposers.base import Deduper, Proposal, ProposalRequest
from mutbot.proposers.learning import Bandit, refused_settings

Kind = Literal["incremental", "radical"]
# Fixes that redesign how the image is built: proposed as radical candidates.
_REDESIGNS = {"heavy-base-image", "cache-busting-copy", "package-cache-in-layer"}
_REDESIGNS |= {"single-stage-build", "root-user", "unpinned-base-image"}


@dataclass(frozen=True)
class Plan:
    title: str
    rationale: str
    kind: Kind
    category: str | None
    moves: tuple[Move, ...]
    flagged: bool = True  # a pack's fix (else an exploratory step)


class SearchProposer:
    name = "search"
    needs_baseline = True

    def propose(self, request: ProposalRequest) -> Proposal:
        survey = request.survey or Survey((), (), ())
        files = {f.path: f.text for f in request.files}
        notes: Counter[str] = Counter(survey.notes)
        refused = refused_settings(request.history, survey)
        fixes = [f for f in survey.findings if f.fix and not _refused(f.fix, refused, notes)]
        arms = {m.seen.key: f.category for f in fixes for m in f.fix}
        bandit = Bandit.from_history(request.history, files, {})

        def arm(plan: Plan) -> str | None:
            if plan.category or not plan.moves:
                return plan.category
            return arms.get(plan.moves[0].seen.key)

        flagged = [_fix_plan(request, f) for f in fixes]
        small = [p for p in flagged if p.kind == "incremental"]
        redesigns = [p for p in flagged if p.kind == "radical"]
        radical = bandit.order([*_radical_plans(request, small), *redesigns], arm)
        explore = [m for m in survey.explore if not _refused((m,), refused, notes)]
        generic = bandit.order(_generic_plans(request, explore), arm)
        filt = _Filter(request, files, notes)
        incremental = filt.candidates(bandit.demote([*small, *generic], arm))
        bundles = filt.candidates(radical)
        n_radical = min(len(bundles), round(request.count * request.radical_share))
        if request.radical_share > 0 and request.count >= 2 and bundles and n_radical == 0:
            n_radical = 1
        chosen = incremental[: request.count - n_radical]
        first = [c for c, p in chosen if p.flagged]
        rest = [c for c, p in chosen if not p.flagged]
        picked = [*first, *(c for c, _ in bundles[:n_radical]), *rest]
        return Proposal(proposer=self.name, candidates=picked, notes=_notes(notes))


def create() -> SearchProposer:
    return SearchProposer()


def _baseline(request: ProposalRequest) -> str:
    primary = request.config.objective.primary
    if request.baseline is None or primary not in request.baseline.metrics:
        return ""
    info, value = METRICS[primary], request.baseline.metrics[primary]
    return f" Baseline {info.label}: {value:.4g} {info.unit}, {request.baseline.source}."


def _refused(moves: tuple[Move, ...], refused: set[tuple[str, str]], notes: Counter[str]) -> bool:
    for move in moves:
        if (move.seen.key, repr(move.value)) in refused:
            notes[
                f"not proposed, the value failed before (history): {move.seen.key} = {move.value!r}"
            ] += 1
            return True
    return False


def _fix_plan(request: ProposalRequest, finding: Finding) -> Plan:
    rules = "; ".join(f"{m.change}: {m.rule}" for m in finding.fix)
    said = f"{rules[:1].upper()}{rules[1:]}"
    why = f"{finding.why.rstrip('.')} ({finding.site}). {said}.{_baseline(request)}"
    kind: Kind = "radical" if finding.category in _REDESIGNS else "incremental"
    return Plan(finding.title, why, kind, finding.category, finding.fix)


def _radical_plans(request: ProposalRequest, fixes: list[Plan]) -> list[Plan]:
    """Every fix at once (one move per setting, the first fix's), and the same with every
    raised whole number raised twice as far."""
    moves: dict[str, Move] = {}
    for plan in fixes:
        for move in plan.moves:
            moves.setdefault(move.seen.key, move)
    if len(fixes) < 2:
        return []
    together = tuple(moves.values())
    top = fixes[0].category
    listed = "; ".join(m.change for m in together)
    plans = [
        Plan(
            f"All {len(fixes)} fixes together",
            f"Every fix at once: {listed}.{_baseline(request)}",
            "radical",
            top,
            together,
        )
    ]
    bolder = tuple(_bolder(m) for m in together)
    if bolder != together and all(m is not None for m in bolder):
        why = f"The fixes with every raised number doubled again.{_baseline(request)}"
        plans.append(Plan(f"All {len(fixes)} fixes, bolder", why, "radical", top, bolder))
    return plans


def _bolder(move: Move) -> Move:
    """A raised whole number raised twice as far (inside the setting's domain); anything else
    as it was."""
    old, new, setter = move.seen.value, move.value, move.seen.setter
    high = move.seen.setting.high
    if not (isinstance(old, int) and isinstance(new, int)) or isinstance(new, bool) or new <= old:
        return move
    if setter is None or (high is not None and new * 2 > high):
        return move
    return replace(move, value=new * 2, rule=f"{move.rule}, ×2", edits=setter(new * 2))


def _generic_plans(request: ProposalRequest, moves: list[Move]) -> list[Plan]:
    """The packs' exploratory moves in their order; the seed shuffles within one pack."""
    rng = random.Random(request.seed)
    plans: list[Plan] = []
    packs = list(dict.fromkeys(m.seen.pack for m in moves))
    for pack in packs:
        group = [m for m in moves if m.seen.pack == pack]
        rng.shuffle(group)
        for m in group:
            why = f"Exploratory step on {m.seen.key}: {m.rule}.{_baseline(request)}"
            title = f"{m.change[:1].upper()}{m.change[1:]}"
            plans.append(Plan(title, why, "incremental", None, (m,), flagged=False))
    return plans


class _Filter:
    """Builds each plan's diff and drops what touches a kept setting, was proposed before or
    fails the diff policy, counting why in `notes`."""

    def __init__(self, request: ProposalRequest, files: dict[str, str], notes: Counter[str]):
        self.request, self.files, self.notes = request, files, notes
        self.keep = [tuple(e.split(":", 1)) for e in request.config.propose.keep if ":" in e]
        self.dedupe = Deduper.from_history(request.history)
        self.history = {h.fingerprint for h in request.history if h.final}  # undecided: again

    def candidates(self, plans: list[Plan]) -> list[tuple[Candidate, Plan]]:
        out = []
        for plan in plans:
            candidate = self._build(plan)
            if candidate is not None:
                out.append((candidate, plan))
        return out

    def _kept(self, plan: Plan) -> list[str]:
        return sorted(
            f"{edit.path}:{m.seen.setting.name}"
            for m in plan.moves
            for edit in m.edits
            if any(
                matches(edit.path, (glob,)) and key in (m.seen.key, m.seen.setting.name)
                for glob, key in self.keep
            )
        )

    def _build(self, plan: Plan) -> Candidate | None:
        if not plan.moves or any(not m.edits for m in plan.moves):
            return None
        kept = self._kept(plan)
        if kept:
            self.notes[f"not proposed, would change a kept setting ({', '.join(kept)})"] += 1
            return None
        view = self.request.survey.view if self.request.survey else None
        try:
            diff = written(self.files, tuple(e for m in plan.moves for e in m.edits), view)
        except Unwritable as exc:
            self.notes[f"not proposed, {exc}"] += 1
            return None
        if not diff:
            return None
        candidate = Candidate(
            title=plan.title[:200],
            rationale=plan.rationale,
            kind=plan.kind,
            diff=diff,
            category=plan.category,
        )
        if candidate.fingerprint in self.history:
            self.notes["not proposed again, already evaluated (history)"] += 1
            return None
        if not self.dedupe.fresh(candidate):
            return None
        try:
            check_diff(diff, self.request.rules)
        except StageFailure as exc:
            reason = str(exc).removeprefix("policy: ")
            self.notes[f"not proposed, the diff policy refuses it: {reason}"] += 1
            return None
        return candidate


def _notes(notes: Counter[str]) -> list[str]:
    return [f"{text} ×{n}" if n > 1 else text for text, n in sorted(notes.items())]
