"""The offline `search` proposer (pure, no API key): knob moves and Dockerfile rewrites driven
by the detectors first, then generic exploratory steps; deterministic for a seed.

Order: detector-flagged fixes by opportunity priority (ties by path, line, key), then the
radical bundles (every flagged fix at once, Dockerfile rewrites, a bolder bundle), then
generic moves by move type; the seed shuffles only generic moves of the same type.

The history reorders and prunes (see `mutbot.proposers.learning`): values that failed before
are never set again, bundles and generic moves follow the bandit's category scores, and the
fixes of a category the history disproved come last."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from typing import Literal

from mutbot.candidates import Candidate
from mutbot.edits import EditError, diff_files
from mutbot.errors import StageFailure
from mutbot.globs import matches
from mutbot.knobs import Knob, changed_keys, find_knobs, format_of, set_knob
from mutbot.knobs import dockerfile as dockerfile_format
from mutbot.knobs.moves import Move, fix, generic
from mutbot.metrics import METRICS
from mutbot.policy import check_diff
from mutbot.proposers.base import CATEGORIES, Deduper, Opportunity, Proposal, ProposalRequest
from mutbot.proposers.learning import Bandit, Change, refused_values

Kind = Literal["incremental", "radical"]


@dataclass(frozen=True)
class Plan:
    title: str
    rationale: str
    kind: Kind
    category: str | None
    moves: tuple[Move, ...] = ()
    rewrite: tuple[str, str] | None = None  # (path, new text) of a Dockerfile rewrite
    flagged: bool = True  # driven by a detector (else a generic step)


class SearchProposer:
    name = "search"
    needs_baseline = True

    def propose(self, request: ProposalRequest) -> Proposal:
        files = {f.path: f.text for f in request.files}
        knobs = {f.path: find_knobs(f) for f in request.files}
        notes: Counter[str] = Counter()
        refused = refused_values(request.history, files)
        fixes = [(o, m) for o, m in _fixes(request, knobs) if not _refused(m, refused, notes)]
        arms = {(o.path, o.key): o.category for o in request.opportunities if o.key}
        bandit = Bandit.from_history(request.history, files, arms)

        def arm(plan: Plan) -> str | None:
            if plan.category or not plan.moves:
                return plan.category
            return arms.get((plan.moves[0].knob.path, plan.moves[0].knob.key))

        flagged = [_fix_plan(request, opp, move) for opp, move in fixes]
        radical = bandit.order(_radical_plans(request, fixes, files, notes), arm)
        explore = bandit.order(_generic_plans(request, knobs), arm)
        filt = _Filter(request, files, notes, refused)
        incremental = filt.candidates(bandit.demote([*flagged, *explore], arm))
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


Fix = tuple[Opportunity, Move]


def _fixes(request: ProposalRequest, knobs: dict[str, list[Knob]]) -> list[Fix]:
    """The knob fix of each opportunity that names a knob, one per knob, highest priority first."""
    by_key = {(k.path, k.key): k for found in knobs.values() for k in found}
    opportunities = sorted(
        request.opportunities, key=lambda o: (-o.priority, o.path, o.line, o.key or "", o.category)
    )
    out, seen = [], set()
    for opp in opportunities:
        knob = by_key.get((opp.path, opp.key or ""))
        move = fix(knob, opp.category, request.config.sandbox.cpus) if knob else None
        if knob and move and (knob.path, knob.key) not in seen:
            seen.add((knob.path, knob.key))
            out.append((opp, move))
    return out


def _baseline(request: ProposalRequest) -> str:
    primary = request.config.objective.primary
    if request.baseline is None or primary not in request.baseline.metrics:
        return ""
    info, value = METRICS[primary], request.baseline.metrics[primary]
    return f" Baseline {info.label}: {value:.4g} {info.unit}, {request.baseline.source}."


def _change(move: Move) -> str:
    knob = move.knob
    if knob.type in ("int", "float") and isinstance(knob.value, int | float):
        verb = "Raise" if float(str(move.new_value)) > knob.value else "Lower"
        return f"{verb} {knob.key} from {knob.raw} to {move.new_raw}"
    return f"Set {knob.key} to {move.new_raw} (was {knob.raw})"


def _refused(move: Move, refused: set[Change], notes: Counter[str]) -> bool:
    if (move.knob.path, move.knob.key, move.new_raw) not in refused:
        return False
    where = f"{move.knob.path}: {move.knob.key} = {move.new_raw}"
    notes[f"not proposed, the value failed before (history): {where}"] += 1
    return True


def _fix_plan(request: ProposalRequest, opp: Opportunity, move: Move) -> Plan:
    why = f"{opp.why.rstrip('.')}. New value: {move.rule}.{_baseline(request)}"
    return Plan(_change(move), why, "incremental", opp.category, (move,))


def _radical_plans(
    request: ProposalRequest,
    fixes: list[Fix],
    files: dict[str, str],
    notes: Counter[str],
) -> list[Plan]:
    plans: list[Plan] = []
    moves = tuple(move for _, move in fixes)
    top = fixes[0][0].category if fixes else None
    if len(moves) >= 2:
        title = f"All {len(moves)} detector fixes together"
        listed = "; ".join(_change(m) for m in moves)
        why = f"Every flagged setting fixed at once: {listed}.{_baseline(request)}"
        plans.append(Plan(title, why, "radical", top, moves))
    fixed = {(opp.path, opp.line, opp.category) for opp, _ in fixes}
    plans += _rewrites(request, files, fixed, notes)
    bolder = tuple(_bolder(m) for m in moves)
    if len(moves) >= 2 and bolder != moves:
        why = f"The detector fixes with every raised number doubled again.{_baseline(request)}"
        title = f"All {len(moves)} detector fixes, bolder"
        plans.append(Plan(title, why, "radical", top, bolder))
    return plans


def _bolder(move: Move) -> Move:
    """A raised whole number raised twice as far; anything else as it was."""
    value, old = move.new_value, move.knob.value
    if move.knob.type != "int" or not isinstance(value, int) or not isinstance(old, int):
        return move
    if value <= old:
        return move
    return replace(move, new_value=value * 2, new_raw=str(value * 2), rule=f"{move.rule}, ×2")


def _rewrites(
    request: ProposalRequest,
    files: dict[str, str],
    fixed: set[tuple[str, int, str]],
    notes: Counter[str],
) -> list[Plan]:
    """Dockerfile rewrites for the opportunities no knob move fixes, by priority."""
    wanted = sorted(
        (o for o in request.opportunities if (o.path, o.line, o.category) not in fixed),
        key=lambda o: (-o.priority, o.path, o.line, o.category),
    )
    wanted = [o for o in wanted if o.path in files and format_of(o.path) is dockerfile_format]
    if not wanted:
        return []
    try:
        from mutbot.detect.dockerfile_fixes import rewrite
    except ImportError:
        notes["Dockerfile rewrites skipped: mutbot.detect.dockerfile_fixes is missing"] += 1
        return []
    plans = []
    for opp in wanted:
        new = rewrite(files[opp.path], opp)
        if new is not None and new != files[opp.path]:
            title = f"{opp.path}: fix {opp.category} ({CATEGORIES[opp.category][1]})"
            why = f"{opp.why.rstrip('.')} (line {opp.line}).{_baseline(request)}"
            plans.append(Plan(title[:200], why, "radical", opp.category, rewrite=(opp.path, new)))
    return plans


def _generic_plans(request: ProposalRequest, knobs: dict[str, list[Knob]]) -> list[Plan]:
    """Every generic move, by move type; the seed shuffles within a type."""
    moves = sorted(
        (m for path in sorted(knobs) for k in knobs[path] for m in generic(k)),
        key=lambda m: (m.rank, m.knob.path, m.knob.line, m.knob.key, m.new_raw),
    )
    rng = random.Random(request.seed)
    plans: list[Plan] = []
    for rank in sorted({m.rank for m in moves}):
        group = [m for m in moves if m.rank == rank]
        rng.shuffle(group)
        for m in group:
            why = f"Exploratory step on {m.knob.key}: {m.rule}.{_baseline(request)}"
            plans.append(Plan(_change(m), why, "incremental", None, (m,), flagged=False))
    return plans


class _Filter:
    """Builds each plan's diff and drops what sets a value that failed before, touches a kept
    setting, was proposed before or fails the diff policy, counting why in `notes`."""

    def __init__(
        self,
        request: ProposalRequest,
        files: dict[str, str],
        notes: Counter[str],
        refused: set[Change],
    ):
        self.request, self.files, self.notes, self.refused = request, files, notes, refused
        self.keep = [tuple(e.split(":", 1)) for e in request.config.propose.keep if ":" in e]
        self.dedupe = Deduper.from_history(request.history)
        self.history = {h.fingerprint for h in request.history}

    def candidates(self, plans: list[Plan]) -> list[tuple[Candidate, Plan]]:
        out = []
        for plan in plans:
            candidate = self._build(plan)
            if candidate is not None:
                out.append((candidate, plan))
        return out

    def _build(self, plan: Plan) -> Candidate | None:
        if any(_refused(move, self.refused, self.notes) for move in plan.moves):
            return None
        try:
            new = _apply(plan, self.files)
            kept = sorted(
                f"{path}:{key}"
                for path in new
                for key in changed_keys(path, self.files[path], new[path])
                if any(matches(path, (glob,)) and key == k for glob, k in self.keep)
            )
        except EditError as exc:
            self.notes[f"not proposed, the edit failed: {exc}"] += 1
            return None
        if kept:
            self.notes[f"not proposed, would change a kept setting ({', '.join(kept)})"] += 1
            return None
        old = {path: self.files[path] for path in new}
        diff = diff_files(old, new)
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


def _apply(plan: Plan, files: dict[str, str]) -> dict[str, str]:
    """The new text of every file the plan changes; edits later in a file go first, so the
    spans of earlier ones stay valid."""
    new: dict[str, str] = {}
    for move in sorted(plan.moves, key=lambda m: (m.knob.path, -m.knob.start)):
        path = move.knob.path
        new[path] = set_knob(new.get(path, files[path]), move.knob, move.new_raw)
    if plan.rewrite:
        new[plan.rewrite[0]] = plan.rewrite[1]
    return new


def _notes(notes: Counter[str]) -> list[str]:
    return [f"{text} ×{n}" if n > 1 else text for text, n in sorted(notes.items())]
