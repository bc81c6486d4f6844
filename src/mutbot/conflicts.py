"""Which changes are alternatives to each other (pure): two candidates conflict when they change
the same setting, or lines of the same file that git could not merge apart (overlapping or
adjacent). Merging one would make the other conflict, so they belong in one pull request: the
best of them opened, the others listed inside it.

A change's footprint is what it touches: the settings the technology packs read on both sides
(`CandidateResult.settings`) and, per file, the spans of old lines it replaces. A pure insertion
between old lines k and k+1 is the empty span (k + 0.5, k + 0.5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from mutbot.results import CandidateResult

Span = tuple[float, float]  # old line numbers, inclusive
WHOLE: Span = (0.0, float("inf"))  # a file created, deleted, renamed or changed without hunks


@dataclass(frozen=True)
class Footprint:
    settings: frozenset[str] = frozenset()
    spans: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)
    files: frozenset[str] = frozenset()  # what a diff unidiff cannot read touches, as a whole


def footprint(diff: str, settings: Iterable[str] = ()) -> Footprint:
    try:
        patch = PatchSet(diff)
    except UnidiffParseError:
        patch = None
    if patch is None or not len(patch):
        named = {line[6:].strip() for line in diff.splitlines() if line.startswith("+++ b/")}
        return Footprint(frozenset(settings), {}, frozenset(named))
    spans: dict[str, tuple[Span, ...]] = {}
    for changed in patch:
        path = changed.path
        if changed.is_added_file or changed.is_removed_file or changed.is_rename:
            spans[path] = (WHOLE,)
            continue
        found: list[Span] = []
        for hunk in changed:
            found += _hunk_spans(hunk)
        spans[path] = tuple(found) or (WHOLE,)  # a mode change, a binary file: all of it
    return Footprint(frozenset(settings), spans, frozenset())


def _hunk_spans(hunk: Iterable[object]) -> list[Span]:
    """Runs of removed lines, and insertion points between old lines."""
    out: list[Span] = []
    last_old = None  # the old line number of the line before, in hunk order
    run: list[float] = []
    for line in hunk:
        kind = getattr(line, "line_type", " ")
        old = getattr(line, "source_line_no", None)
        if kind == "-" and old is not None:
            run.append(float(old))
        elif kind == "+" and not run:
            point = (last_old or 0) + 0.5
            out.append((point, point))
        if kind != "-" and run:
            out.append((run[0], run[-1]))
            run = []
        if old is not None:
            last_old = old
    if run:
        out.append((run[0], run[-1]))
    return out


def conflict(a: Footprint, b: Footprint) -> str | None:
    """Why a and b cannot both be merged, in a few words; None when they can."""
    shared = sorted(a.settings & b.settings)
    if shared:
        return f"both change {', '.join(shared)}"
    whole = sorted((a.files | b.files) & (a.files | set(a.spans)) & (b.files | set(b.spans)))
    if whole:
        return f"both change {whole[0]}"
    for path in sorted(set(a.spans) & set(b.spans)):
        for first in a.spans[path]:
            for second in b.spans[path]:
                # git merges changes apart only with an unchanged line between them
                if first[0] - 1 <= second[1] and second[0] - 1 <= first[1]:
                    if WHOLE in (first, second):
                        return f"both change {path}"
                    return f"both change {path} near line {int(max(first[0], second[0]))}"
    return None


def conflict_sets(items: Sequence[tuple[str, Footprint]]) -> list[list[str]]:
    """Names grouped by conflicts, transitively (a with b and b with c: one set), each set and
    the sets in the order given (best first), so each set's first name is its best."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if conflict(items[i][1], items[j][1]) is not None:
                parent[max(root(i), root(j))] = min(root(i), root(j))
    sets: dict[int, list[str]] = {}
    for i, (name, _) in enumerate(items):
        sets.setdefault(root(i), []).append(name)
    return list(sets.values())


def footprint_of(candidate: CandidateResult) -> Footprint:
    return _parsed(candidate.diff, tuple(s.key for s in candidate.settings))


@lru_cache(maxsize=256)
def _parsed(diff: str, settings: tuple[str, ...]) -> Footprint:
    """Each diff parsed once: a set's members are compared pair by pair (`shared`)."""
    return footprint(diff, settings)


def sets_of(ranked: Sequence[CandidateResult]) -> list[list[CandidateResult]]:
    """The candidates' conflict sets, best first within each and by each set's best."""
    by_slug = {c.slug: c for c in ranked}
    names = conflict_sets([(c.slug, footprint_of(c)) for c in ranked])
    return [[by_slug[n] for n in group] for group in names]


def shared(member: CandidateResult, other: CandidateResult, group: list[CandidateResult]) -> str:
    """What `member` shares with `other` of its set: directly, or through a third member."""
    direct = conflict(footprint_of(other), footprint_of(member))
    if direct is not None:
        return direct
    for third in group:
        if third is not member:
            why = conflict(footprint_of(third), footprint_of(member))
            if why is not None:
                return f"{why} as {third.title} does"
    return "in the same set"


LIMIT = 20  # settings, files and spans per file kept in a pull request's marker
TEXT = 200  # characters of a setting key or a path


def to_data(print_: Footprint) -> dict[str, object]:
    """Plain JSON for a pull request's marker, bounded whatever the diff: a file with more than
    LIMIT spans is kept whole (it conflicts with more, never less); beyond LIMIT settings or
    LIMIT files (diff.max_files is 10 by default) the rest is dropped, and conflicts there go
    unseen."""
    spans: dict[str, object] = {}
    for path in sorted(print_.spans)[:LIMIT]:
        listed = print_.spans[path]
        if len(listed) > LIMIT or WHOLE in listed:
            spans[path[:TEXT]] = [[0, -1]]
        else:
            spans[path[:TEXT]] = [[a, b] for a, b in listed]
    whole = sorted(print_.files | set(sorted(print_.spans)[LIMIT:]))
    return {
        "settings": sorted(print_.settings)[:LIMIT],
        "spans": spans,
        "files": [p[:TEXT] for p in whole[:LIMIT]],
    }


def from_data(data: object) -> Footprint | None:
    """A marker's footprint back, or None when it is missing or not what to_data writes (a
    body is anyone's text)."""
    if not isinstance(data, dict):
        return None
    settings, spans, files = data.get("settings"), data.get("spans"), data.get("files")
    if not (isinstance(settings, list) and isinstance(spans, dict) and isinstance(files, list)):
        return None
    if not all(isinstance(x, str) for x in [*settings, *files]):
        return None
    read: dict[str, tuple[Span, ...]] = {}
    for path, listed in spans.items():
        if not isinstance(listed, list):
            return None
        out: list[Span] = []
        for span in listed:
            if not (isinstance(span, list) and len(span) == 2):
                return None
            if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in span):
                return None
            out.append(WHOLE if span == [0, -1] else (float(span[0]), float(span[1])))
        read[str(path)] = tuple(out)
    return Footprint(frozenset(settings), read, frozenset(files))
