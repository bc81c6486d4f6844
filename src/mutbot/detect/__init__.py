"""Detectors: static checks over the target files that name concrete opportunities (pure).

Each detector is a function from one target file to the opportunities it sees there; the
registry maps a name to it, like pre-commit's languages. Detectors feed both proposers and the
run summary."""

from __future__ import annotations

from collections.abc import Callable

from mutbot.detect import dockerfile, orchestration, settings
from mutbot.proposers.base import DetectContext, Opportunity, TargetFile

Detector = Callable[[TargetFile, DetectContext], list[Opportunity]]

DETECTORS: dict[str, Detector] = {
    "dockerfile": dockerfile.detect,
    "settings": settings.detect,
    "orchestration": orchestration.detect,
}


def detect(files: tuple[TargetFile, ...], context: DetectContext) -> list[Opportunity]:
    """Every detector over every file, highest priority first, then by file and line."""
    found = {o for f in files for run in DETECTORS.values() for o in run(f, context)}
    return sorted(found, key=lambda o: (-o.priority, o.path, o.line, o.category))
