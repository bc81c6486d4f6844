"""What the search proposer learns from the history of earlier candidates (pure).

Refused values: a candidate that failed — rejected by the judge, closed unmerged by a
maintainer or reverted — or that a maintainer ignored (`/mutate ignore`), and whose diff still
applies to today's files names the setting it changed and the value it tried; the search
proposer never sets that value again. Only a candidate that changed exactly one setting, and no
other text, is held against its value: when a bundle of several changes fails, no single one of
them can be blamed.

Which categories to try first: each opportunity category is a bandit arm with a
Beta(1 + successes, 1 + failures) posterior, from the history (a success: the judge proposed it
and no maintainer closed or reverted it, or it was merged; a failure: rejected, closed unmerged
or reverted; other entries count for neither). A candidate without a category counts for the
category of the opportunity on the setting it changed, else for the uncategorised arm. Arms are
ranked by the posterior mean plus an upper-confidence bonus,
`score = a / (a + b) + 0.5 · sqrt(ln(N + 2) / (a + b))` with `a = 1 + successes`,
`b = 1 + failures` and `N` the outcomes counted over all arms: untried categories keep a fair
chance, categories that paid off move forward, ones that keep failing move back. The score is
deterministic, so a seed gives the same order every time. The search proposer orders its
generic moves and radical bundles by it (ties keep their usual order); detector fixes keep
their priority order, except that a category with three or more failures and no success is
tried only after every category the history has not disproven."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk, PatchedFile, PatchSet

from mutbot.edits import EditError
from mutbot.knobs import changed_keys, find_knobs
from mutbot.packs.survey import Survey, overlay, settings
from mutbot.proposers.base import HistoryEntry, TargetFile

Change = tuple[str, str, str]  # (path, knob key, new raw value)
T = TypeVar("T")

EXPLORATION = 0.5  # weight of the upper-confidence bonus
DISPROVEN_AFTER = 3  # failures without a success that move a category behind untried ones


def failed(entry: HistoryEntry) -> bool:
    """Rejected by the judge for good, closed unmerged by a maintainer, or merged and reverted
    (inconclusive or screened out is no failure: nothing was shown)."""
    return entry.outcome in ("closed", "reverted") or (
        entry.verdict == "reject" and entry.final and entry.outcome != "merged"
    )


def succeeded(entry: HistoryEntry) -> bool:
    """Merged, or proposed and not turned down (ignored is no success: nobody wanted it)."""
    return entry.outcome == "merged" or (
        entry.verdict == "propose" and not failed(entry) and entry.outcome != "ignored"
    )


def barred(entry: HistoryEntry) -> bool:
    """Never tried again: a failure, or what a maintainer ignored (`/mutate ignore`). An ignore
    is no failure: the category learns nothing from it, the setting's value is never set again.
    A superseded pull request (an alternative was merged) is neither."""
    return failed(entry) or entry.outcome == "ignored"


def apply_diff(diff: str, files: Mapping[str, str]) -> dict[str, str] | None:
    """The new text of every file the diff changes, or None unless every hunk applies to the
    current text (its context and removed lines found where it says, or found once)."""
    try:
        patch = PatchSet(diff)
    except UnidiffParseError:
        return None
    if not patch:
        return None
    new: dict[str, str] = {}
    for patched in patch:
        if patched.is_added_file or patched.is_removed_file or patched.path not in files:
            return None
        text = _apply_file(patched, files[patched.path])
        if text is None:
            return None
        new[patched.path] = text
    return new


def _apply_file(patched: PatchedFile, text: str) -> str | None:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    done = 0  # lines of `lines` already copied or replaced
    for hunk in patched:
        source, target = _sides(hunk)
        start = hunk.source_start - (1 if source else 0)
        at = _find(lines, source, max(start, done), done)
        if at is None:
            return None
        out += lines[done:at] + target
        done = at + len(source)
    return "".join(out + lines[done:])


def _sides(hunk: Hunk) -> tuple[list[str], list[str]]:
    """The hunk's old lines and new lines, a missing newline at the end of file kept."""
    source: list[str] = []
    target: list[str] = []
    last: tuple[list[str], ...] = ()
    for line in hunk:
        if line.line_type == "\\":  # "No newline at end of file" for the line before
            for side in last:
                side[-1] = side[-1].removesuffix("\n")
            continue
        last = {" ": (source, target), "-": (source,), "+": (target,)}.get(line.line_type, ())
        for side in last:
            side.append(str(line.value))
    return source, target


def _find(lines: list[str], block: list[str], start: int, floor: int) -> int | None:
    """Where `block` sits: at `start` when it matches there, else its only match after
    `floor` (the file moved since the diff was made); None when absent or ambiguous."""
    n = len(block)
    if lines[start : start + n] == block:
        return start
    if not block:
        return None
    hits = [i for i in range(floor, len(lines) - n + 1) if lines[i : i + n] == block]
    return hits[0] if len(hits) == 1 else None


def changes(entry: HistoryEntry, files: Mapping[str, str]) -> frozenset[Change] | None:
    """The settings the entry's diff changes in today's files, each with the value it sets;
    None when the diff no longer applies or a file stops parsing."""
    new = apply_diff(entry.diff, files) if entry.diff.strip() else None
    if new is None:
        return None
    out: set[Change] = set()
    try:
        for path, text in new.items():
            keys = changed_keys(path, files[path], text)
            raw = {k.key: k.raw for k in find_knobs(TargetFile(path, text))}
            out |= {(path, key, raw[key]) for key in keys if key in raw}
    except EditError:
        return None
    return frozenset(out)


def refused_values(history: Iterable[HistoryEntry], files: Mapping[str, str]) -> set[Change]:
    """(path, key, value) that a failed candidate changing that one setting, and nothing
    else, tried."""
    refused: set[Change] = set()
    for entry in history:
        if barred(entry):
            found = _only_change(entry, files)
            if found is not None:
                refused.add(found)
    return refused


def refused_settings(
    history: Iterable[HistoryEntry], survey: Survey | None
) -> set[tuple[str, str]]:
    """(setting key, repr of the value) that a failed candidate changing that one setting, and
    nothing else, tried: read by scanning the repository with its diff applied."""
    if survey is None or survey.view is None:
        return set()
    view = survey.view
    before = {s.key: s.value for s in survey.seen}
    files = {p: text for p in sorted(view.targets) if (text := view.repo.read(p)) is not None}
    refused: set[tuple[str, str]] = set()
    for entry in history:
        new = apply_diff(entry.diff, files) if barred(entry) and entry.diff.strip() else None
        if not new:
            continue
        after = settings(overlay(view, new))
        changed = [k for k, s in after.items() if k not in before or before[k] != s.value]
        if len(changed) == 1:
            refused.add((changed[0], repr(after[changed[0]].value)))
    return refused


def _only_change(entry: HistoryEntry, files: Mapping[str, str]) -> Change | None:
    """The one setting the entry changes, when its diff changes that value's text alone."""
    new = apply_diff(entry.diff, files) if entry.diff.strip() else None
    found = changes(entry, files)
    if new is None or found is None or len(new) != 1 or len(found) != 1:
        return None
    (path, key, raw), old = next(iter(found)), files[next(iter(new))]
    knob = next((k for k in find_knobs(TargetFile(path, old)) if k.key == key), None)
    if knob is None or old[: knob.start] + raw + old[knob.end :] != new[path]:
        return None
    return path, key, raw


@dataclass(frozen=True)
class Tally:
    successes: int = 0
    failures: int = 0

    @property
    def disproven(self) -> bool:
        return self.failures >= DISPROVEN_AFTER and self.successes == 0


@dataclass(frozen=True)
class Bandit:
    """Beta posteriors per category (None: candidates without one); see the module docstring."""

    tallies: Mapping[str | None, Tally] = field(default_factory=dict)

    @classmethod
    def from_history(
        cls,
        history: Iterable[HistoryEntry],
        files: Mapping[str, str],
        flagged: Mapping[tuple[str, str], str],
    ) -> Bandit:
        """`flagged`: (path, key) → the category of the opportunity on that setting."""
        counts: dict[str | None, tuple[int, int]] = {}
        for entry in history:
            win, loss = succeeded(entry), failed(entry)
            if not (win or loss):
                continue
            arm = entry.category or _arm_of(entry, files, flagged)
            s, f = counts.get(arm, (0, 0))
            counts[arm] = (s + win, f + loss)
        return cls({arm: Tally(s, f) for arm, (s, f) in counts.items()})

    def tally(self, arm: str | None) -> Tally:
        return self.tallies.get(arm, Tally())

    def score(self, arm: str | None) -> float:
        t = self.tally(arm)
        a, b = 1 + t.successes, 1 + t.failures
        total = sum(x.successes + x.failures for x in self.tallies.values())
        return a / (a + b) + EXPLORATION * math.sqrt(math.log(total + 2) / (a + b))

    def disproven(self, arm: str | None) -> bool:
        return self.tally(arm).disproven

    def order(self, items: Sequence[T], arm: Callable[[T], str | None]) -> list[T]:
        """Best score first; equal scores keep their order."""
        return sorted(items, key=lambda item: -self.score(arm(item)))

    def demote(self, items: Sequence[T], arm: Callable[[T], str | None]) -> list[T]:
        """The order kept, disproven categories moved to the end."""
        return sorted(items, key=lambda item: self.disproven(arm(item)))


def _arm_of(
    entry: HistoryEntry, files: Mapping[str, str], flagged: Mapping[tuple[str, str], str]
) -> str | None:
    found = changes(entry, files) or frozenset()
    categories = sorted({flagged[(p, k)] for p, k, _ in found if (p, k) in flagged})
    return categories[0] if len(categories) == 1 else None
