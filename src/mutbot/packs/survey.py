"""Every registered pack over one view (pure): the settings in effect, the findings with their
fixes, the exploratory moves, and the opportunities the run summary and the LLM prompt list.
A pack that fails on some input is a bug in that pack: it is recorded and the others go on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mutbot.discover.model import Repo
from mutbot.packs import PACKS, Pack
from mutbot.packs.model import Finding, Move, Seen
from mutbot.packs.view import View, build
from mutbot.proposers.base import CATEGORIES, Opportunity


@dataclass(frozen=True)
class Survey:
    seen: tuple[Seen, ...]
    findings: tuple[Finding, ...]  # highest priority first
    explore: tuple[Move, ...]
    notes: tuple[str, ...] = ()  # packs that failed, and why
    view: View | None = None

    def opportunities(self) -> list[Opportunity]:
        """Every finding as the detectors' opportunity record, one per fix."""
        found = {
            Opportunity(
                category=f.category, path=f.site.path, line=f.site.line, why=f.why, key=f.key
            )
            for f in self.findings
        }
        return sorted(found, key=lambda o: (-o.priority, o.path, o.line, o.category))


def survey(view: View, packs: Iterable[Pack] | None = None) -> Survey:
    seen: list[Seen] = []
    findings: list[Finding] = []
    explore: list[Move] = []
    notes: list[str] = []
    for pack in PACKS.values() if packs is None else packs:
        try:
            found = pack.scan(view)
            seen += found
            if found:
                findings += pack.detect(view, found)
                explore += pack.explore(view, found)
        except Exception as exc:  # a pack bug must not stop the run: recorded, the rest goes on
            notes.append(f"pack {pack.name} failed: {type(exc).__name__}: {exc}"[:300])
    findings = _one_per_title(findings)
    findings.sort(key=lambda f: (-CATEGORIES[f.category][0], f.site.path, f.site.line, f.title))
    return Survey(tuple(seen), tuple(findings), tuple(explore), tuple(notes), view)


def overlay(view: View, files: Mapping[str, str]) -> View:
    """The same sandbox over the repository with `files` in place of (or beside) its own."""
    names = sorted(set(view.repo.files) | set(files))
    repo = Repo(names, lambda path: files[path] if path in files else view.repo.read(path))
    return build(repo, view.sandbox, view.targets, view.baseline, view.resolved)


def settings(view: View, packs: Iterable[Pack] | None = None) -> dict[str, Seen]:
    """Every pack's settings in effect, by key; a failing pack sees nothing."""
    out: dict[str, Seen] = {}
    for pack in PACKS.values() if packs is None else packs:
        try:
            out |= {s.key: s for s in pack.scan(view)}
        except Exception:
            continue
    return out


def _one_per_title(findings: list[Finding]) -> list[Finding]:
    """One finding per fix: two packs (or two lines) that name the same fix make one."""
    out: dict[str, Finding] = {}
    for finding in findings:
        out.setdefault(finding.title, finding)
    return list(out.values())
