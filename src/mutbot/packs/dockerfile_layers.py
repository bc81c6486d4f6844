"""The Dockerfile pack's layer detectors (pure), one finding per fix: package caches left in
layers (pip, apt, apk: one finding each, its fix editing every RUN that needs it), the whole
source copied before the dependency install, and build tools shipped by a single-stage build.
The last two are fixed by moving and adding instructions, not by one setting: their findings
are listed without a move, and `rewrite` gives the edit (the checked rewrites of
`dockerfile_rewrite`) to a proposer that makes whole-file candidates."""

from __future__ import annotations

from collections.abc import Callable

from mutbot.discover.dockerfile_syntax import Instruction
from mutbot.packs import dockerfile_rewrite as restructure
from mutbot.packs import dockerfile_runs as runs
from mutbot.packs.dockerfile_moves import changed_span, finding, inserted
from mutbot.packs.dockerfile_read import Built, entries
from mutbot.packs.model import Edit, Finding, Move, Seen

Changes = list[tuple[int, int, str]]
REWRITTEN = {
    "cache-busting-copy": "Install dependencies before copying the source",
    "single-stage-build": "Build in a builder stage, ship only its output",
}


def layer_findings(built: Built, named: dict[str, Seen]) -> list[Finding]:
    return [
        *_pip(built, named),
        *_apt(built, named),
        *_apk(built, named),
        *_restructured(built, "cache-busting-copy", REWRITTEN["cache-busting-copy"]),
        *_restructured(built, "single-stage-build", REWRITTEN["single-stage-build"]),
    ]


def _chain_runs(built: Built) -> list[tuple[str, Instruction, bool]]:
    """(setting name, RUN, whether an earlier ENV set PIP_NO_CACHE_DIR) along the chain."""
    names = {e.line: e.name for e in entries(built) if e.kind == "RUN"}
    out, no_cache = [], False
    for index in built.chain:
        for ins in built.stages[index].body:
            if ins.name == "ENV" and "PIP_NO_CACHE_DIR" in ins.value:
                no_cache = True
            elif ins.name == "RUN" and ins.line in names:
                out.append((names[ins.line], ins, no_cache))
    return out


def _each(
    built: Built,
    named: dict[str, Seen],
    flagged: Callable[[Instruction, bool], bool],
    changes: Callable[[Instruction, int, int], Changes],
    still: Callable[[Instruction, str], bool],
    rule: str,
) -> tuple[list[int], list[Move]]:
    """The lines of the chain's flagged RUNs, and a move for each one that can be fixed."""
    lines, moves = [], []
    for name, ins, no_cache in _chain_runs(built):
        if not flagged(ins, no_cache):
            continue
        lines.append(ins.line)
        if ins.value.lstrip().startswith("["):
            continue  # exec form: no shell, nothing to insert into
        start, end = built.body_span(ins)
        move = inserted(built, named.get(name), changes(ins, start, end), _bound(still, ins), rule)
        moves += [move] if move else []
    return lines, moves


def _bound(still: Callable[[Instruction, str], bool], ins: Instruction) -> Callable[[str], bool]:
    return lambda value: still(ins, value)


def _shown(lines: list[int]) -> str:
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines))


def _pip(built: Built, named: dict[str, Seen]) -> list[Finding]:
    def changes(ins: Instruction, start: int, end: int) -> Changes:
        return [(at, at, text) for at, text in runs.pip_inserts(built.text, start, end)]

    lines, moves = _each(
        built,
        named,
        lambda ins, no_cache: runs.pip_cache_kept(ins.value, no_cache),
        changes,
        lambda _, value: runs.pip_cache_kept(value, False),
        "pip's --no-cache-dir",
    )
    if not lines:
        return []
    why = "`pip install` without --no-cache-dir keeps pip's download cache in the layer"
    why += f" ({_shown(lines)})"
    title = "Install Python packages with pip --no-cache-dir"
    return [
        finding(
            built, "package-cache-in-layer", lines[0], why, title, moves, _name(built, lines[0])
        )
    ]


def _apt(built: Built, named: dict[str, Seen]) -> list[Finding]:
    """One finding for every `apt-get install` that keeps recommends or the package lists. The
    lists are removed only where no later RUN installs without updating them first."""
    off: dict[int, bool] = {}  # apt told not to install recommends by an earlier RUN
    left: dict[int, list[str]] = {}
    fixable: dict[int, list[str]] = {}
    chain = [ins for _, ins, _ in _chain_runs(built)]
    told = False
    for at, ins in enumerate(chain):
        off[ins.line] = told
        left[ins.line] = runs.apt_left(ins.value, told)
        told = told or "Install-Recommends" in ins.value
        later = any(runs.installs_without_update(i.value) for i in chain[at + 1 :])
        fixable[ins.line] = [w for w in left[ins.line] if not (later and w == runs.LISTS)]

    def changes(ins: Instruction, start: int, end: int) -> Changes:
        wanted = fixable[ins.line]
        inserts = runs.apt_inserts(
            built.text, start, end, runs.RECOMMENDS in wanted, runs.LISTS in wanted
        )
        return [(at, at, text) for at, text in inserts]

    def still(ins: Instruction, value: str) -> bool:
        return bool(set(fixable[ins.line]) & set(runs.apt_left(value, off[ins.line])))

    lines, moves = _each(
        built,
        named,
        lambda ins, _: bool(left[ins.line]),
        changes,
        still,
        "apt-get --no-install-recommends, package lists removed",
    )
    if not lines:
        return []
    kept = sorted({what for line in lines for what in left[line]})
    why = f"`apt-get install` keeps {' and '.join(kept)} in the layer ({_shown(lines)})"
    title = "Install apt packages with --no-install-recommends and remove the package lists"
    name = _name(built, lines[0])
    return [finding(built, "package-cache-in-layer", lines[0], why, title, moves, name)]


def _apk(built: Built, named: dict[str, Seen]) -> list[Finding]:
    def changes(ins: Instruction, start: int, end: int) -> Changes:
        return runs.apk_edits(built.text, start, end)

    lines, moves = _each(
        built, named, lambda ins, _: runs.apk_left(ins.value), changes,
        lambda _, value: runs.apk_left(value), "apk add --no-cache",
    )  # fmt: skip
    if not lines:
        return []
    why = "`apk update`/`apk add` without --no-cache keeps the package index in the layer"
    why += f" ({_shown(lines)})"
    title = "Install apk packages with --no-cache"
    return [
        finding(
            built, "package-cache-in-layer", lines[0], why, title, moves, _name(built, lines[0])
        )
    ]


def _name(built: Built, line: int) -> str | None:
    return next((e.name for e in entries(built) if e.line == line), None)


def _restructured(built: Built, category: str, title: str) -> list[Finding]:
    """A cache-busting copy or single-stage build in a built stage. Its fix moves and adds
    instructions, so it is no single-setting move: listed here, rewritten by `rewrite` for a
    proposer that makes whole-file candidates (the build and the measurement prove those)."""
    out = []
    for found, line, why in restructure.findings(built.text):
        index = built.stage_of(line - 1)
        if found == category and index is not None and index in built.chain:
            shown = f"{title} ({built.path}:{line})"
            out.append(finding(built, category, line, why, shown, (), _name(built, line)))
    return out


def rewrite(built: Built, found: Finding) -> tuple[Edit, ...]:
    """The one edit that fixes a cache-busting-copy or single-stage-build finding (the checked
    rewrites of `dockerfile_rewrite`); () when no safe rewrite is known."""
    if found.category not in REWRITTEN or found.site.path != built.path:
        return ()
    new = restructure.rewrite(built.text, found.category, found.site.line)
    return (changed_span(built, new),) if new and new != built.text else ()
