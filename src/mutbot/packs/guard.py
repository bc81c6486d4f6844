"""The never-change and measurable rules, for the candidates of every proposer (pure).

Both sides of a candidate are scanned with every pack; the settings whose state differs are
what it changes. It is refused when it changes a `never` setting, when a file it changes is one
the measured sandbox never reads, or when a line it changes is accounted for by no changed
setting (a number no pack knows to be a tuning setting). Of a compose file or Kubernetes
manifest only the measured service's resources are measured (the candidate side runs with its
limits): any other setting changed there is refused. With no pack given, the guard refuses
nothing and only says which sandbox inputs the changed files reach."""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mutbot.discover.model import Repo
from mutbot.packs import PACKS, Pack
from mutbot.packs.model import Reaches, Safety, Seen, Site, Value
from mutbot.packs.view import View, build

Files = Mapping[str, str | None]  # path -> text; None: no such file on that side
INPUTS: tuple[Reaches, ...] = ("build", "command", "environment", "resources", "none")
NEVER = (
    "never changed: ports, bind addresses and hosts, TLS, auth and secrets, users and security "
    "contexts, probes and health checks, replicas of stateful services"
)
UNKNOWN = "not a setting any pack knows to be a tuning setting"
RESOURCES = (
    "in compose files and Kubernetes manifests only the measured service's resources reach the "
    "sandbox"
)
_SLASH_COMMENTS = {".js", ".mjs", ".cjs", ".ts", ".go", ".jsonc", ".json5", ".java", ".kt"}
_SEMICOLON_COMMENTS = {".ini", ".cfg"}
_DIRECTIVES = ("syntax=", "escape=", "check=")  # Dockerfile parser directives are not comments


@dataclass(frozen=True)
class Changed:
    """One setting a candidate changes; a side where no pack sees it reads None, unwritten."""

    key: str  # "gunicorn.workers"
    safety: Safety  # the strictest either side says
    before: Value
    after: Value
    written: tuple[bool, bool]  # written before, after (else its default is in effect)
    site: Site | None  # where it is written after the change, else where it was
    reaches: Reaches


@dataclass(frozen=True)
class Guarded:
    problem: str | None  # why the candidate is refused, in one line; None: it passes
    reaches: tuple[Reaches, ...]  # the sandbox inputs the change reaches, in INPUTS order
    changed: tuple[Changed, ...]  # by key

    @property
    def ok(self) -> bool:
        return self.problem is None


def check(view: View, before: Files, after: Files, packs: Iterable[Pack] | None = None) -> Guarded:
    """`view`: the baseline as the sandbox sees it; `before` and `after`: the text of each file
    the candidate changes on either side; `packs`: the registered packs unless given."""
    paths = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    later = _after(view, after)
    files = {p: _reach(view, later, p) for p in paths}
    chosen = list(PACKS.values() if packs is None else packs)
    if not chosen:
        return Guarded(None, _inputs(files.values()), ())
    old, new, broken = _scan(view, later, chosen)
    changed = _changed(old, new, files, view)
    reaches = _inputs(c.reaches for c in changed)
    problem = broken or _problem(changed, files, before, after, old, new)
    return Guarded(problem, reaches, changed)


def _problem(
    changed: tuple[Changed, ...],
    files: dict[str, Reaches],
    before: Files,
    after: Files,
    old: dict[str, list[Seen]],
    new: dict[str, list[Seen]],
) -> str | None:
    """Named settings first: "changes gunicorn.bind" says more than a line number."""
    for change in changed:
        if change.safety == "never":
            at = f" at {change.site}" if change.site else ""
            return f"changes {change.key}{at} ({NEVER})"
    for path, reach in files.items():
        if reach == "none":
            return f"not measured: the sandbox never reads {path}"
    for change in changed:
        where = change.site.path if change.site else None
        if change.reaches == "none" and where is not None and files.get(where) == "resources":
            return f"not measured: {change.key} at {change.site} ({RESOURCES})"
    keys = {c.key for c in changed}
    for path in files:
        line = _unaccounted(
            path,
            (before.get(path) or "").splitlines(),
            (after.get(path) or "").splitlines(),
            [s for k in keys for s in old.get(k, [])],
            [s for k in keys for s in new.get(k, [])],
        )
        if line is not None:
            return f"{UNKNOWN}: {path}:{line}"
    if not changed:
        return f"{UNKNOWN}: it changes only comments, blank lines or file modes"
    return None


def _after(view: View, after: Files) -> View:
    """The same sandbox over the repository as the candidate leaves it."""
    gone = {p for p, text in after.items() if text is None}
    names = sorted((set(view.repo.files) | set(after)) - gone)
    repo = Repo(names, lambda path: after[path] if path in after else view.repo.read(path))
    return build(repo, view.sandbox, view.targets, view.baseline, view.resolved)


def _reach(view: View, later: View, path: str) -> Reaches:
    """What the sandbox reads of `path` on either side (a new file may be copied by the new
    Dockerfile, a deleted one was read before)."""
    found = view.reaches(path)
    return found if found != "none" else later.reaches(path)


def _inputs(found: Iterable[Reaches]) -> tuple[Reaches, ...]:
    seen = set(found)
    return tuple(r for r in INPUTS if r in seen)


def _scan(
    view: View, later: View, packs: list[Pack]
) -> tuple[dict[str, list[Seen]], dict[str, list[Seen]], str | None]:
    """Every pack over both sides. A pack that fails on the baseline sees nothing on either
    side; one that fails only on the candidate's files cannot vouch for them: refused."""
    old: dict[str, list[Seen]] = {}
    new: dict[str, list[Seen]] = {}
    for pack in packs:
        try:
            first = pack.scan(view)
        except Exception:  # a pack bug must not stop the run (mutbot.packs.survey notes it)
            continue
        try:
            second = pack.scan(later)
        except Exception as exc:
            return old, new, f"the {pack.name} pack cannot read the changed files: {exc}"[:300]
        for side, found in ((old, first), (new, second)):
            for seen in found:
                side.setdefault(seen.key, []).append(seen)
    return old, new, None


def _state(seen: list[Seen]) -> list[tuple[str, bool, str]]:
    return sorted((repr(s.value), s.written, repr(s.raw)) for s in seen)


def _changed(
    old: dict[str, list[Seen]], new: dict[str, list[Seen]], files: dict[str, Reaches], view: View
) -> tuple[Changed, ...]:
    out = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key, []), new.get(key, [])
        if _state(was) == _state(now):
            continue
        first, last = (was[0] if was else None), (now[0] if now else None)
        safeties = {s.setting.safety for s in (*was, *now)}
        safety: Safety = next(s for s in ("never", "prove", "tune") if s in safeties)
        site = (last.site if last else None) or (first.site if first else None)
        reached: list[Reaches] = [
            s.reaches for s in (last, first) if s is not None and s.reaches != "none"
        ]
        if not reached and site is not None:
            found = files.get(site.path) or view.reaches(site.path)
            # a deployment file reaches the sandbox only through the measured service's limits
            reached = [found] if found != "resources" else []
        out.append(
            Changed(
                key=key,
                safety=safety,
                before=first.value if first else None,
                after=last.value if last else None,
                written=(bool(first and first.written), bool(last and last.written)),
                site=site,
                reaches=reached[0] if reached else "none",
            )
        )
    return tuple(out)


def _unaccounted(
    path: str, old: list[str], new: list[str], was: list[Seen], now: list[Seen]
) -> int | None:
    """The first changed line of `path` that no changed setting accounts for. A setting
    accounts for the logical line it is written on (backslash continuations included) on
    each side; a setting added (or removed) accounts for the whole block of lines inserted
    (or deleted) with it, such as the section header a new INI key needs."""
    spans_old, spans_new = _spans(path, old, was), _spans(path, new, now)
    added = _written_lines(path, now, {s.key for s in was if s.written})
    removed = _written_lines(path, was, {s.key for s in now if s.written})
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert" and added & set(range(j1 + 1, j2 + 1)):
            continue
        if tag == "delete" and removed & set(range(i1 + 1, i2 + 1)):
            continue
        for number in range(i1 + 1, i2 + 1):
            if number not in spans_old and not neutral(path, old[number - 1]):
                return number
        for number in range(j1 + 1, j2 + 1):
            if number not in spans_new and not neutral(path, new[number - 1]):
                return number
    return None


def _written_lines(path: str, seen: list[Seen], also: set[str]) -> set[int]:
    """Where `path` holds a setting written on this side only (its key not in `also`)."""
    return {
        s.site.line
        for s in seen
        if s.written and s.key not in also and s.site is not None and s.site.path == path
    }


def _spans(path: str, lines: list[str], seen: list[Seen]) -> set[int]:
    """The lines the settings are written on, whole logical lines."""
    out: set[int] = set()
    for found in seen:
        if found.site is None or found.site.path != path or not 1 <= found.site.line <= len(lines):
            continue
        first = found.site.line
        last = first + (found.raw.count("\n") if found.raw else 0)
        while first > 1 and lines[first - 2].rstrip().endswith("\\"):
            first -= 1
        while last < len(lines) and lines[last - 1].rstrip().endswith("\\"):
            last += 1
        out |= set(range(first, last + 1))
    return out


def neutral(path: str, line: str) -> bool:
    """A blank line or a comment: changing it changes no setting."""
    text = line.strip()
    if not text:
        return True
    suffix = posixpath.splitext(path)[1].lower()
    if suffix in _SLASH_COMMENTS:  # `#x = 1` is code in JavaScript
        return text.startswith("//")
    if text.startswith("#"):
        rest = text[1:].strip().lower()
        return not text.startswith("#!") and not rest.startswith(_DIRECTIVES)
    return text.startswith(";") and suffix in _SEMICOLON_COMMENTS
